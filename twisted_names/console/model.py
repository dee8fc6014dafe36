"""
The operator's console on a terminal, as a pure model: who the line being
typed answers, what each event is called, and what each line or command does.

It is the one console model, with two views: the line editor
(L{twisted_names.console.editor}) when stdin and stdout are a terminal, plain
lines (L{twisted_names.console.plain}) on a pipe.  Three rules come from
real use (issue 8):

  - A line goes only to the client the prompt named when typing began, unless
    the operator saw the change: if the head of the queue changes while text
    is typed, a notice says so, the prompt changes, and the first Enter after
    the change only asks for confirmation.
  - A line entered while nobody waits is refused with a hint; replies for
    clients not yet arrived are kept only by a command (C{/keep}), shown in
    the prompt and dropped by another (C{/drop}).
  - Each event is said once, in plain words.

No I/O: it talks to the screen through an L{OperatorView}, so it is tested
with a list of notices and a L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum
from typing import Protocol

from twisted.internet.interfaces import IReactorTime

from twisted_names.console.lineedit import clip, clipStart, displayWidth
from twisted_names.display import quoted
from twisted_names.i18n import N_, _, ngettext
from twisted_names.replies import Departure, ReplyQueue, SilentObserver, Waiter
from twisted_names.wire import InvalidName, checkName

#: How many cells of a name the prompt shows.
PROMPT_NAME = 24
#: The name's widths the prompt tries, on a narrow row, before leaving out more.
PROMPT_CLIPS = (PROMPT_NAME, 16, 10, 6, 3)
#: How many waiting clients C{/who} lists.
LIST_MAX = 20

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


class OperatorView(Protocol):
    """The screen, as the model sees it."""

    def notice(self, text: str) -> None:
        """Show C{text} (one or more lines) above the input line."""

    def promptChanged(self) -> None:
        """L{Operator.prompt} has changed: draw it again."""


class Entered(Enum):
    """What the editor does with a line after Enter."""

    #: The line is done with (sent, run or refused): clear it.
    DONE = "done"
    #: Leave it on the input line: a confirmation is asked, or it needs fixing.
    KEEP = "keep"


def stoppingText(closed: int) -> str:
    """
    What the operator reads when the server stops with C{closed} clients
    still connected: said once, not each client as if it had left.  Both
    views say it.
    """
    if not closed:
        return _("Stopping.")
    return ngettext(
        "Stopping: closed {count} connection.", "Stopping: closed {count} connections.", closed
    ).format(count=closed)


def departureText(reason: Departure) -> str:
    """Why a client left the line, with a C{{who}} placeholder for it."""
    if reason is Departure.TIMED_OUT:
        return _("{who} waited too long for a reply and was closed.")
    if reason is Departure.DISMISSED:
        return _("Closed {who} without a reply.")
    return _("{who} left before your reply.")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    return _("{minutes} min {seconds} s").format(minutes=seconds // 60, seconds=seconds % 60)


def _more(count: int) -> str:
    """The last row of a list cut at L{LIST_MAX}."""
    return ngettext("… and {count} more.", "… and {count} more.", count).format(count=count)


class Operator:
    """
    The model of the operator's console: the L{ReplyQueue}'s observer, and
    what the editor asks for its prompt and tells of each line.

    @ivar typing: whether the input line holds text.
    @ivar target: the client the line being typed was begun for (C{None}:
        begun while nobody waited).
    """

    def __init__(
        self,
        queue: ReplyQueue,
        view: OperatorView,
        clock: IReactorTime,
        maxLength: int,
        stop: Callable[[], object],
        chat: bool = False,
    ) -> None:
        self.queue = queue
        self.view = view
        self.clock = clock
        self.maxLength = maxLength
        self.stop = stop
        self.chat = chat
        self.typing = False
        self.target: Waiter | None = None
        # The head the operator was last told of while typing.
        self._warnedOf: Waiter | None = None
        # The head the prompt named when it was last drawn: what the
        # operator saw.  Keys that arrive together (a paste) are drawn once,
        # after the last, so a line begun among them answers this one.
        self._shown: Waiter | None = None
        queue.observer = self

    # How clients are named.

    def who(self, waiter: Waiter) -> str:
        """A client as the notices name it: its name (in chat: its line) and address."""
        if self.chat:
            return waiter.peer
        return f"{quoted(waiter.name)} ({waiter.peer})"

    def prompt(self, width: int | None = None) -> str:
        """
        The input line's prompt: whom the line answers, and how many wait.

        @param width: the cells the prompt may take.  To fit, the name is
            shortened first, then the address left out (in chat mode, the
            client's line): the count and whom the line answers stay.
        """
        kept = len(self.queue.typedAhead)
        if self.queue.closed:
            if kept:
                return ngettext(
                    "input closed · {kept} kept · Ctrl-C stops > ",
                    "input closed · {kept} kept · Ctrl-C stops > ",
                    kept,
                ).format(kept=kept)
            return _("input closed · Ctrl-C stops > ")
        head = self.queue.head
        if head is None:
            if kept:
                return ngettext(
                    "nobody waiting · {kept} kept > ", "nobody waiting · {kept} kept > ", kept
                ).format(kept=kept)
            return _("nobody waiting > ")
        count = len(self.queue)
        if self._mustConfirm():
            text = ngettext(
                "→ {whom} · {count} waiting · Enter confirms > ",
                "→ {whom} · {count} waiting · Enter confirms > ",
                count,
            )
        else:
            text = ngettext(
                "→ {whom} · {count} waiting > ", "→ {whom} · {count} waiting > ", count
            )
        prompt = ""
        for whom in self._whom(head):
            prompt = text.format(whom=whom, count=count)
            if width is None or displayWidth(prompt) <= width:
                break
        return prompt

    def _whom(self, head: Waiter) -> Iterator[str]:
        """
        Whom the prompt names, longest first: the name clipped ever shorter,
        then the address left out (chat: the line left out, then the address
        cut from its start: the port tells apart the clients of one machine).
        """
        for cells in PROMPT_CLIPS:
            name = quoted(clip(head.name, cells))
            yield f"{head.peer} {name}" if self.chat else f"{name} {head.peer}"
        if self.chat:
            yield head.peer
            for cells in PROMPT_CLIPS:
                yield clipStart(head.peer, cells)
        else:
            for cells in PROMPT_CLIPS:
                yield quoted(clip(head.name, cells))

    def promptShown(self, width: int | None = None) -> str:
        """L{prompt}, being drawn now: a line begun later answers whom it names."""
        self._shown = self.queue.head
        return self.prompt(width)

    def _mustConfirm(self) -> bool:
        return self.typing and self.target is not self.queue.head

    # The editor's side.

    def typingChanged(self, typing: bool) -> None:
        """
        The input line became empty, or not: a line begun now answers the
        head the prompt showed (L{promptShown}).
        """
        if typing == self.typing:
            return
        self.typing = typing
        self.target = self._warnedOf = self._shown if typing else None

    def greet(self, where: str) -> None:
        """Say where the server listens and how to use the console."""
        self.view.notice(
            _(
                "names-server: listening on {where}.\n"
                "Clients' names appear here; type a reply and press Enter."
                " /help lists the commands."
            ).format(where=where)
        )

    def lineEntered(self, line: str) -> Entered:
        """
        The operator pressed Enter on C{line}.  While it is sent or run, it
        is no longer being typed: what it sets off (the next head) needs no
        confirmation.
        """
        typing, target = self.typing, self.target
        self.typing, self.target = False, None
        outcome = self._entered(line, target)
        if outcome is Entered.KEEP and not self.typing:
            self.typing = typing
            if self.target is None:
                self.target = target
        return outcome

    def _entered(self, line: str, target: Waiter | None) -> Entered:
        if not line.strip():
            return Entered.DONE
        if line.startswith("/") and not line.startswith("//"):
            return self._command(line)
        reply = line[1:] if line.startswith("//") else line
        if self.queue.closed:
            self.view.notice(_("Not sent: the input is closed, no more replies. Ctrl-C stops."))
            return Entered.DONE
        head = self.queue.head
        if head is None:
            self.view.notice(
                _(
                    "Not sent: nobody is waiting. To keep it for the next client: /keep {reply}"
                    " (↑ brings the line back)."
                ).format(reply=reply)
            )
            return Entered.DONE
        if head is not target:
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
            self.view.notice(
                text.format(target=self.who(target) if target else "", who=self.who(head))
            )
            self.target = self._warnedOf = head
            self.view.promptChanged()
            return Entered.KEEP
        return self._answer(reply)

    def _answer(self, reply: str) -> Entered:
        """Send C{reply} (to the head, or kept) once it passes L{_check}."""
        checked = self._check(reply)
        if checked is None:
            return Entered.KEEP
        self.queue.answer(checked)
        return Entered.DONE

    def _check(self, reply: str, kept: bool = False) -> str | None:
        """
        C{reply} as it would be sent, or C{None} (and the operator told why).

        @param kept: the reply came with C{/keep}: the line is cleared (a
            command is never left on the line, where typing would join it),
            and the notice says so.
        """
        try:
            return checkName(reply, self.maxLength)
        except InvalidName as e:
            reason = e.forReply
            if kept:
                self.view.notice(
                    _("Not kept: {reason}. The line was cleared; ↑ brings it back.").format(
                        reason=reason
                    )
                )
            else:
                self.view.notice(
                    _("Not sent: {reason}. The line stays, for you to fix.").format(reason=reason)
                )
            return None

    def inputEnded(self) -> None:
        """Ctrl-D on an empty line: no more replies."""
        self.queue.close()
        self.view.promptChanged()

    def stopping(self, closed: int) -> None:
        """
        The server is stopping and closed C{closed} clients: said once,
        instead of each client as if it had left.
        """
        self.queue.observer = SilentObserver()
        self.view.notice(stoppingText(closed))

    # Commands.

    def _command(self, line: str) -> Entered:
        word, _sep, rest = line.partition(" ")
        command = {
            "/help": self._help,
            "/who": self._who,
            "/list": self._who,
            "/close": self._close,
            "/keep": self._keep,
            "/kept": self._kept,
            "/drop": self._drop,
            "/stop": self._stop,
        }.get(word.lower())
        if command is None:
            self.view.notice(
                _(
                    "Unknown command {command}: /help lists the commands."
                    " A reply that starts with / is typed //. The line was cleared;"
                    " ↑ brings it back."
                ).format(command=quoted(word))
            )
            return Entered.DONE
        return command(rest.strip())

    def _help(self, rest: str) -> Entered:
        self.view.notice(_(HELP))
        return Entered.DONE

    def _who(self, rest: str) -> Entered:
        waiters = self.queue.waiters()
        if not waiters:
            self.view.notice(_("Nobody is waiting."))
            return Entered.DONE
        now = self.clock.seconds()
        row = (
            _("{position}. {who} says {name}, waiting {duration}")
            if self.chat
            else _("{position}. {who}, waiting {duration}")
        )
        rows = [
            row.format(
                position=i, who=self.who(w), name=quoted(w.name), duration=_duration(now - w.since)
            )
            for i, w in enumerate(waiters[:LIST_MAX], 1)
        ]
        if len(waiters) > LIST_MAX:
            rows.append(_more(len(waiters) - LIST_MAX))
        count = len(waiters)
        title = ngettext("{count} client waiting:", "{count} clients waiting:", count)
        self.view.notice("\n".join([title.format(count=count), *rows]))
        return Entered.DONE

    def _close(self, rest: str) -> Entered:
        if self.queue.dismiss() is None:
            self.view.notice(_("Nobody is waiting: nobody to close."))
        return Entered.DONE

    def _keep(self, rest: str) -> Entered:
        if not rest:
            self.view.notice(
                _(
                    "/keep needs the reply to keep: /keep REPLY."
                    " The line was cleared; ↑ brings it back."
                )
            )
            return Entered.DONE
        if self.queue.closed:
            self.view.notice(_("Not kept: the input is closed."))
            return Entered.DONE
        head = self.queue.head
        if head is not None:
            self.view.notice(
                _(
                    "Not kept: {who} is waiting now; type the reply without /keep."
                    " The line was cleared; ↑ brings it back."
                ).format(who=self.who(head))
            )
            return Entered.DONE
        checked = self._check(rest, kept=True)
        if checked is not None:
            self.queue.answer(checked)
        return Entered.DONE

    def _kept(self, rest: str) -> Entered:
        kept = list(self.queue.typedAhead)
        if not kept:
            self.view.notice(_("No replies are kept."))
        else:
            rows = [f"{i}. {quoted(r)}" for i, r in enumerate(kept[:LIST_MAX], 1)]
            if len(kept) > LIST_MAX:
                rows.append(_more(len(kept) - LIST_MAX))
            title = _("Kept for the next clients, in order (/drop forgets them):")
            self.view.notice("\n".join([title, *rows]))
        return Entered.DONE

    def _drop(self, rest: str) -> Entered:
        dropped = self.queue.dropTypedAhead()
        if dropped:
            count = len(dropped)
            self.view.notice(
                ngettext(
                    "Dropped {count} kept reply.", "Dropped {count} kept replies.", count
                ).format(count=count)
            )
            self.view.promptChanged()
        else:
            self.view.notice(_("No replies are kept."))
        return Entered.DONE

    def _stop(self, rest: str) -> Entered:
        self.stop()
        return Entered.DONE

    # The queue's side (ReplyObserver): each event said once.

    def _told(self, text: str) -> None:
        """Show C{text}, and say if it changed whom the line being typed answers."""
        head = self.queue.head
        if self.typing and head is not self.target and head is not self._warnedOf:
            self._warnedOf = head
            if head is None:
                more = _("Nobody is waiting now: your line will not be sent.")
            else:
                more = _("Your line now answers {who}: Enter asks you to confirm.").format(
                    who=self.who(head)
                )
            text = f"{text} {more}"
        self.view.notice(text)
        self.view.promptChanged()

    def waiting(self, waiter: Waiter) -> None:
        if self.chat:
            text = _("{peer} says {name}.").format(peer=waiter.peer, name=quoted(waiter.name))
        elif waiter is self.queue.head:
            text = _("{who} is asking for your name.").format(who=self.who(waiter))
        else:
            text = _("{who} is waiting too ({count} in line).").format(
                who=self.who(waiter), count=len(self.queue)
            )
        self._told(text)

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        who, quotedReply = self.who(waiter), quoted(reply)
        left = len(self.queue.typedAhead)
        if typedAhead and left:
            text = ngettext(
                "{who} got the kept reply {reply} ({count} more kept).",
                "{who} got the kept reply {reply} ({count} more kept).",
                left,
            )
        elif typedAhead:
            text = _("{who} got the kept reply {reply}.")
        else:
            text = _("Sent {reply} to {who}.")
        self._told(text.format(who=who, reply=quotedReply, count=left))

    def kept(self, reply: str) -> None:
        count = len(self.queue.typedAhead)
        self._told(
            ngettext(
                "Kept {reply} for the next client ({count} kept; /drop forgets them).",
                "Kept {reply} for the next client ({count} kept; /drop forgets them).",
                count,
            ).format(reply=quoted(reply), count=count)
        )

    def left(self, waiter: Waiter, reason: Departure) -> None:
        self._told(departureText(reason).format(who=self.who(waiter)))

    def closed(self, dropped: list[Waiter]) -> None:
        kept = len(self.queue.typedAhead)
        sentences = [_("Input closed: no more replies.")]
        if dropped:
            count = len(dropped)
            sentences.append(
                ngettext(
                    "Closed {count} waiting client.", "Closed {count} waiting clients.", count
                ).format(count=count)
            )
        if kept:
            sentences.append(
                ngettext(
                    "{count} kept reply will answer the next clients.",
                    "{count} kept replies will answer the next clients.",
                    kept,
                ).format(count=kept)
            )
        self._told(" ".join(sentences))

    def refused(self, waiter: Waiter) -> None:
        self._told(
            _("{who} was closed: no more replies (input closed).").format(who=self.who(waiter))
        )

    def ended(self, peer: str, reason: Departure) -> None:
        """Chat: a client between turns is gone, told as a waiting one's leaving is."""
        if reason is Departure.TIMED_OUT:
            text = _("{peer} was closed: it did not go on with the conversation in time.")
        else:
            text = _("{peer} left the conversation.")
        self._told(text.format(peer=peer))
