"""
The operator's console on a pipe or a file: plain lines, one per event, and
every line read a reply, in order.

It is the one console model, L{twisted_names.console.model.Operator}, with a
view that writes lines (L{PlainLines}) and the pipe's discipline and words
(L{PlainOperator}): the model observes the reply queue and keeps its state;
a pipe differs only in what a line does (no commands, no confirmation: a
line typed while nobody waits is kept, in order, for the next client) and in
how each event is said, which scripts and teachers reading a pipe rely on.
Tested by collecting lines in a list.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted_names.console.model import Operator, departureText
from twisted_names.display import quoted
from twisted_names.i18n import _, ngettext
from twisted_names.replies import Departure, ReplyQueue, Waiter
from twisted_names.wire import InvalidName, checkName

__all__ = ["SHORT_NAME", "PlainLines", "PlainOperator", "who"]

#: How much of a name the status lines repeat; the first mention shows it whole.
SHORT_NAME = 40


def who(waiter: Waiter, short: bool = True) -> str:
    """A client as the operator knows it: its name, quoted, and its address."""
    name = waiter.name
    if short and len(name) > SHORT_NAME:
        return f"{quoted(name[:SHORT_NAME])}… ({waiter.peer})"
    return f"{quoted(name)} ({waiter.peer})"


class PlainLines:
    """
    The model's view on a pipe: each notice as lines through C{show}; no
    prompt to draw (a pipe's reader sees the status lines instead).
    """

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show

    def notice(self, text: str) -> None:
        """Write C{text}, line by line."""
        for line in text.split("\n"):
            self.show(line)

    def promptChanged(self) -> None:
        """Nothing to redraw on a pipe."""


def _noCommands() -> None:
    """A pipe's lines are replies, never commands: nothing stops the server from here."""


class PlainOperator(Operator):
    """
    The console model on a pipe: the operator's lines, read whole, are the
    replies in order (one typed while nobody waits answers the next client),
    and each event of the queue is one plain line, followed by who the next
    line answers.

    The state and the queue's observation are L{Operator}'s; what differs is
    the pipe's discipline (L{lineTyped}) and words (the methods below).
    """

    def __init__(self, queue: ReplyQueue, show: Callable[[str], None], maxLength: int) -> None:
        super().__init__(queue, PlainLines(show), queue.clock, maxLength, stop=_noCommands)

    def greet(self, where: str) -> None:
        """Say where the server listens and how to use it."""
        self.view.notice(_("names-server: listening on {where}.").format(where=where))
        self.view.notice(
            _("Clients' names appear here; type the server's name and press Enter to answer.")
        )
        self.view.notice(_("Ctrl-D: no more replies (waiting clients are closed). Ctrl-C: stop."))

    # The operator's side.

    def lineTyped(self, line: str) -> None:
        """A line from the operator: the next reply, once checked."""
        if not line.strip():
            return
        try:
            reply = checkName(line, self.maxLength)
        except InvalidName as e:
            reason = e.forReply
            self.view.notice(_("Not sent: {reason}. Type it again.").format(reason=reason))
            self._status()
            return
        self.queue.answer(reply)

    # The queue's side (ReplyObserver), in the pipe's words.

    def waiting(self, waiter: Waiter) -> None:
        if waiter is self.queue.head:
            text = _("{who} is asking for your name.")
        else:
            text = _("{who} is waiting too.")
        self.view.notice(text.format(who=who(waiter, short=False)))
        self._status()

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        if typedAhead:
            left = len(self.queue.typedAhead)
            self.view.notice(
                ngettext(
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    left,
                ).format(who=who(waiter, short=False), reply=quoted(reply), count=left)
            )
            return
        self.view.notice(_("Sent {reply} to {who}.").format(reply=quoted(reply), who=who(waiter)))
        self._status(idle=_("Nobody is waiting now."))

    def kept(self, reply: str) -> None:
        count = len(self.queue.typedAhead)
        self.view.notice(
            ngettext(
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                count,
            ).format(reply=quoted(reply), count=count)
        )

    def left(self, waiter: Waiter, reason: Departure) -> None:
        self.view.notice(departureText(reason).format(who=who(waiter)))
        self._status(idle=_("Nobody is waiting now; the next line answers the next client."))

    def closed(self, dropped: list[Waiter]) -> None:
        kept = len(self.queue.typedAhead)
        count = len(dropped)
        self.view.notice(
            ngettext(
                "Input closed: no more replies. Closed {count} waiting client.",
                "Input closed: no more replies. Closed {count} waiting clients.",
                count,
            ).format(count=count)
        )
        if kept:
            self.view.notice(
                ngettext(
                    "{count} typed-ahead line will answer the next clients;"
                    " later ones will be closed.",
                    "{count} typed-ahead lines will answer the next clients;"
                    " later ones will be closed.",
                    kept,
                ).format(count=kept)
            )

    def refused(self, waiter: Waiter) -> None:
        self.view.notice(
            _("{who} was closed: no more replies (input closed).").format(
                who=who(waiter, short=False)
            )
        )

    def ended(self, peer: str, reason: Departure) -> None:
        """Chat: a client between turns is gone; the log line shown says so."""

    def _status(self, idle: str | None = None) -> None:
        """Say who the next line answers, and how many wait."""
        head = self.queue.head
        if head is None:
            if idle is not None:
                self.view.notice(idle)
            return
        count = len(self.queue)
        self.view.notice(
            ngettext(
                "> Next line answers {who} [{count} waiting]",
                "> Next line answers {who} [{count} waiting]",
                count,
            ).format(who=who(head), count=count)
        )
