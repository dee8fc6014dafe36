"""
The line editor's words for the console model's notices: what the operator
reads above the input line.  The pipe's words are L{twisted_names.console.plain}'s.

Pure: a notice in, text out (L{editorText}).
"""

from __future__ import annotations

from typing import Protocol

from twisted_names.console.model import (
    LIST_MAX,
    Answered,
    Arrived,
    Confirm,
    Dropped,
    Ended,
    Greeting,
    InputClosed,
    KeepWhileWaiting,
    Kept,
    KeptList,
    Left,
    NobodyToAnswer,
    Notice,
    Now,
    RefusedClosed,
    ReplyRefused,
    Said,
    Stopping,
    UnknownCommand,
    WaitingList,
    departureText,
    stoppingText,
)
from twisted_names.display import quoted
from twisted_names.i18n import N_, _, ngettext
from twisted_names.replies import Departure, Waiter

__all__ = ["HELP", "EditorLines", "editorText", "who"]


class _Screen(Protocol):
    """Where text is shown above an input line."""

    def notice(self, text: str) -> None:
        """Show C{text} (one or more lines) above the input line."""

    def promptChanged(self) -> None:
        """The prompt has changed: draw it again."""


HELP = N_(
    """\
Type a reply and press Enter: it goes to the client the prompt names.
Commands:
  /who          list the clients waiting (position, name, address, how long)
  /close        close the client at the head of the line without a reply
  /keep REPLY   keep REPLY for the next client to arrive (only while nobody waits)
  /kept         show the kept replies
  /drop         forget the kept replies
  /stop         stop the server (as Ctrl-C does)
  /help         this text
A reply that starts with / is typed with two: //reply sends /reply.
Keys: Ctrl-D on an empty line: no more replies.  Ctrl-C: stop.  Ctrl-L: redraw."""
)


def who(waiter: Waiter, chat: bool = False) -> str:
    """A client as the notices name it: its name (in chat: its line) and address."""
    if chat:
        return waiter.peer
    return f"{quoted(waiter.name)} ({waiter.peer})"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    return _("{minutes} min {seconds} s").format(minutes=seconds // 60, seconds=seconds % 60)


def _more(count: int) -> str:
    """The last row of a list cut at L{LIST_MAX}."""
    return ngettext("… and {count} more.", "… and {count} more.", count).format(count=count)


def _retargeted(text: str, now: Now, chat: bool) -> str:
    """C{text}, and, in the same notice, that the line being typed now answers someone else."""
    if not now.retargeted:
        return text
    if now.head is None:
        more = _("Nobody is waiting now: your line will not be sent.")
    else:
        more = _("Your line now answers {who}: Enter asks you to confirm.").format(
            who=who(now.head, chat)
        )
    return f"{text} {more}"


_SAID = {
    Said.INPUT_CLOSED: N_("Not sent: the input is closed, no more replies. Ctrl-C stops."),
    Said.NOBODY_WAITING: N_("Nobody is waiting."),
    Said.NOBODY_TO_CLOSE: N_("Nobody is waiting: nobody to close."),
    Said.NOTHING_KEPT: N_("No replies are kept."),
    Said.KEEP_NEEDS_REPLY: N_(
        "/keep needs the reply to keep: /keep REPLY. The line was cleared; ↑ brings it back."
    ),
    Said.KEEP_INPUT_CLOSED: N_("Not kept: the input is closed."),
    Said.HELP: HELP,
}


def editorText(notice: Notice, chat: bool = False) -> str:
    """
    What the editor shows for C{notice}: one or more lines.

    @param chat: the server is in chat mode: clients are named by address,
        and their lines are what they say.
    """
    if isinstance(notice, Said):
        return _(_SAID[notice])
    if isinstance(notice, Greeting):
        return _(
            "names-server: listening on {where}.\n"
            "Clients' names appear here; type a reply and press Enter."
            " /help lists the commands."
        ).format(where=notice.where)
    if isinstance(notice, Stopping):
        return stoppingText(notice.closed)
    if isinstance(notice, (ReplyRefused, NobodyToAnswer, Confirm, UnknownCommand)):
        return _lineText(notice, chat)
    if isinstance(notice, (KeepWhileWaiting, WaitingList, KeptList, Dropped)):
        return _commandText(notice, chat)
    return _retargeted(_eventText(notice, chat), notice.now, chat)


def _lineText(notice: ReplyRefused | NobodyToAnswer | Confirm | UnknownCommand, chat: bool) -> str:
    """A line entered and not sent, and why."""
    if isinstance(notice, ReplyRefused):
        if notice.kept:
            return _("Not kept: {reason}. The line was cleared; ↑ brings it back.").format(
                reason=notice.reason
            )
        return _("Not sent: {reason}. The line stays, for you to fix.").format(
            reason=notice.reason
        )
    if isinstance(notice, NobodyToAnswer):
        return _(
            "Not sent: nobody is waiting. To keep it for the next client: /keep {reply}"
            " (↑ brings the line back)."
        ).format(reply=notice.reply)
    if isinstance(notice, Confirm):
        target = notice.target
        if target is None:
            text = _(
                "Not sent yet: this line was begun while nobody waited; it would go to"
                " {who}. Press Enter again to send it, or Ctrl-U to clear it."
            )
        else:
            text = _(
                "Not sent yet: this line was begun for {target}; it would go to {who}."
                " Press Enter again to send it, or Ctrl-U to clear it."
            )
        return text.format(target=who(target, chat) if target else "", who=who(notice.head, chat))
    return _(
        "Unknown command {command}: /help lists the commands."
        " A reply that starts with / is typed //. The line was cleared;"
        " ↑ brings it back."
    ).format(command=quoted(notice.word))


def _commandText(notice: KeepWhileWaiting | WaitingList | KeptList | Dropped, chat: bool) -> str:
    """What a command answers."""
    if isinstance(notice, KeepWhileWaiting):
        return _(
            "Not kept: {who} is waiting now; type the reply without /keep."
            " The line was cleared; ↑ brings it back."
        ).format(who=who(notice.head, chat))
    if isinstance(notice, WaitingList):
        waiters = notice.waiters
        row = (
            _("{position}. {who} says {name}, waiting {duration}")
            if chat
            else _("{position}. {who}, waiting {duration}")
        )
        rows = [
            row.format(
                position=i,
                who=who(w, chat),
                name=quoted(w.name),
                duration=_duration(notice.at - w.since),
            )
            for i, w in enumerate(waiters[:LIST_MAX], 1)
        ]
        if len(waiters) > LIST_MAX:
            rows.append(_more(len(waiters) - LIST_MAX))
        count = len(waiters)
        title = ngettext("{count} client waiting:", "{count} clients waiting:", count)
        return "\n".join([title.format(count=count), *rows])
    if isinstance(notice, KeptList):
        kept = notice.replies
        rows = [f"{i}. {quoted(r)}" for i, r in enumerate(kept[:LIST_MAX], 1)]
        if len(kept) > LIST_MAX:
            rows.append(_more(len(kept) - LIST_MAX))
        title = _("Kept for the next clients, in order (/drop forgets them):")
        return "\n".join([title, *rows])
    count = notice.count
    return ngettext("Dropped {count} kept reply.", "Dropped {count} kept replies.", count).format(
        count=count
    )


def _eventText(
    notice: Arrived | Answered | Kept | Left | InputClosed | RefusedClosed | Ended, chat: bool
) -> str:
    """A queue event, said once."""
    if isinstance(notice, Arrived):
        waiter = notice.waiter
        if chat:
            return _("{peer} says {name}.").format(peer=waiter.peer, name=quoted(waiter.name))
        if waiter is notice.now.head:
            return _("{who} is asking for your name.").format(who=who(waiter))
        return _("{who} is waiting too ({count} in line).").format(
            who=who(waiter), count=notice.now.waiting
        )
    if isinstance(notice, Answered):
        left = notice.keptLeft
        if notice.typedAhead and left:
            text = ngettext(
                "{who} got the kept reply {reply} ({count} more kept).",
                "{who} got the kept reply {reply} ({count} more kept).",
                left,
            )
        elif notice.typedAhead:
            text = _("{who} got the kept reply {reply}.")
        else:
            text = _("Sent {reply} to {who}.")
        return text.format(who=who(notice.waiter, chat), reply=quoted(notice.reply), count=left)
    if isinstance(notice, Kept):
        return ngettext(
            "Kept {reply} for the next client ({count} kept; /drop forgets them).",
            "Kept {reply} for the next client ({count} kept; /drop forgets them).",
            notice.count,
        ).format(reply=quoted(notice.reply), count=notice.count)
    if isinstance(notice, Left):
        return departureText(notice.reason).format(who=who(notice.waiter, chat))
    if isinstance(notice, InputClosed):
        sentences = [_("Input closed: no more replies.")]
        if notice.dropped:
            sentences.append(
                ngettext(
                    "Closed {count} waiting client.",
                    "Closed {count} waiting clients.",
                    notice.dropped,
                ).format(count=notice.dropped)
            )
        if notice.kept:
            sentences.append(
                ngettext(
                    "{count} kept reply will answer the next clients.",
                    "{count} kept replies will answer the next clients.",
                    notice.kept,
                ).format(count=notice.kept)
            )
        return " ".join(sentences)
    if isinstance(notice, RefusedClosed):
        return _("{who} was closed: no more replies (input closed).").format(
            who=who(notice.waiter, chat)
        )
    if notice.reason is Departure.TIMED_OUT:
        text = _("{peer} was closed: it did not go on with the conversation in time.")
    else:
        text = _("{peer} left the conversation.")
    return text.format(peer=notice.peer)


class EditorLines:
    """
    The editor's words on any screen with C{notice} and C{promptChanged}:
    the L{OperatorView} for a screen that only shows text (tests, a demo).
    """

    def __init__(self, screen: _Screen, chat: bool = False) -> None:
        self.screen = screen
        self.chat = chat

    def tell(self, notice: Notice) -> None:
        """Show C{notice} in the editor's words."""
        self.screen.notice(editorText(notice, self.chat))

    def promptChanged(self) -> None:
        """Pass it on."""
        self.screen.promptChanged()
