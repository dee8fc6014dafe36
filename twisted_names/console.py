"""
What the operator sees and types: each client's name as it arrives, who the
next line answers and how many wait, and what became of every reply.

L{OperatorConsole} is the L{twisted_names.replies.ReplyQueue}'s observer and
the L{twisted_names.terminal.Terminal}'s line handler.  It writes through a
C{show} callable, so it is tested by collecting lines in a list.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted_names.display import quoted
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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


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
        self.show(f"names-server: listening on {where}.")
        self.show("Clients' names appear here; type the server's name and press Enter to answer.")
        self.show("Ctrl-D: no more replies (waiting clients are closed). Ctrl-C: stop.")

    # The operator's side.

    def lineTyped(self, line: str) -> None:
        """A line from the operator: the next reply, once checked."""
        if not line.strip():
            return
        try:
            reply = checkName(line, self.maxLength)
        except InvalidName as e:
            self.show(f"Not sent: {str(e).replace('the name', 'the reply')}. Type it again.")
            self._status()
            return
        self.queue.answer(reply)

    def stopping(self, closed: int) -> None:
        """
        The server is stopping and closed C{closed} clients: say so once,
        instead of telling of each client as if it had left.
        """
        self.queue.observer = SilentObserver()
        if closed:
            self.show(f"Stopping: closed {_plural(closed, 'connection')}.")
        else:
            self.show("Stopping.")

    def inputEnded(self) -> None:
        """The operator's input is closed (Ctrl-D, end of a file or pipe)."""
        self.queue.close()

    # The queue's side (ReplyObserver).

    def waiting(self, waiter: Waiter) -> None:
        if waiter is self.queue.head:
            self.show(f"{who(waiter, short=False)} is asking for your name.")
        else:
            self.show(f"{who(waiter, short=False)} is waiting too.")
        self._status()

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        if typedAhead:
            left = len(self.queue.typedAhead)
            self.show(
                f"{who(waiter, short=False)} was answered {quoted(reply)}, typed ahead"
                f" ({left} more typed ahead)."
            )
            return
        self.show(f"Sent {quoted(reply)} to {who(waiter)}.")
        self._status(idle="Nobody is waiting now.")

    def kept(self, reply: str) -> None:
        count = len(self.queue.typedAhead)
        self.show(
            f"Nobody is waiting: {quoted(reply)} will answer the next client"
            f" ({count} typed ahead)."
        )

    def left(self, waiter: Waiter, reason: Departure) -> None:
        if reason is Departure.TIMED_OUT:
            self.show(f"{who(waiter)} waited too long for a reply and was closed.")
        else:
            self.show(f"{who(waiter)} left before your reply.")
        self._status(idle="Nobody is waiting now; the next line answers the next client.")

    def closed(self, dropped: list[Waiter]) -> None:
        kept = len(self.queue.typedAhead)
        self.show(
            f"Input closed: no more replies. Closed {_plural(len(dropped), 'waiting client')}."
        )
        if kept:
            self.show(
                f"{_plural(kept, 'typed-ahead line')} will answer the next clients;"
                " later ones will be closed."
            )

    def refused(self, waiter: Waiter) -> None:
        self.show(f"{who(waiter, short=False)} was closed: no more replies (input closed).")

    def _status(self, idle: str | None = None) -> None:
        """Say who the next line answers, and how many wait."""
        head = self.queue.head
        if head is None:
            if idle is not None:
                self.show(idle)
            return
        self.show(f"> Next line answers {who(head)} [{len(self.queue)} waiting]")
