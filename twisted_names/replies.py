"""
Where the server's replies come from.

With C{--name}, every client gets the same reply at once (L{FixedReply}).
Otherwise a person types each reply, and L{ReplyQueue} matches the lines
they type to the clients waiting for one: first come, first answered.

Pure logic: no I/O, no reactor beyond the clock it is given, so it is tested
with L{twisted.internet.task.Clock} alone.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from twisted_names.i18n import N_


class NoReply(Exception):
    """
    A client will get no reply; the message says why, for a person.

    @cvar logFormat: the whole log format of the closing this causes, in
        English, marked for the operator's console to translate (the log
        itself stays English); its fields are L{logFields}.
    """

    logFormat = N_("{peer} gets no reply ({why}); closing")

    def logFields(self) -> dict[str, Any]:
        """The fields of L{logFormat} besides C{peer}."""
        return {"why": str(self)}


class OperatorGone(NoReply):
    """The operator's input is closed and no typed-ahead line is left."""

    logFormat = N_("{peer} gets no reply (the operator's input is closed); closing")

    def logFields(self) -> dict[str, Any]:
        return {}

    def __str__(self) -> str:
        return "the operator's input is closed"


class ReplyTimedOut(NoReply):
    """Nobody replied in time."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.timeout = timeout

    logFormat = N_("{peer} gets no reply (no reply within {timeout:g} s); closing")

    def logFields(self) -> dict[str, Any]:
        return {"timeout": self.timeout}

    def __str__(self) -> str:
        return f"no reply within {self.timeout:g} s"


class Dismissed(NoReply):
    """The operator closed the client without a reply (see L{ReplyQueue.dismiss})."""

    logFormat = N_("{peer} gets no reply (closed by the operator without a reply); closing")

    def logFields(self) -> dict[str, Any]:
        return {}

    def __str__(self) -> str:
        return "closed by the operator without a reply"


class ReplySource(Protocol):
    """Anything the server protocol can ask for a reply."""

    def ask(self, name: str, peer: str) -> Deferred[str]:
        """
        Ask for the reply to a client.

        @param name: the name the client sent.
        @param peer: the client's address, for people to read.
        @return: fires with the reply, or fails with L{NoReply}.  Cancel it
            when the client leaves.
        """

    def ended(self, peer: str, reason: Departure) -> None:
        """
        Chat: a client that was answered and is not waiting now is gone
        (it left, or was closed for C{reason}): nobody waits for its reply,
        but the person answering should know it went.
        """


class FixedReply:
    """Every client gets the same reply, at once (C{--name})."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        #: The reply's bytes, without a line ending.
        self.encoded = reply.encode("utf-8")

    def ask(self, name: str, peer: str) -> Deferred[str]:
        return succeed(self.reply)

    def ended(self, peer: str, reason: Departure) -> None:
        """Nobody to tell."""


class Departure(Enum):
    """Why a client stopped waiting before its reply (see L{ReplyObserver.left})."""

    #: It disconnected (or its server protocol gave up on it).
    LEFT = "left"
    #: It waited the whole reply timeout.
    TIMED_OUT = "timed out"
    #: The operator closed it without a reply.
    DISMISSED = "dismissed"


class Waiter(Deferred[str]):
    """
    A client waiting for the operator's reply: the L{Deferred} the reply
    fires, and who it is for.  Cancelling it withdraws the client.

    One object, not a L{Deferred} beside a record with a bound method as its
    canceller (docs/performance.md, "Memory per waiting client (issue 18)").
    """

    __slots__ = ("done", "name", "peer", "queue", "since")

    def __init__(self, queue: ReplyQueue, name: str, peer: str, since: float) -> None:
        super().__init__(_withdrawn)
        self.queue = queue
        self.name = name
        self.peer = peer
        self.since = since
        self.done = False


def _withdrawn(waiter: Deferred[Any]) -> None:
    """The canceller of every L{Waiter}: the client left."""
    if isinstance(waiter, Waiter):
        waiter.queue._withdraw(waiter)


class ReplyObserver(Protocol):
    """What the queue tells the person at the terminal (see L{console})."""

    def waiting(self, waiter: Waiter) -> None:
        """A client started waiting."""

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        """
        A client got C{reply}: just typed, or C{typedAhead} while nobody
        waited.
        """

    def kept(self, reply: str) -> None:
        """A line was typed while nobody waited: it will answer the next client."""

    def left(self, waiter: Waiter, reason: Departure) -> None:
        """A client stopped waiting before its reply, for C{reason}."""

    def closed(self, dropped: list[Waiter]) -> None:
        """The operator's input closed; C{dropped} were waiting and get no reply."""

    def refused(self, waiter: Waiter) -> None:
        """A client arrived after the input closed and the typed-ahead lines ran out."""

    def ended(self, peer: str, reason: Departure) -> None:
        """Chat: a client between turns is gone (see L{ReplySource.ended})."""


class SilentObserver:
    """An observer that tells nobody: until someone watches, and once they stop."""

    def waiting(self, waiter: Waiter) -> None: ...
    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None: ...
    def kept(self, reply: str) -> None: ...
    def left(self, waiter: Waiter, reason: Departure) -> None: ...
    def closed(self, dropped: list[Waiter]) -> None: ...
    def refused(self, waiter: Waiter) -> None: ...
    def ended(self, peer: str, reason: Departure) -> None: ...


class ReplyQueue:
    """
    Clients waiting for the operator, in the order they arrived, and lines the
    operator typed while nobody waited.

    Each reply goes to the client at the head of the queue.  A client that
    leaves is dropped from the queue at once, so its turn never swallows a
    reply meant for the next one.  Every client waits at most C{timeout}
    seconds: as all wait equally long, the one at the head always expires
    first, and one timer, for the head, serves them all (a timer each cost
    some 600 bytes per waiting client: docs/performance.md).

    @ivar typedAhead: lines typed while nobody waited, oldest first.
    @ivar closed: whether the operator's input is closed.
    @ivar observer: told of every change, to show it to the operator.
    """

    def __init__(self, clock: IReactorTime, timeout: float | None = None) -> None:
        self._clock = clock
        self.timeout = timeout or None
        # Clients who left stay here, marked done, until they reach the head
        # (or a compaction): removal from the middle of a deque is O(n), and
        # ten thousand may wait.
        self._waiting: deque[Waiter] = deque()
        self._count = 0
        self.typedAhead: deque[str] = deque()
        self.closed = False
        self.observer: ReplyObserver = SilentObserver()
        self._timer: IDelayedCall | None = None

    @property
    def clock(self) -> IReactorTime:
        """The clock the waits are measured by (a console says how long a client waited)."""
        return self._clock

    def __len__(self) -> int:
        """How many clients are waiting."""
        return self._count

    @property
    def head(self) -> Waiter | None:
        """The client the next line answers, or C{None}."""
        waiting = self._waiting
        while waiting and waiting[0].done:
            waiting.popleft()
        return waiting[0] if waiting else None

    def waiters(self) -> list[Waiter]:
        """The waiting clients, in the order they will be answered."""
        return [w for w in self._waiting if not w.done]

    def ask(self, name: str, peer: str) -> Deferred[str]:
        """
        Wait for the operator's reply to a client; see L{ReplySource.ask}.

        A line typed ahead answers at once.  Once the input is closed and no
        typed-ahead line is left, the result fails with L{OperatorGone}.
        """
        waiter = Waiter(self, name, peer, self._clock.seconds())
        if self.typedAhead:
            reply = self.typedAhead.popleft()
            waiter.done = True
            self.observer.answered(waiter, reply, typedAhead=True)
            return succeed(reply)
        if self.closed:
            waiter.done = True
            self.observer.refused(waiter)
            return fail(OperatorGone())
        self._waiting.append(waiter)
        self._count += 1
        self._armTimer()
        self.observer.waiting(waiter)
        return waiter

    def ended(self, peer: str, reason: Departure) -> None:
        """Chat: a client between turns is gone; the observer is told."""
        self.observer.ended(peer, reason)

    def answer(self, reply: str) -> None:
        """
        The operator typed C{reply}: it goes to the head of the queue, or, if
        nobody waits, to the next client to arrive.

        The observer hears of it before the client's Deferred fires: what the
        reply sets off (a chat client's next line joining the queue) is told
        after it.
        """
        head = self.head
        if head is None:
            self.typedAhead.append(reply)
            self.observer.kept(reply)
            return
        self._remove(head)
        self.observer.answered(head, reply, typedAhead=False)
        head.callback(reply)

    def close(self) -> None:
        """
        The operator's input is closed: every waiting client fails with
        L{OperatorGone} now, and later ones once the typed-ahead lines are
        used up.
        """
        if self.closed:
            return
        self.closed = True
        dropped = self.waiters()
        for waiter in dropped:
            self._remove(waiter)
        self._waiting.clear()
        self.observer.closed(dropped)
        for waiter in dropped:
            waiter.errback(OperatorGone())

    def dismiss(self) -> Waiter | None:
        """
        Close the head of the queue without a reply: it fails with
        L{Dismissed}, and the next line answers the client after it.

        @return: the client closed, or C{None} if nobody waited.
        """
        head = self.head
        if head is None:
            return None
        self._remove(head)
        self.observer.left(head, Departure.DISMISSED)
        head.errback(Dismissed())
        return head

    def dropTypedAhead(self) -> list[str]:
        """
        Forget the lines typed ahead: the next clients wait for new ones.

        @return: the lines dropped, oldest first.
        """
        dropped = list(self.typedAhead)
        self.typedAhead.clear()
        return dropped

    def stopTimeouts(self) -> None:
        """Keep no timer any more (the server is stopping)."""
        self.timeout = None
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _withdraw(self, waiter: Waiter) -> None:
        """The client's Deferred was cancelled: it left."""
        if waiter.done:
            return
        self._remove(waiter)
        self.observer.left(waiter, Departure.LEFT)

    def _remove(self, waiter: Waiter) -> None:
        waiter.done = True
        self._count -= 1
        if len(self._waiting) > 2 * self._count + 64:
            self._waiting = deque(w for w in self._waiting if not w.done)

    def _armTimer(self) -> None:
        """
        Set the timer for the head's deadline, unless one is set: a timer left
        set for a head that was answered since fires, finds nobody due, and
        is set again for the new head.
        """
        if self.timeout is None or self._timer is not None:
            return
        head = self.head
        if head is not None:
            delay = max(0.0, head.since + self.timeout - self._clock.seconds())
            self._timer = self._clock.callLater(delay, self._expireDue)

    def _expireDue(self) -> None:
        """Every client that waited C{timeout} seconds gets no reply."""
        self._timer = None
        timeout = self.timeout
        if timeout is None:
            return
        now = self._clock.seconds()
        while (head := self.head) is not None and head.since + timeout <= now:
            self._remove(head)
            self.observer.left(head, Departure.TIMED_OUT)
            head.errback(ReplyTimedOut(timeout))
        self._armTimer()
