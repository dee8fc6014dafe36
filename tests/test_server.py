"""Tests for L{twisted_names.server}: one client's exchange, limits and timeouts."""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory, NameServerProtocol, Refused, ServerSettings


class Client:
    """One fake connection to the server: a protocol on a L{StringTransport}."""

    def __init__(self, factory: NameServerFactory, port: int = 50000, host: str = "127.0.0.1"):
        self.address = IPv4Address("TCP", host, port)
        protocol = factory.buildProtocol(self.address)
        assert isinstance(protocol, NameServerProtocol)
        self.protocol: NameServerProtocol = protocol
        self.transport = StringTransport(peerAddress=self.address)
        protocol.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    @property
    def received(self) -> bytes:
        value: bytes = self.transport.value()
        return value

    @property
    def closed(self) -> bool:
        return self.transport.disconnecting

    def finishClosing(self, reason: Failure | None = None) -> None:
        """What the reactor does after loseConnection (or when the peer goes)."""
        self.protocol.connectionLost(reason or Failure(ConnectionDone()))


class ServerTestCase(TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def factory(self, **settings: object) -> NameServerFactory:
        return NameServerFactory(self.queue, self.clock, ServerSettings(**settings))  # type: ignore[arg-type]

    def logged(self, fragment: str) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.events if fragment in formatEvent(e)]


class ExchangeTests(ServerTestCase):
    def test_oneExchange(self) -> None:
        """The name goes to the operator, the reply back, and the connection closes."""
        client = Client(self.factory())
        client.send(b"Ana\n")
        self.assertEqual(client.received, b"")
        head = self.queue.head
        assert head is not None
        self.assertEqual((head.name, head.peer), ("Ana", "127.0.0.1:50000"))
        self.clock.advance(2)
        self.queue.answer("Server")
        self.assertEqual(client.received, b"Server\n")
        self.assertTrue(client.closed)

    def test_exchangeIsOneLogEvent(self) -> None:
        """Each exchange is one event with peer, name, reply and duration fields."""
        client = Client(self.factory())
        client.send(b"Ana\r\n")
        self.clock.advance(1.5)
        self.queue.answer("Bob")
        exchanges = [e for e in self.events if "reply" in e]
        self.assertEqual(len(exchanges), 1)
        event = exchanges[0]
        self.assertEqual(
            (event["peer"], event["name"], event["reply"], event["duration"]),
            ("127.0.0.1:50000", "Ana", "Bob", 1.5),
        )

    def test_crlfClientGetsCrlf(self) -> None:
        client = Client(self.factory())
        client.send(b"Ana\r\n")
        self.queue.answer("Bob")
        self.assertEqual(client.received, b"Bob\r\n")

    def test_fixedReply(self) -> None:
        client = Client(NameServerFactory(FixedReply("Bob"), self.clock))
        client.send(b"Ana\n")
        self.assertEqual(client.received, b"Bob\n")
        self.assertTrue(client.closed)

    def test_unterminatedNameAfterQuietPeriod(self) -> None:
        """A course-style peer (no line ending) is answered with no line ending."""
        client = Client(self.factory())
        client.send(b"An")
        self.clock.advance(0.2)
        client.send(b"a")
        self.clock.advance(0.2)
        self.assertIsNone(self.queue.head)
        self.clock.advance(0.05)
        head = self.queue.head
        assert head is not None
        self.assertEqual(head.name, "Ana")
        self.queue.answer("Bob")
        self.assertEqual(client.received, b"Bob")
        self.assertTrue(client.closed)

    def test_quietPeriodConfigurable(self) -> None:
        client = Client(self.factory(quietPeriod=2.0))
        client.send(b"Ana")
        self.clock.advance(1.9)
        self.assertIsNone(self.queue.head)
        self.clock.advance(0.1)
        self.assertIsNotNone(self.queue.head)

    def test_unterminatedBeforeHalfClose(self) -> None:
        """Bytes followed by the peer's half-close count as the name, answered at once."""
        client = Client(NameServerFactory(FixedReply("Bob"), self.clock))
        client.send(b"Ana")
        client.protocol.readConnectionLost()
        self.assertEqual(client.received, b"Bob")
        self.assertTrue(client.closed)

    def test_invalidUtf8IsReplacedAndLogged(self) -> None:
        client = Client(self.factory())
        client.send(b"An\xffa\n")
        head = self.queue.head
        assert head is not None
        self.assertEqual(head.name, "An\ufffda")
        self.assertEqual(len(self.logged("invalid UTF-8")), 1)

    def test_extraDataAfterNameIgnored(self) -> None:
        """In one-shot mode, what follows the name is ignored (and logged once)."""
        client = Client(self.factory())
        client.send(b"Ana\nmore\nand more\n")
        self.assertEqual(len(self.queue), 1)
        self.queue.answer("Bob")
        self.assertEqual(client.received, b"Bob\n")
        self.assertEqual(len(self.logged("sent more after its name")), 1)

    def test_emptyLineCloses(self) -> None:
        client = Client(self.factory())
        client.send(b"\n")
        self.assertTrue(client.closed)
        self.assertEqual(client.received, b"")
        self.assertEqual(len(self.queue), 0)
        self.assertEqual(len(self.logged("sent an empty line")), 1)

    def test_blankNameCloses(self) -> None:
        client = Client(self.factory())
        client.send(b"  \t \r\n")
        self.assertTrue(client.closed)
        self.assertEqual(len(self.queue), 0)


class LimitTests(ServerTestCase):
    def test_tooLongLineClosesThatClientOnly(self) -> None:
        factory = self.factory(maxLength=10)
        other = Client(factory, port=1)
        other.send(b"Ana\n")
        hostile = Client(factory, port=2)
        hostile.send(b"x" * 11 + b"\n")
        self.assertTrue(hostile.closed)
        self.assertEqual(hostile.received, b"")
        self.assertEqual(len(self.logged("longer than 10 bytes")), 1)
        self.queue.answer("Bob")
        self.assertEqual(other.received, b"Bob\n")

    def test_maxLengthExactlyAllowed(self) -> None:
        factory = self.factory(maxLength=10)
        client = Client(factory)
        client.send(b"x" * 10 + b"\r\n")
        self.assertFalse(client.closed)
        self.assertEqual(len(self.queue), 1)

    def test_tooLongWithoutLineEnding(self) -> None:
        """A name that never ends is cut as soon as it is too long."""
        client = Client(self.factory(maxLength=10))
        for _ in range(12):
            client.send(b"x")
        self.assertTrue(client.closed)
        self.assertEqual(len(self.queue), 0)

    def test_tooLongUnterminatedAfterQuiet(self) -> None:
        """maxLength + 1 bytes with no ending are too long, when they go quiet."""
        client = Client(self.factory(maxLength=10))
        client.send(b"x" * 11)
        self.clock.advance(0.25)
        self.assertTrue(client.closed)
        self.assertEqual(len(self.queue), 0)

    def test_maxClientsRefusesExcess(self) -> None:
        factory = self.factory(maxClients=2)
        first, _ = Client(factory, port=1), Client(factory, port=2)
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 3)), Refused)
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 4)), Refused)
        self.assertEqual(len(self.logged("the limit (--max-clients)")), 1)
        first.transport.loseConnection()
        first.finishClosing()
        third = Client(factory, port=5)
        self.assertEqual(len(self.logged("refused 2 connections")), 1)
        third.send(b"Ana\n")
        self.assertEqual(len(self.queue), 1)

    def test_maxPerAddress(self) -> None:
        """The per-address limit counts IPv4 and IPv6 hosts, not ports."""
        factory = self.factory(maxPerAddress=1)
        first = Client(factory, host="10.0.0.1", port=1)
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 2)), Refused)
        Client(factory, host="10.0.0.2", port=1)
        v6 = IPv6Address("TCP", "::1", 1)
        self.assertIsInstance(factory.buildProtocol(v6), NameServerProtocol)
        self.assertIsInstance(factory.buildProtocol(IPv6Address("TCP", "::1", 2)), Refused)
        # One line for each run of refusals: 10.0.0.1's, then ::1's.
        self.assertEqual(len(self.logged("the limit (--max-per-address)")), 2)
        first.finishClosing()
        self.assertIsInstance(
            factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 3)), NameServerProtocol
        )

    def test_refusedIsClosedAtOnce(self) -> None:
        factory = self.factory(maxClients=1)
        Client(factory, port=1)
        refused = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 2))
        transport = StringTransport()
        refused.makeConnection(transport)
        self.assertTrue(transport.disconnecting)

    def test_unixPeersHaveNoPerAddressLimit(self) -> None:
        factory = self.factory(maxPerAddress=1)
        for _ in range(3):
            self.assertIsInstance(factory.buildProtocol(UNIXAddress(None)), NameServerProtocol)

    def test_closeAll(self) -> None:
        factory = self.factory()
        clients = [Client(factory, port=p) for p in range(3)]
        self.assertEqual(factory.closeAll(), 3)
        self.assertTrue(all(c.closed for c in clients))


class TimeoutTests(ServerTestCase):
    def test_nameTimeout(self) -> None:
        """A client that sends nothing is cut after the name timeout."""
        client = Client(self.factory(nameTimeout=30))
        self.clock.advance(29.9)
        self.assertFalse(client.transport.disconnecting)
        self.clock.advance(0.1)
        self.assertTrue(client.transport.disconnecting)  # A FIN: see tests/test_nametimeout.py.
        self.assertEqual(len(self.logged("sent no name within 30 s")), 1)

    def test_slowlorisCutAtNameTimeout(self) -> None:
        """Trickling bytes does not extend the name timeout."""
        client = Client(self.factory(nameTimeout=30, quietPeriod=0))
        for _ in range(29):
            client.send(b"x")
            self.clock.advance(1)
        self.clock.advance(1)
        self.assertTrue(client.transport.disconnecting)
        self.assertEqual(len(self.queue), 0)

    def test_noNameTimeoutWhileWaitingForReply(self) -> None:
        client = Client(self.factory(nameTimeout=30))
        client.send(b"Ana\n")
        self.clock.advance(100)
        self.assertFalse(client.closed)
        self.queue.answer("Bob")
        self.assertEqual(client.received, b"Bob\n")

    def test_replyTimeoutClosesClient(self) -> None:
        client = Client(self.factory())
        client.send(b"Ana\n")
        self.clock.advance(300)
        self.assertTrue(client.closed)
        self.assertEqual(client.received, b"")
        self.assertEqual(len(self.logged("no reply within 300 s")), 1)

    def test_timersGoneAfterClose(self) -> None:
        """A closed client's timeouts do nothing more, and leave no timer behind."""
        factory = self.factory()
        client = Client(factory)
        client.send(b"Ana")
        client.finishClosing()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(60)
        self.assertEqual(self.logged("within"), [])
        waiting = Client(factory, port=2)
        waiting.send(b"Bea\n")
        self.assertEqual(factory.closeAll(), 1)
        waiting.finishClosing()
        self.queue.stopTimeouts()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class DisconnectTests(ServerTestCase):
    def test_leaverLeavesTheQueue(self) -> None:
        """A client that disconnects while waiting is removed; the next line is for the next."""
        factory = self.factory()
        ana, bea = Client(factory, port=1), Client(factory, port=2)
        ana.send(b"Ana\n")
        bea.send(b"Bea\n")
        ana.finishClosing(Failure(ConnectionLost()))
        self.assertEqual(len(self.queue), 1)
        self.queue.answer("for Bea")
        self.assertEqual(bea.received, b"for Bea\n")
        self.assertEqual(ana.received, b"")
        self.assertEqual(factory.clients, {bea.protocol})

    def test_nameThenCloseIsLoggedNotQueued(self) -> None:
        """Bytes that precede a full close are logged; nobody is left to answer."""
        client = Client(self.factory())
        client.send(b"Ana")
        client.finishClosing()
        self.assertEqual(len(self.queue), 0)
        self.assertEqual(len(self.logged("'Ana' and closed the connection")), 1)

    def test_finWhileWaitingLeavesTheLine(self) -> None:
        """
        A waiting client that closes its side (as one that quits, is
        interrupted or killed does) leaves the line: the next reply is for
        the client behind it.
        """
        factory = self.factory()
        ana, bea = Client(factory, port=1), Client(factory, port=2)
        ana.send(b"Ana\n")
        bea.send(b"Bea\n")
        ana.protocol.readConnectionLost()
        self.assertTrue(ana.closed)
        self.assertEqual(len(self.queue), 1)
        self.queue.answer("for Bea")
        self.assertEqual((ana.received, bea.received), (b"", b"for Bea\n"))

    def test_finAfterNameWithTypedAheadReply(self) -> None:
        """A reply ready at once still reaches a client that half-closed (nc -N)."""
        self.queue.answer("ready")
        client = Client(self.factory())
        client.send(b"Ana\n")
        client.protocol.readConnectionLost()
        self.assertEqual(client.received, b"ready\n")
        self.assertTrue(client.closed)

    def test_halfCloseWithoutName(self) -> None:
        client = Client(self.factory())
        client.protocol.readConnectionLost()
        self.assertTrue(client.closed)
        self.assertEqual(len(self.logged("closed without a name")), 1)

    def test_operatorGoneClosesClient(self) -> None:
        client = Client(self.factory())
        client.send(b"Ana\n")
        self.queue.close()
        self.assertTrue(client.closed)
        self.assertEqual(client.received, b"")


class ChatTests(ServerTestCase):
    def test_turnAfterTurn(self) -> None:
        client = Client(self.factory(chat=True))
        client.send(b"hello\n")
        self.queue.answer("hi")
        self.assertFalse(client.closed)
        client.send(b"how are you\n")
        self.queue.answer("fine")
        self.assertEqual(client.received, b"hi\nfine\n")
        client.send(b"\n")
        self.assertTrue(client.closed)
        self.assertEqual(len(self.events_with_reply()), 2)

    def events_with_reply(self) -> list[object]:
        return [e for e in self.events if "reply" in e]

    def test_linesAheadAreAnsweredInOrder(self) -> None:
        client = Client(self.factory(chat=True))
        client.send(b"one\ntwo\n")
        self.assertEqual(len(self.queue), 1)
        self.queue.answer("1")
        self.assertEqual(len(self.queue), 1)
        self.queue.answer("2")
        self.assertEqual(client.received, b"1\n2\n")

    def test_emptyLineWhileWaitingClosesAfterReply(self) -> None:
        client = Client(self.factory(chat=True))
        client.send(b"one\n\n")
        self.assertFalse(client.closed)
        self.queue.answer("1")
        self.assertEqual(client.received, b"1\n")
        self.assertTrue(client.closed)

    def test_linesAheadThenEmptyLineAllAnswered(self) -> None:
        """Lines sent before the empty line are owed a reply; then the close."""
        client = Client(self.factory(chat=True))
        client.send(b"a\nb\n\nafter the end\n")
        self.queue.answer("1")
        self.assertFalse(client.closed)
        self.queue.answer("2")
        self.assertEqual(client.received, b"1\n2\n")
        self.assertTrue(client.closed)
        self.assertEqual(len(self.queue), 0)

    def test_tooManyLinesAheadCloses(self) -> None:
        client = Client(self.factory(chat=True))
        client.send(b"".join(b"%d\n" % i for i in range(18)))
        self.assertTrue(client.closed)
        self.assertEqual(len(self.logged("lines ahead of the replies")), 1)

    def test_idleTimeoutBetweenTurns(self) -> None:
        client = Client(self.factory(chat=True, nameTimeout=30))
        client.send(b"one\n")
        self.clock.advance(100)
        self.queue.answer("1")
        self.clock.advance(29)
        self.assertFalse(client.transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(client.transport.disconnecting)
        self.assertEqual(len(self.logged("sent no next line within 30 s")), 1)

    def test_unterminatedChatPeer(self) -> None:
        """The course's chat sent each turn with no line ending."""
        client = Client(self.factory(chat=True))
        client.send(b"one")
        self.clock.advance(0.25)
        self.queue.answer("1")
        client.send(b"two")
        self.clock.advance(0.25)
        self.queue.answer("2")
        self.assertEqual(client.received, b"12")
        self.assertFalse(client.closed)


class EscapedAddressTests(ServerTestCase):
    def test_unixPeerPathEscapedEverywhere(self) -> None:
        """
        A UNIX-socket client chooses its own path (or abstract name): it is
        escaped before it reaches the console (the queue's C{peer}) or a log
        line, so it can neither send escape sequences nor forge a line.
        """
        from twisted.internet.address import UNIXAddress

        hostile = b'\x00x\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\n> Next line answers "Eve"'
        factory = self.factory(maxLength=8)
        protocol = factory.buildProtocol(UNIXAddress(hostile))
        assert isinstance(protocol, NameServerProtocol)
        transport = StringTransport(peerAddress=UNIXAddress(hostile))
        protocol.makeConnection(transport)
        protocol.dataReceived(b"Ana\n")
        head = self.queue.head
        assert head is not None
        self.assertEqual(
            head.peer,
            'unix:\\x00x\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\r\\n> Next line answers \\"Eve\\"',
        )
        protocol.dataReceived(b"\n")  # Ignored: one-shot mode.
        protocol.readConnectionLost()
        from twisted.logger import formatEvent

        for event in self.events:
            text = formatEvent(event)
            self.assertTrue(text.isprintable(), text)


class CloseTests(ServerTestCase):
    """Every way a connection ends: the queue is left at once, one log line."""

    def assertOneClosingLine(self) -> None:
        from twisted.logger import formatEvent

        closing = [formatEvent(e) for e in self.events if "closing" in formatEvent(e)]
        self.assertEqual(len(closing), 1, closing)

    def test_backlogOverflowLeavesTheQueueAtOnce(self) -> None:
        factory = self.factory(chat=True)
        client = Client(factory)
        client.send(b"".join(b"%d\n" % i for i in range(18)))
        self.assertTrue(client.closed)
        self.assertIsNone(self.queue.head)  # Before the connection is even gone.
        self.assertOneClosingLine()

    def test_tooLongWhileAskingLeavesTheQueueAtOnce(self) -> None:
        client = Client(self.factory(chat=True, maxLength=8))
        client.send(b"Ana\n" + b"x" * 20 + b"\n")
        self.assertTrue(client.closed)
        self.assertIsNone(self.queue.head)
        self.assertOneClosingLine()

    def test_notReadingChatClientTimesOut(self) -> None:
        """
        A chat client whose replies fill the send buffer is not read from,
        and is closed if it takes none of them within the name timeout.
        """
        client = Client(self.factory(chat=True, nameTimeout=30))
        client.send(b"one\ntwo\n")
        client.protocol.pauseProducing()  # What the transport does when its buffer is full.
        self.assertEqual(client.transport.producerState, "paused")
        self.queue.answer("1")
        self.assertIsNotNone(self.queue.head)  # "two" was read before the pause.
        self.clock.advance(30)
        self.assertTrue(client.transport.disconnecting)
        self.assertIsNone(self.queue.head)
        self.assertEqual(len(self.logged("took none of its replies within 30 s")), 1)
        self.assertOneClosingLine()

    def test_resumedChatClientIsReadAgain(self) -> None:
        client = Client(self.factory(chat=True, nameTimeout=30))
        client.protocol.pauseProducing()
        client.send(b"one\n")
        self.assertIsNone(self.queue.head)  # Not read while paused.
        client.protocol.resumeProducing()
        self.assertEqual(client.transport.producerState, "producing")
        self.assertIsNotNone(self.queue.head)
        self.clock.advance(100)
        self.assertFalse(client.closed)

    def test_failingReplySourceClosesWithoutUnhandledError(self) -> None:
        """A reply source failing with anything but NoReply: logged, client closed."""
        from twisted.internet.defer import fail

        class Broken:
            def ask(self, name: str, peer: str) -> object:
                return fail(RuntimeError("boom"))

        factory = NameServerFactory(Broken(), self.clock, ServerSettings())  # type: ignore[arg-type]
        client = Client(factory)
        client.send(b"Ana\n")
        self.assertTrue(client.closed)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(len(self.logged("the reply source failed; closing")), 1)

    def test_emptyLineThenFinIsOneLine(self) -> None:
        client = Client(self.factory())
        client.send(b"\n")
        client.protocol.readConnectionLost()
        client.finishClosing()
        self.assertEqual(len(self.logged("sent an empty line")), 1)
        self.assertOneClosingLine()

    def test_linesAfterNameAtCloseAreNotOneBogusMessage(self) -> None:
        """
        Lines after the name, still buffered when the connection closes, are
        the extra data they are: no "too long" warning, no made-up message.
        """
        factory = NameServerFactory(FixedReply("Bob"), self.clock, ServerSettings(maxLength=10))
        client = Client(factory)
        client.send(b"Ana\nsecond line\nthird\n")
        client.finishClosing()
        self.assertEqual(client.received, b"Bob\n")
        self.assertEqual(self.logged("longer than"), [])
        self.assertEqual(self.logged("and closed the connection"), [])

    def test_extraLinesCostNoParsing(self) -> None:
        """
        After the name (one-shot), more bytes are dropped as they arrive,
        unparsed, logged once; leaving is still noticed at once.
        """
        parsed: list[bytes] = []
        factory = self.factory()
        client = Client(factory)
        original = client.protocol.lineReceived

        def counting(line: bytes) -> None:
            parsed.append(line)
            original(line)

        client.protocol.lineReceived = counting  # type: ignore[method-assign]
        client.send(b"Ana\n" + b"x\n" * 50_000)
        client.send(b"\xff\n" * 50_000)
        self.assertEqual(parsed, [b"Ana"])
        self.assertEqual(len(self.logged("sent more after its name")), 1)
        self.assertEqual(self.logged("invalid UTF-8"), [])
        client.protocol.readConnectionLost()
        self.assertIsNone(self.queue.head)

    def test_invalidUtf8WarnedOncePerConnection(self) -> None:
        client = Client(self.factory(chat=True))
        for _ in range(5):
            client.send(b"\xff\n")
            self.queue.answer("ok")
        self.assertEqual(client.received, b"ok\n" * 5)
        self.assertEqual(len(self.logged("invalid UTF-8")), 1)
