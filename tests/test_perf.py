"""
Issue 18: the fast paths keep every behaviour (the exchange event, the name
timeout on one timer, a fixed reply), and C{--exchange-log summary}.
"""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.test_framing import Recorder
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
from twisted_names.wire import LF, UNTERMINATED, Message


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


class OneReadTests(TestCase):
    """
    A name that arrives alone in one read is framed without LineReceiver's
    loop and, with a fixed reply, answered in one call: everything it does
    is what the general path does for the same bytes arriving a byte a read.
    """

    INPUTS = (
        b"Ana\n",
        b"Ana\r\n",
        "João\n".encode(),
        b"\xffAna\n",  # Invalid UTF-8: a warning too.
        b"  \n",  # Blank: closed without a reply.
        b"\r\n",  # (Not b"\n": a byte a read is one read then.)
        b"Ana\r\r\n",
        b"A" * 6 + b"\n",  # Longer than --max-length 5.
        b"A" * 5 + b"\n",  # Exactly --max-length.
        b"A" * 5 + b"\r\n",
        # (Not b"A" * 6 + b"\r\n": LineReceiver itself counts its size
        # differently a byte a read; it never takes the one-read path.)
    )

    def exchange(self, data: bytes, whole: bool, **settings: object) -> tuple[object, ...]:
        """What the server does with C{data} sent at once or a byte a read."""
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        clock = Clock()
        factory = NameServerFactory(
            FixedReply("Bob"),
            clock,
            ServerSettings(maxLength=5, **settings),  # type: ignore[arg-type]
        )
        client = Client(factory)
        if whole:
            client.send(data)
        else:
            for i in range(len(data)):
                client.send(data[i : i + 1])
        sent, closed = client.received, client.closed
        client.finishClosing()
        fields = ("name", "reply")
        logged = [
            (e["log_level"], formatEvent(e), {k: v for k, v in e.items() if k in fields})
            for e in events
        ]
        return (
            sent,
            closed,
            logged,
            len(factory.clients),
            factory._silent,
            dict(factory.deadlines._due),
        )

    def test_sameAsAByteARead(self) -> None:
        for chat in (False, True):
            for data in self.INPUTS:
                self.assertEqual(
                    self.exchange(data, whole=True, chat=chat),
                    self.exchange(data, whole=False, chat=chat),
                    (data, chat),
                )

    def test_summary(self) -> None:
        """In a summary, the same counts."""
        for data in self.INPUTS:
            self.assertEqual(
                self.exchange(data, whole=True, exchangeLog=ExchangeLog.SUMMARY),
                self.exchange(data, whole=False, exchangeLog=ExchangeLog.SUMMARY),
                data,
            )

    def test_framingObserverSeesTheLine(self) -> None:
        """With the trace's observer on, the line is still a noted message."""
        from twisted_names.framing import Decision, FramingNote

        clock = Clock()
        factory = NameServerFactory(FixedReply("Bob"), clock, ServerSettings())
        client = Client(factory)
        notes: list[FramingNote] = []
        client.protocol.framingObserver = notes.append
        client.send(b"Ana\r\n")
        self.assertEqual([n.decision for n in notes], [Decision.LINE])
        self.assertEqual(notes[0].ending, b"\r\n")
        self.assertEqual(client.received, b"Bob\r\n")

    def test_peerDescribedWhenSaid(self) -> None:
        """The peer is described from the address buildProtocol was given."""
        from twisted.internet.address import IPv4Address

        factory = NameServerFactory(FixedReply("Bob"), Clock(), ServerSettings())
        protocol = factory.buildProtocol(IPv4Address("TCP", "10.0.0.7", 4242))
        self.assertEqual(protocol.peer, "10.0.0.7:4242")  # type: ignore[attr-defined]


class ClassicTextTests(TestCase):
    """L{ClassicText} writes what Twisted's classic text says, formats remembered or not."""

    def events(self) -> list[dict[str, object]]:
        from twisted_names.server import _EXCHANGE_EVENT

        return [
            {
                "log_format": _EXCHANGE_EVENT,
                "exchange": "1.2.3.4:5 'Ana' answered 'Bob' in 0.000 s",
                "log_level": LogLevel.info,
                "log_namespace": "names",
                "log_time": 1e9,
            },
            {"log_format": "{a}{b}", "a": "x", "b": "y", "log_level": LogLevel.warn},
            {"log_format": "{}", "log_level": LogLevel.info, "log_time": 1e9},
            {"log_format": "{text}", "text": "two\nlines", "log_time": 1e9},
            {"log_format": "{n}", "n": 3, "log_system": "sys", "log_time": 1e9},
            {"log_format": None, "log_time": 1e9},
            {"log_format": "plain words", "log_time": 1e9},
            {"log_format": "{text}", "text": "a second later", "log_time": 1e9 + 1},
        ]

    def test_sameAsTwisted(self) -> None:
        from twisted.logger import formatEventAsClassicLogText, formatTime

        from twisted_names.logs.observers import ClassicText

        for kept in (1024, 1):
            text = ClassicText()
            self.patch(ClassicText, "_FORMATS_KEPT", kept)
            for _ in range(2):  # The second time, from what was remembered.
                for event in self.events():
                    self.assertEqual(
                        text(event),
                        formatEventAsClassicLogText(event, formatTime=formatTime),
                        (kept, event),
                    )
            self.assertLessEqual(len(text._fieldOf), kept)
        # The exchange's format was remembered, and its field is what is written.
        from twisted_names.server import _EXCHANGE_EVENT

        text = ClassicText()
        text(self.events()[0])
        self.assertEqual(text._fieldOf, {_EXCHANGE_EVENT: "exchange"})


class SharedKeysTests(TestCase):
    """
    A connection sets no attribute that its constructor did not (CPython
    3.11 would then give it a dictionary of its own: docs/performance.md,
    "Memory per waiting client").
    """

    def newAttributes(self, replies: object, data: bytes, advance: float = 0) -> set[str]:
        from twisted.internet.address import IPv4Address
        from twisted.internet.testing import StringTransport

        from twisted_names.server import NameServerProtocol

        clock = Clock()
        factory = NameServerFactory(replies, clock, ServerSettings())  # type: ignore[arg-type]
        address = IPv4Address("TCP", "127.0.0.1", 50000)
        names = set(vars(NameServerProtocol(factory, address)))
        protocol = factory.buildProtocol(address)
        protocol.makeConnection(StringTransport(peerAddress=address))
        protocol.dataReceived(data)
        clock.advance(advance)
        return set(vars(protocol)) - names

    def test_waiting(self) -> None:
        """A client waiting for the operator's reply."""
        self.assertEqual(self.newAttributes(ReplyQueue(Clock(), 300), b"Ana\n"), set())

    def test_waitingUnterminated(self) -> None:
        """A course-style client: its name has no line ending."""
        self.assertEqual(self.newAttributes(ReplyQueue(Clock(), 300), b"Ana", advance=1), set())

    def test_answeredAtOnce(self) -> None:
        self.assertEqual(self.newAttributes(FixedReply("Bob"), b"Ana\n"), set())


class ReentrantRecorder(Recorder):
    """Feeds itself more bytes from inside the first message's delivery."""

    more = b"par"

    def messageReceived(self, message: Message) -> None:
        super().messageReceived(message)
        if len(self.outcomes) == 1:
            self.dataReceived(self.more)


class ReentrantFramingTests(SynchronousTestCase):
    """What LineReceiver does with bytes fed to it while it delivers a line."""

    def test_unterminatedFedWhileDeliveringStillFlushedByQuiet(self) -> None:
        r = ReentrantRecorder()
        r.dataReceived(b"a\n")
        r.fakeClock.advance(1)
        self.assertEqual(r.outcomes, [Message("a", LF, 1), Message("par", UNTERMINATED, 3)])

    def test_lineFedWhileDeliveringComesAfter(self) -> None:
        """LineReceiver holds re-entrant bytes until the current line's delivery returns."""
        events: list[str] = []

        class Nested(Recorder):
            def messageReceived(self, message: Message) -> None:
                events.append("start " + message.text)
                if message.text == "a":
                    self.dataReceived(b"b\n")
                events.append("end " + message.text)

        r = Nested()
        r.dataReceived(b"a\n")
        self.assertEqual(events, ["start a", "end a", "start b", "end b"])


class FusedAgainstGeneralTests(TestCase):
    """
    The fused answer (NameServerProtocol.lineDelivered) against the general
    path (Message, messageReceived, _ask, _reply) for the same bytes: a
    FixedReply subclass is not C{type(...) is FixedReply}, so it goes the
    general way, through its Deferred.
    """

    def exchange(self, replies: FixedReply, data: bytes, **settings: object) -> tuple[object, ...]:
        events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        clock = Clock()
        factory = NameServerFactory(
            replies,
            clock,
            ServerSettings(maxLength=5, **settings),  # type: ignore[arg-type]
        )
        client = Client(factory)
        client.send(data)
        sent, closed = client.received, client.closed
        state = (client.protocol.phase, client.protocol._exchanges, client.protocol.silent)
        due = dict(factory.deadlines._due)
        client.finishClosing()
        clock.advance(1)  # The summary's second.
        logged = [(e["log_level"], formatEvent(e)) for e in events]
        return sent, closed, state, due, logged, len(factory.clients), factory._silent

    def test_same(self) -> None:
        class General(FixedReply):
            pass

        inputs = (b"Ana\n", b"Ana\r\n", b"\xffAna\n", b"  \n", b"A" * 6 + b"\n", b"Ana\r\r\n")
        for settings in ({}, {"exchangeLog": ExchangeLog.SUMMARY}, {"nameTimeout": 0}):
            for data in inputs:
                self.assertEqual(
                    self.exchange(FixedReply("Bob"), data, **settings),
                    self.exchange(General("Bob"), data, **settings),
                    (data, settings),
                )
