"""
The operator's console on a pipe or a file: plain lines, one per event.

It is the view of the one console model,
L{twisted_names.console.model.Operator}, built with the pipe's discipline
(L{Discipline.PIPE}: every line read a reply, in order; one read while nobody
waits kept for the next client; no commands, no confirmation).  L{PlainLines}
words the model's notices in the pipe's words, which scripts and teachers
reading a pipe rely on: each event a line, and who the next line answers.
Tested by collecting lines in a list.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted_names.console.model import (
    Answered,
    Arrived,
    Greeting,
    InputClosed,
    Kept,
    Left,
    Notice,
    Now,
    RefusedClosed,
    ReplyRefused,
    Stopping,
    departureText,
    stoppingText,
)
from twisted_names.display import quoted
from twisted_names.i18n import _, ngettext
from twisted_names.replies import Waiter

__all__ = ["SHORT_NAME", "PlainLines", "plainText", "who"]

#: How much of a name the status lines repeat; the first mention shows it whole.
SHORT_NAME = 40


def who(waiter: Waiter, short: bool = True) -> str:
    """A client as the operator knows it: its name, quoted, and its address."""
    name = waiter.name
    if short and len(name) > SHORT_NAME:
        return f"{quoted(name[:SHORT_NAME])}… ({waiter.peer})"
    return f"{quoted(name)} ({waiter.peer})"


def plainText(notice: Notice) -> list[str]:
    """
    The lines a pipe shows for C{notice}: the event, then (where the next
    line's client may have changed) who the next line answers.  A notice
    only the editor gives (a command's answer, a chat client gone between
    turns: its log line says so) has none.
    """
    if isinstance(notice, Greeting):
        return [
            _("names-server: listening on {where}.").format(where=notice.where),
            _("Clients' names appear here; type the server's name and press Enter to answer."),
            _("Ctrl-D: no more replies (waiting clients are closed). Ctrl-C: stop."),
        ]
    if isinstance(notice, Stopping):
        return [stoppingText(notice.closed)]
    if isinstance(notice, Arrived):
        if notice.waiter is notice.now.head:
            text = _("{who} is asking for your name.")
        else:
            text = _("{who} is waiting too.")
        return [text.format(who=who(notice.waiter, short=False)), *_status(notice.now)]
    if isinstance(notice, Answered):
        if notice.typedAhead:
            left = notice.keptLeft
            return [
                ngettext(
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    left,
                ).format(
                    who=who(notice.waiter, short=False), reply=quoted(notice.reply), count=left
                )
            ]
        return [
            _("Sent {reply} to {who}.").format(reply=quoted(notice.reply), who=who(notice.waiter)),
            *_status(notice.now, idle=_("Nobody is waiting now.")),
        ]
    if isinstance(notice, Kept):
        return [
            ngettext(
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                notice.count,
            ).format(reply=quoted(notice.reply), count=notice.count)
        ]
    if isinstance(notice, Left):
        return [
            departureText(notice.reason).format(who=who(notice.waiter)),
            *_status(
                notice.now,
                idle=_("Nobody is waiting now; the next line answers the next client."),
            ),
        ]
    if isinstance(notice, InputClosed):
        return _closed(notice)
    if isinstance(notice, RefusedClosed):
        return [
            _("{who} was closed: no more replies (input closed).").format(
                who=who(notice.waiter, short=False)
            )
        ]
    if isinstance(notice, ReplyRefused):
        return [
            _("Not sent: {reason}. Type it again.").format(reason=notice.reason),
            *_status(notice.now),
        ]
    return []


def _closed(notice: InputClosed) -> list[str]:
    """The input closed: how many were closed, how many typed-ahead lines stay."""
    lines = [
        ngettext(
            "Input closed: no more replies. Closed {count} waiting client.",
            "Input closed: no more replies. Closed {count} waiting clients.",
            notice.dropped,
        ).format(count=notice.dropped)
    ]
    if notice.kept:
        lines.append(
            ngettext(
                "{count} typed-ahead line will answer the next clients;"
                " later ones will be closed.",
                "{count} typed-ahead lines will answer the next clients;"
                " later ones will be closed.",
                notice.kept,
            ).format(count=notice.kept)
        )
    return lines


def _status(now: Now, idle: str | None = None) -> list[str]:
    """Who the next line answers, and how many wait (C{idle}, if given, when nobody does)."""
    head = now.head
    if head is None:
        return [] if idle is None else [idle]
    return [
        ngettext(
            "> Next line answers {who} [{count} waiting]",
            "> Next line answers {who} [{count} waiting]",
            now.waiting,
        ).format(who=who(head), count=now.waiting)
    ]


class PlainLines:
    """
    The model's view on a pipe: each notice as plain lines through C{show};
    no prompt to draw (a pipe's reader sees the status lines instead).
    """

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show

    def tell(self, notice: Notice) -> None:
        """Write C{notice} in the pipe's words, line by line."""
        for line in plainText(notice):
            self.notice(line)

    def notice(self, text: str) -> None:
        """Write C{text}, line by line."""
        for line in text.split("\n"):
            self.show(line)

    def promptChanged(self) -> None:
        """Nothing to redraw on a pipe."""
