"""
Timeouts that all last the same time, on one timer.

Every client gets the same name timeout, and every waiting client the same
reply timeout.  When all timeouts last equally long, the one started first
always expires first: a queue in start order, with a single
L{IDelayedCall} for its head, serves them all.  That is cheaper than one
DelayedCall a connection (as L{twisted.protocols.policies.TimeoutMixin}
would use), which matters at thousands of exchanges a second and with ten
thousand clients waiting (see docs/performance.md).

Pure logic: tested with L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime


class Timeout:
    """
    One timeout.  L{SameTimeouts.track} starts it; L{cancel} it when what it
    guards is done; L{expired} is called if it runs out first.

    Subclasses with C{__slots__} can be timeouts themselves (a waiting client
    is), saving an object each.
    """

    __slots__ = ("_owner", "active", "deadline")

    def __init__(self) -> None:
        self.active = False
        self.deadline = float("inf")
        self._owner: SameTimeouts | None = None

    def expired(self) -> None:
        """Called once if the timeout runs out before it is cancelled."""

    def cancel(self) -> None:
        """Stop this timeout; harmless once it expired or was cancelled."""
        if self.active:
            self.active = False
            if self._owner is not None:
                self._owner._cancelled()


#: A timeout that never runs: for "no timeout now", shared by all.
NO_TIMEOUT = Timeout()


class _CallOnExpiry(Timeout):
    __slots__ = ("_onExpiry",)

    def __init__(self, onExpiry: Callable[[], object]) -> None:
        super().__init__()
        self._onExpiry: Callable[[], object] | None = onExpiry

    def expired(self) -> None:
        if self._onExpiry is not None:
            self._onExpiry()

    def cancel(self) -> None:
        # A cancelled timeout may wait in the queue a while: let go of what
        # it would have called (a closed connection, say) at once.
        self._onExpiry = None
        super().cancel()


class SameTimeouts:
    """
    Timeouts of C{seconds} each, started in any number, on one timer.

    @param seconds: how long each lasts; C{None} or C{0} for no limit (then
        nothing is ever started).
    """

    def __init__(self, clock: IReactorTime, seconds: float | None) -> None:
        self._clock = clock
        self.seconds = seconds or None
        # Cancelled timeouts stay until they reach the head (or a
        # compaction): removing from the middle of a deque is O(n).
        self._started: deque[Timeout] = deque()
        self._live = 0
        self._timer: IDelayedCall | None = None

    def start(self, onExpiry: Callable[[], object]) -> Timeout:
        """Call C{onExpiry} in C{seconds} unless the result is cancelled first."""
        return self.track(_CallOnExpiry(onExpiry))

    def track(self, timeout: Timeout) -> Timeout:
        """Start C{timeout}: its L{Timeout.expired} runs in C{seconds}, unless cancelled."""
        if self.seconds is None:
            return timeout
        timeout.deadline = self._clock.seconds() + self.seconds
        timeout._owner = self
        timeout.active = True
        self._started.append(timeout)
        self._live += 1
        if self._timer is None:
            self._arm()
        return timeout

    def __len__(self) -> int:
        """How many timeouts are running."""
        return self._live

    def stop(self) -> None:
        """Forget every timeout and the timer (a factory stopping, a clean reactor)."""
        for timeout in self._started:
            timeout.active = False
        self._started.clear()
        self._live = 0
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _cancelled(self) -> None:
        # The timer stays set even when nothing is left to time: it fires once
        # and finds nothing, which is cheaper than cancelling and setting it
        # again for every client of a busy server.
        self._live -= 1
        if len(self._started) > 2 * self._live + 64:
            self._started = deque(t for t in self._started if t.active)

    def _head(self) -> Timeout | None:
        started = self._started
        while started and not started[0].active:
            started.popleft()
        return started[0] if started else None

    def _arm(self) -> None:
        """Set the timer for the oldest running timeout, if any."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        head = self._head()
        if head is None:
            self._timer = None
            return
        delay = max(0.0, head.deadline - self._clock.seconds())
        self._timer = self._clock.callLater(delay, self._expire)

    def _expire(self) -> None:
        self._timer = None
        now = self._clock.seconds()
        while (head := self._head()) is not None and head.deadline <= now:
            self._started.popleft()
            head.active = False
            self._live -= 1
            head.expired()
        self._arm()
