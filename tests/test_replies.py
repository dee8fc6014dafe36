"""Tests for L{twisted_names.replies}: the queue of clients waiting for the operator."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.replies import (
    Departure,
    Dismissed,
    FixedReply,
    OperatorGone,
    ReplyQueue,
    ReplyTimedOut,
    Waiter,
)


class RecordingObserver:
    """Records what the queue tells the operator, as tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def waiting(self, waiter: Waiter) -> None:
        self.events.append(("waiting", waiter.name))

    def answered(self, waiter: Waiter, reply: str, typedAhead: bool) -> None:
        self.events.append(("answered", waiter.name, reply, typedAhead))

    def kept(self, reply: str) -> None:
        self.events.append(("kept", reply))

    def left(self, waiter: Waiter, reason: Departure) -> None:
        self.events.append(("left", waiter.name, reason.value))

    def closed(self, dropped: list[Waiter]) -> None:
        self.events.append(("closed", [w.name for w in dropped]))

    def refused(self, waiter: Waiter) -> None:
        self.events.append(("refused", waiter.name))

    def ended(self, peer: str, reason: object) -> None:
        self.events.append(("ended", peer))


def makeQueue(timeout: float | None = None) -> tuple[ReplyQueue, Clock, RecordingObserver]:
    clock = Clock()
    queue = ReplyQueue(clock, timeout)
    observer = RecordingObserver()
    queue.observer = observer
    return queue, clock, observer


class FixedReplyTests(SynchronousTestCase):
    def test_answersAtOnce(self) -> None:
        self.assertEqual(self.successResultOf(FixedReply("Bob").ask("Ana", "peer")), "Bob")


class ReplyQueueTests(SynchronousTestCase):
    def test_answersInArrivalOrder(self) -> None:
        """Each line answers the client that has waited longest."""
        queue, _, observer = makeQueue()
        ana, bea, cid = (queue.ask(n, "p") for n in ("Ana", "Bea", "Cid"))
        self.assertEqual(len(queue), 3)
        queue.answer("one")
        queue.answer("two")
        self.assertEqual(self.successResultOf(ana), "one")
        self.assertEqual(self.successResultOf(bea), "two")
        self.assertNoResult(cid)
        self.assertEqual(len(queue), 1)
        head = queue.head
        assert head is not None
        self.assertEqual(head.name, "Cid")
        self.assertEqual(
            observer.events[3:],
            [("answered", "Ana", "one", False), ("answered", "Bea", "two", False)],
        )

    def test_leaverDoesNotSwallowNextReply(self) -> None:
        """
        A client that leaves (its Deferred cancelled) leaves the queue at
        once: the next line goes to the client behind it.
        """
        queue, _, observer = makeQueue()
        ana = queue.ask("Ana", "p")
        bea = queue.ask("Bea", "p")
        ana.cancel()
        self.failureResultOf(ana, CancelledError)
        self.assertEqual(len(queue), 1)
        queue.answer("for Bea")
        self.assertEqual(self.successResultOf(bea), "for Bea")
        self.assertIn(("left", "Ana", "left"), observer.events)

    def test_leaverInTheMiddle(self) -> None:
        queue, _, _ = makeQueue()
        ana, bea, cid = (queue.ask(n, "p") for n in ("Ana", "Bea", "Cid"))
        bea.cancel()
        self.failureResultOf(bea, CancelledError)
        self.assertEqual([w.name for w in queue.waiters()], ["Ana", "Cid"])
        queue.answer("1")
        queue.answer("2")
        self.assertEqual(self.successResultOf(ana), "1")
        self.assertEqual(self.successResultOf(cid), "2")
        self.assertEqual(len(queue), 0)

    def test_cancelAfterAnswerIsHarmless(self) -> None:
        queue, _, observer = makeQueue()
        ana = queue.ask("Ana", "p")
        queue.answer("x")
        ana.cancel()
        self.assertEqual(self.successResultOf(ana), "x")
        self.assertNotIn(("left", "Ana", "left"), observer.events)
        self.assertEqual(len(queue), 0)

    def test_typedAheadAnswersNextClients(self) -> None:
        """Lines typed while nobody waits answer the next clients, in order."""
        queue, _, observer = makeQueue()
        queue.answer("first")
        queue.answer("second")
        self.assertEqual(list(queue.typedAhead), ["first", "second"])
        self.assertEqual(self.successResultOf(queue.ask("Ana", "p")), "first")
        self.assertEqual(self.successResultOf(queue.ask("Bea", "p")), "second")
        pending = queue.ask("Cid", "p")
        self.assertNoResult(pending)
        self.assertEqual(
            observer.events[:4],
            [
                ("kept", "first"),
                ("kept", "second"),
                ("answered", "Ana", "first", True),
                ("answered", "Bea", "second", True),
            ],
        )

    def test_closeFailsEveryWaiter(self) -> None:
        queue, _, observer = makeQueue()
        ana, bea = queue.ask("Ana", "p"), queue.ask("Bea", "p")
        queue.close()
        self.failureResultOf(ana, OperatorGone)
        self.failureResultOf(bea, OperatorGone)
        self.assertEqual(len(queue), 0)
        self.assertIsNone(queue.head)
        self.assertEqual(observer.events[-1], ("closed", ["Ana", "Bea"]))

    def test_afterCloseTypedAheadThenRefusal(self) -> None:
        """After the input closes, typed-ahead lines still answer; then refusal."""
        queue, _, observer = makeQueue()
        queue.answer("kept")
        queue.close()
        self.assertEqual(self.successResultOf(queue.ask("Ana", "p")), "kept")
        failure = self.failureResultOf(queue.ask("Bea", "p"), OperatorGone)
        self.assertEqual(str(failure.value), "the operator's input is closed")
        self.assertEqual(observer.events[-1], ("refused", "Bea"))

    def test_closeTwice(self) -> None:
        queue, _, observer = makeQueue()
        queue.close()
        queue.close()
        self.assertEqual(observer.events, [("closed", [])])

    def test_timeoutClosesOnlyTheExpired(self) -> None:
        """Each client waits at most the timeout, counted from its arrival."""
        queue, clock, observer = makeQueue(timeout=10)
        ana = queue.ask("Ana", "p")
        clock.advance(4)
        bea = queue.ask("Bea", "p")
        clock.advance(5.9)
        self.assertNoResult(ana)
        clock.advance(0.1)
        failure = self.failureResultOf(ana, ReplyTimedOut)
        self.assertEqual(str(failure.value), "no reply within 10 s")
        self.assertNoResult(bea)
        self.assertEqual(observer.events[-1], ("left", "Ana", "timed out"))
        clock.advance(3.9)
        self.assertNoResult(bea)
        clock.advance(0.1)
        self.failureResultOf(bea, ReplyTimedOut)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_timeoutFollowsTheHead(self) -> None:
        """When the head is answered, the timer moves to the next client's deadline."""
        queue, clock, _ = makeQueue(timeout=10)
        queue.ask("Ana", "p")
        clock.advance(8)
        bea = queue.ask("Bea", "p")
        queue.answer("x")
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        clock.advance(9.9)
        self.assertNoResult(bea)
        clock.advance(0.1)
        self.failureResultOf(bea, ReplyTimedOut)

    def test_timeoutSameInstant(self) -> None:
        """Clients that arrived together expire together."""
        queue, clock, _ = makeQueue(timeout=5)
        waiting = [queue.ask(str(i), "p") for i in range(3)]
        clock.advance(5)
        for d in waiting:
            self.failureResultOf(d, ReplyTimedOut)
        self.assertEqual(len(queue), 0)

    def test_noTimeout(self) -> None:
        queue, clock, _ = makeQueue(timeout=0)
        ana = queue.ask("Ana", "p")
        self.assertEqual(clock.getDelayedCalls(), [])
        clock.advance(10**6)
        self.assertNoResult(ana)

    def test_leaverNeverTimesOut(self) -> None:
        queue, clock, observer = makeQueue(timeout=10)
        d = queue.ask("Ana", "p")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        clock.advance(10)
        self.assertNotIn(("left", "Ana", "timed out"), observer.events)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_stopTimeouts(self) -> None:
        """At shutdown the queue keeps no timer."""
        queue, clock, _ = makeQueue(timeout=10)
        d = queue.ask("Ana", "p")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        queue.stopTimeouts()
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_manyLeaversAreCompacted(self) -> None:
        """Clients who left do not pile up in memory behind a waiting head."""
        queue, _, _ = makeQueue()
        head = queue.ask("head", "p")
        for i in range(1000):
            leaver = queue.ask(str(i), "p")
            leaver.cancel()
            self.failureResultOf(leaver, CancelledError)
        self.assertLess(len(queue._waiting), 200)
        self.assertEqual(len(queue), 1)
        queue.answer("x")
        self.assertEqual(self.successResultOf(head), "x")


class DismissTests(SynchronousTestCase):
    def test_dismissClosesTheHeadOnly(self) -> None:
        """The head fails with Dismissed; the next line answers the one after it."""
        queue, _, observer = makeQueue(timeout=60)
        ana = queue.ask("Ana", "p1")
        bea = queue.ask("Bea", "p2")
        dismissed = queue.dismiss()
        self.assertIsNotNone(dismissed)
        assert dismissed is not None
        self.assertEqual(dismissed.name, "Ana")
        failure = self.failureResultOf(ana, Dismissed)
        self.assertEqual(str(failure.value), "closed by the operator without a reply")
        self.assertNoResult(bea)
        self.assertEqual(observer.events[-1], ("left", "Ana", "dismissed"))
        self.assertEqual(len(queue), 1)
        queue.answer("S")
        self.assertEqual(self.successResultOf(bea), "S")

    def test_dismissNobody(self) -> None:
        queue, _, observer = makeQueue()
        self.assertIsNone(queue.dismiss())
        self.assertEqual(observer.events, [])

    def test_dropTypedAhead(self) -> None:
        """Dropped typed-ahead lines answer nobody: the next client waits."""
        queue, _, _ = makeQueue()
        queue.answer("one")
        queue.answer("two")
        self.assertEqual(queue.dropTypedAhead(), ["one", "two"])
        self.assertEqual(queue.dropTypedAhead(), [])
        ana = queue.ask("Ana", "p")
        self.assertNoResult(ana)
        queue.answer("three")
        self.assertEqual(self.successResultOf(ana), "three")


class ReplyTimerTests(SynchronousTestCase):
    def test_oneTimerForAllWaiters(self) -> None:
        """However many wait, one timer runs: the head's."""
        queue, clock, _ = makeQueue(timeout=10)
        for i in range(100):
            queue.ask(f"c{i}", "p")
            clock.advance(0.01)
        self.assertEqual(len(clock.getDelayedCalls()), 1)

    def test_answeredHeadMovesTheDeadline(self) -> None:
        """The timer set for an answered head expires the new head at its own time."""
        queue, clock, observer = makeQueue(timeout=10)
        queue.ask("Ana", "p")
        clock.advance(4)
        bea = queue.ask("Bea", "p")
        queue.answer("x")
        clock.advance(6)  # Ana's deadline: Bea has waited 6 s only.
        self.assertNoResult(bea)
        clock.advance(4)
        self.failureResultOf(bea, ReplyTimedOut)
        self.assertIn(("left", "Bea", "timed out"), observer.events)
        self.assertEqual(clock.getDelayedCalls(), [])


class AnswerOrderTests(SynchronousTestCase):
    def test_observerHearsTheAnswerBeforeWhatItSetsOff(self) -> None:
        """
        The observer is told of an answer before the client's Deferred
        fires, so what the reply sets off (a chat client's next line) is told
        after it.
        """
        queue, _, observer = makeQueue()
        ana = queue.ask("Ana", "p")
        ana.addCallback(lambda _: queue.ask("Ana again", "p"))
        queue.answer("Bob")
        self.assertEqual(
            observer.events[1:], [("answered", "Ana", "Bob", False), ("waiting", "Ana again")]
        )


class WaiterIsItsDeferredTests(SynchronousTestCase):
    """
    A waiting client is one object: the L{Waiter} is the L{Deferred} that
    C{ask} returns (docs/performance.md, "Memory per waiting client (issue 18)").
    """

    def test_askReturnsTheWaiter(self) -> None:
        """The Deferred the protocol holds is the queue's record of the client."""
        queue, _, _ = makeQueue()
        asked = queue.ask("Ana", "peer")
        self.assertIs(asked, queue.head)
        self.assertIsInstance(asked, Waiter)

    def test_cancelWithdrawsAndFailsWithCancelled(self) -> None:
        """Cancelling withdraws the client; its Deferred fails as any cancelled one."""
        queue, _, observer = makeQueue()
        asked = queue.ask("Ana", "peer")
        asked.cancel()
        self.failureResultOf(asked, CancelledError)
        self.assertIsNone(queue.head)
        self.assertEqual(observer.events[-1], ("left", "Ana", "left"))
