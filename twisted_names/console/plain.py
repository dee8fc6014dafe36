"""
What the operator sees and types: each client's name as it arrives, who the
next line answers and how many wait, and what became of every reply.

L{OperatorConsole} is the L{twisted_names.replies.ReplyQueue}'s observer and
the L{twisted_names.console.terminal.Terminal}'s line handler.  It writes through a
C{show} callable, so it is tested by collecting lines in a list.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted_names.display import quoted
from twisted_names.i18n import _, ngettext
from twisted_names.replies import Departure, ReplyQueue, SilentObserver, Waiter
from twisted_names.wire import InvalidName, checkName

#: How much of a name the status lines repeat; the first mention shows it whole.
SHORT_NAME = 40


def who(waiter: Waiter, short: bool = True) -> str:
    """A client as the operator knows it: its name, quoted, and its address."""
    name = waiter.name
    if short and len(name) > SHORT_NAME:
        return f"{quoted(name[:SHORT_NAME])}… ({waiter.peer})"
    return f"{quoted(name)} ({waiter.peer})"


def stoppingText(closed: int) -> str:
    """
    What the operator reads when the server stops with C{closed} clients
    still connected: said once, not each client as if it had left.  The
    terminal's editor (L{twisted_names.console.model}) says the same.
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


class OperatorConsole:
    """
    Turns queue events into lines for the operator, and the operator's lines
    into replies.
    """

    def __init__(self, queue: ReplyQueue, show: Callable[[str], None], maxLength: int) -> None:
        self.queue = queue
        self.show = show
        self.maxLength = maxLength
        queue.observer = self

    def greet(self, where: str) -> None:
        """Say where the server listens and how to use it."""
        self.show(_("names-server: listening on {where}.").format(where=where))
        self.show(
            _("Clients' names appear here; type the server's name and press Enter to answer.")
        )
        self.show(_("Ctrl-D: no more replies (waiting clients are closed). Ctrl-C: stop."))

    # The operator's side.

    def lineTyped(self, line: str) -> None:
        """A line from the operator: the next reply, once checked."""
        if not line.strip():
            return
        try:
            reply = checkName(line, self.maxLength)
        except InvalidName as e:
            reason = e.forReply
            self.show(_("Not sent: {reason}. Type it again.").format(reason=reason))
            self._status()
            return
        self.queue.answer(reply)

    def stopping(self, closed: int) -> None:
        """
        The server is stopping and closed C{closed} clients: say so once,
        instead of telling of each client as if it had left.
        """
        self.queue.observer = SilentObserver()
        self.show(stoppingText(closed))

    def inputEnded(self) -> None:
        """The operator's input is closed (Ctrl-D, end of a file or pipe)."""
        self.queue.close()

    # The queue's side (ReplyObserver).

    def waiting(self, waiter: Waiter) -> None:
        if waiter is self.queue.head:
            text = _("{who} is asking for your name.")
        else:
            text = _("{who} is waiting too.")
        self.show(text.format(who=who(waiter, short=False)))
        self._status()

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        if typedAhead:
            left = len(self.queue.typedAhead)
            self.show(
                ngettext(
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    "{who} was answered {reply}, typed ahead ({count} more typed ahead).",
                    left,
                ).format(who=who(waiter, short=False), reply=quoted(reply), count=left)
            )
            return
        self.show(_("Sent {reply} to {who}.").format(reply=quoted(reply), who=who(waiter)))
        self._status(idle=_("Nobody is waiting now."))

    def kept(self, reply: str) -> None:
        count = len(self.queue.typedAhead)
        self.show(
            ngettext(
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                "Nobody is waiting: {reply} will answer the next client ({count} typed ahead).",
                count,
            ).format(reply=quoted(reply), count=count)
        )

    def left(self, waiter: Waiter, reason: Departure) -> None:
        self.show(departureText(reason).format(who=who(waiter)))
        self._status(idle=_("Nobody is waiting now; the next line answers the next client."))

    def closed(self, dropped: list[Waiter]) -> None:
        kept = len(self.queue.typedAhead)
        count = len(dropped)
        self.show(
            ngettext(
                "Input closed: no more replies. Closed {count} waiting client.",
                "Input closed: no more replies. Closed {count} waiting clients.",
                count,
            ).format(count=count)
        )
        if kept:
            self.show(
                ngettext(
                    "{count} typed-ahead line will answer the next clients;"
                    " later ones will be closed.",
                    "{count} typed-ahead lines will answer the next clients;"
                    " later ones will be closed.",
                    kept,
                ).format(count=kept)
            )

    def refused(self, waiter: Waiter) -> None:
        self.show(
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
                self.show(idle)
            return
        count = len(self.queue)
        self.show(
            ngettext(
                "> Next line answers {who} [{count} waiting]",
                "> Next line answers {who} [{count} waiting]",
                count,
            ).format(who=who(head), count=count)
        )
