"""Tests for L{twisted_names.timeouts}: equal timeouts on one timer."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.timeouts import SameTimeouts, Timeout


class SameTimeoutsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.timeouts = SameTimeouts(self.clock, 10)
        self.expired: list[str] = []

    def start(self, name: str) -> Timeout:
        return self.timeouts.start(lambda: self.expired.append(name))

    def test_expiresInStartOrder(self) -> None:
        self.start("a")
        self.clock.advance(3)
        self.start("b")
        self.start("c")
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(6.9)
        self.assertEqual(self.expired, [])
        self.clock.advance(0.1)
        self.assertEqual(self.expired, ["a"])
        self.clock.advance(3)
        self.assertEqual(self.expired, ["a", "b", "c"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(len(self.timeouts), 0)

    def test_cancelled(self) -> None:
        a = self.start("a")
        self.start("b")
        a.cancel()
        a.cancel()
        self.assertEqual(len(self.timeouts), 1)
        self.clock.advance(10)
        self.assertEqual(self.expired, ["b"])

    def test_timerGoesQuietWhenAllCancelled(self) -> None:
        """With nothing left to time, the timer fires once more, finds nothing, and stops."""
        started = [self.start(str(i)) for i in range(5)]
        for timeout in started:
            timeout.cancel()
        self.clock.advance(10)
        self.assertEqual((self.expired, self.clock.getDelayedCalls()), ([], []))
        self.start("again")
        self.clock.advance(10)
        self.assertEqual(self.expired, ["again"])

    def test_stop(self) -> None:
        self.start("a")
        self.timeouts.stop()
        self.assertEqual((self.clock.getDelayedCalls(), len(self.timeouts)), ([], 0))
        self.clock.advance(10)
        self.assertEqual(self.expired, [])

    def test_restartFromExpiry(self) -> None:
        """A timeout started while another expires gets a timer of its own, just one."""
        self.timeouts.start(lambda: self.start("restarted"))
        self.clock.advance(10)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(10)
        self.assertEqual(self.expired, ["restarted"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_cancelledPileCompacted(self) -> None:
        self.start("head")
        for i in range(1000):
            self.start(str(i)).cancel()
        self.assertLess(len(self.timeouts._started), 200)

    def test_noLimit(self) -> None:
        timeouts = SameTimeouts(self.clock, 0)
        timeout = timeouts.start(lambda: self.expired.append("x"))
        self.assertFalse(timeout.active)
        timeout.cancel()
        self.clock.advance(10**6)
        self.assertEqual((self.expired, self.clock.getDelayedCalls()), ([], []))
