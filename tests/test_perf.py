"""
Issue 18: the fast paths keep every behaviour (the exchange event, the name
timeout on one timer, a fixed reply), and C{--exchange-log summary}.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.python import usage
from twisted.trial.unittest import TestCase

from tests.test_server import Client
from twisted_names.app.tap import Options
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import (
    SUMMARY,
    ExchangeLog,
    ExchangeSummary,
    NameServerFactory,
    ServerSettings,
    log,
    logExchange,
)


class ExchangeEventTests(TestCase):
    """The exchange event, made without L{Logger.emit}, is the one it made."""

    def test_sameEventAsLogInfo(self) -> None:
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        logExchange("127.0.0.1:1", "Ana\x1b", "Bob", 0.25)
        from twisted_names.server import _EXCHANGE_EVENT

        log.info(
            _EXCHANGE_EVENT,
            exchange="127.0.0.1:1 'Ana\\x1b' answered 'Bob' in 0.250 s",
            peer="127.0.0.1:1",
            name="Ana\x1b",
            reply="Bob",
            duration=0.25,
        )
        fast, emitted = events
        self.assertLessEqual(emitted["log_time"] - fast["log_time"], 1)
        self.assertEqual(sorted(fast), sorted(emitted))
        for key in fast:
            # When, and the legacy log's copies: made by the observers.
            if key not in {"log_time", "time", "message", "log_legacy", "format"}:
                self.assertEqual(fast[key], emitted[key], key)
        self.assertIs(fast["log_level"], LogLevel.info)
        self.assertEqual(formatEvent(fast), "127.0.0.1:1 'Ana\\x1b' answered 'Bob' in 0.250 s")


class OneTimerTests(TestCase):
    """The name timeout of every connection runs on one timer."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.factory = NameServerFactory(
            ReplyQueue(self.clock, 300), self.clock, ServerSettings(nameTimeout=30)
        )

    def test_oneTimerForMany(self) -> None:
        """A hundred silent connections, one timer."""
        for port in range(100):
            Client(self.factory, port=port)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)

    def test_eachClosedAtItsOwnDeadline(self) -> None:
        """Connections that came at different times time out in turn."""
        first = Client(self.factory, port=1)
        self.clock.advance(10)
        second = Client(self.factory, port=2)
        self.clock.advance(20)
        self.assertTrue(first.closed)
        self.assertFalse(second.closed)
        self.clock.advance(9.9)
        self.assertFalse(second.closed)
        self.clock.advance(0.1)
        self.assertTrue(second.closed)

    def test_aNameStopsOnlyItsOwn(self) -> None:
        """The first sent its name: the second still times out, the first does not."""
        first = Client(self.factory, port=1)
        self.clock.advance(5)
        second = Client(self.factory, port=2)
        first.send(b"Ana\n")
        self.clock.advance(30)
        self.assertFalse(first.closed)
        self.assertTrue(second.closed)

    def test_noTimerOnceNoneWaits(self) -> None:
        """The timer goes with the last deadline."""
        client = Client(self.factory)
        client.send(b"Ana\n")
        timers = [c.func for c in self.clock.getDelayedCalls()]  # type: ignore[attr-defined]
        self.assertNotIn(self.factory.deadlines._expire, timers)
        self.assertEqual(len(timers), 1)  # The reply queue's own.


class FixedReplyTests(TestCase):
    """C{--name}: the reply is sent at once, and logged as before."""

    def test_answeredAtOnce(self) -> None:
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        clock = Clock()
        factory = NameServerFactory(FixedReply("Bob"), clock, ServerSettings())
        client = Client(factory)
        client.send(b"Ana\r\n")
        self.assertEqual(client.received, b"Bob\r\n")
        self.assertTrue(client.closed)
        self.assertEqual([e["duration"] for e in events if "reply" in e], [0.0])


class SummaryTests(TestCase):
    """C{--exchange-log summary}: one line a second, nothing in a quiet one."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.factory = NameServerFactory(
            FixedReply("Bob"),
            self.clock,
            ServerSettings(exchangeLog=ExchangeLog.SUMMARY, maxClients=2, evictSilent=False),
        )

    def summaries(self) -> list[str]:
        return [formatEvent(e) for e in self.events if e.get("log_format") == SUMMARY]

    def test_countsOfASecond(self) -> None:
        """Answered, closed without a reply, refused: counted, logged at the second's end."""
        for port in range(3):
            client = Client(self.factory, port=port)
            client.send(b"Ana\n")
            client.finishClosing()
        silent = Client(self.factory, port=10)
        Client(self.factory, port=11)
        self.factory.buildProtocol(silent.address)  # Full: refused.
        silent.send(b"\n")  # An empty line: closed without a reply.
        silent.finishClosing()
        self.assertEqual([e for e in self.events if "reply" in e], [])
        self.assertEqual(self.summaries(), [])
        self.clock.advance(ExchangeSummary.PERIOD)
        self.assertEqual(
            self.summaries(),
            ["in the last second, connections answered: 3; closed without a reply: 1; refused: 1"],
        )

    def test_quietSecondSaysNothing(self) -> None:
        """No exchange, no line and no timer."""
        client = Client(self.factory)
        client.send(b"Ana\n")
        client.finishClosing()
        self.clock.advance(ExchangeSummary.PERIOD)
        self.clock.advance(ExchangeSummary.PERIOD * 5)
        self.assertEqual(len(self.summaries()), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_stopSaysWhatIsCounted(self) -> None:
        """The last part of a second is logged when the server stops."""
        client = Client(self.factory)
        client.send(b"Ana\n")
        client.finishClosing()
        self.factory.stopFactory()
        self.assertEqual(len(self.summaries()), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_eachIsTheDefault(self) -> None:
        self.assertIs(ServerSettings().exchangeLog, ExchangeLog.EACH)


class ExchangeLogOptionTests(TestCase):
    """C{--exchange-log each|summary}."""

    def test_values(self) -> None:
        for argv, mode in (([], "each"), (["--exchange-log", "summary"], "summary")):
            options = Options()
            options.parseOptions(["--name", "Bob", *argv])
            self.assertEqual(ExchangeLog(options["exchange-log"]).value, mode)

    def test_badValue(self) -> None:
        options = Options()
        error = self.assertRaises(
            usage.UsageError, options.parseOptions, ["--name", "Bob", "--exchange-log", "few"]
        )
        self.assertIn("'few' is not 'each' or 'summary'", str(error))


class OneTimerFailureTests(TestCase):
    """A connection whose timeout fails does not keep the others open."""

    def test_othersStillClosed(self) -> None:
        clock = Clock()
        factory = NameServerFactory(ReplyQueue(clock, 300), clock, ServerSettings(nameTimeout=30))
        broken, other = Client(factory, port=1), Client(factory, port=2)

        def fail() -> None:
            raise RuntimeError("broken")

        broken.protocol.timeoutConnection = fail  # type: ignore[method-assign]
        clock.advance(30)
        self.assertTrue(other.closed)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
