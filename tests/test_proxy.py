"""
names-proxy's relay in memory (L{twisted_names.proxy.relay}): every rule of
issue 17 with fake transports and a fake endpoint for the server, no sockets
and no reactor; and the trace of it (the ladder and the Mermaid file).
"""

from __future__ import annotations

import errno
import io
from typing import Any

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from twisted_names.proxy.relay import (
    NoUpstream,
    NoWatcher,
    Phase,
    RelayFactory,
    RelayServer,
    RelaySettings,
    Side,
    whyNoUpstream,
)
from twisted_names.server import Refused

CLIENT = IPv4Address("TCP", "127.0.0.1", 40000)
PROXY = IPv4Address("TCP", "127.0.0.1", 5001)
PROXY_OUT = IPv4Address("TCP", "127.0.0.1", 41000)
SERVER = IPv4Address("TCP", "127.0.0.1", 5000)


class Leg(StringTransport):
    """
    A TCP transport as the relay sees it: each write kept apart, a FIN sent
    (C{loseWriteConnection}), a reset (C{abortConnection}); and flow control
    as Twisted's own transports do it: more than C{bufferSize} bytes queued
    pauses the producer registered, and L{drain} (the peer reading) resumes it.
    """

    bufferSize = 64 * 1024

    def __init__(self, host: IPv4Address, peer: IPv4Address) -> None:
        super().__init__(host, peer)
        self.writes: list[bytes] = []
        self.finSent = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.writes.append(data)
        if self.producer is not None and self.streaming and len(self.value()) > self.bufferSize:
            self.producer.pauseProducing()

    def loseWriteConnection(self) -> None:
        self.finSent = True

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()

    def drain(self) -> bytes:
        """The peer reads everything queued: a paused producer is resumed."""
        data: bytes = self.value()
        self.clear()
        if self.producer is not None and self.streaming:
            self.producer.resumeProducing()
        return data


@implementer(IStreamClientEndpoint)
class FakeServerEndpoint:
    """
    The server's endpoint: each C{connect} is a Deferred the test fires
    (L{accept}, or errback), cancellable as a real one is.
    """

    def __init__(self) -> None:
        self.attempts: list[tuple[IProtocolFactory, Deferred[IProtocol]]] = []
        self.cancelled = 0

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        def cancel(d: Deferred[IProtocol]) -> None:
            self.cancelled += 1
            d.errback(error.ConnectingCancelledError(SERVER))

        d: Deferred[IProtocol] = Deferred(cancel)
        self.attempts.append((factory, d))
        return d

    def accept(self, index: int = -1) -> tuple[Any, Leg]:
        """The server accepts: the protocol built and its transport."""
        factory, d = self.attempts[index]
        protocol = factory.buildProtocol(SERVER)
        assert protocol is not None
        transport = Leg(PROXY_OUT, SERVER)
        protocol.makeConnection(transport)
        d.callback(protocol)
        return protocol, transport


class RecordingWatcher(NoWatcher):
    """Keeps what the relay says."""

    def __init__(self) -> None:
        self.failures: list[tuple[NoUpstream, str]] = []
        self.idled = 0

    def upstreamFailed(
        self, relay: RelayServer, why: NoUpstream, took: float, detail: str
    ) -> None:
        self.failures.append((why, detail))

    def idle(self, relay: RelayServer) -> None:
        self.idled += 1


class RelayHarness:
    """A relay factory, a fake server endpoint and a clock, for one test."""

    def __init__(self, settings: RelaySettings | None = None) -> None:
        self.clock = Clock()
        self.endpoint = FakeServerEndpoint()
        self.watcher = RecordingWatcher()
        self.factory = RelayFactory(self.endpoint, self.clock, settings, self.watcher)

    def client(self) -> tuple[Any, Leg]:
        """A client connects to the proxy."""
        protocol = self.factory.buildProtocol(CLIENT)
        transport = Leg(PROXY, CLIENT)
        protocol.makeConnection(transport)
        return protocol, transport

    def relayed(self) -> tuple[Any, Leg, Any, Leg]:
        """A client connected, and the server accepted: both legs."""
        client, clientLeg = self.client()
        server, serverLeg = self.endpoint.accept()
        return client, clientLeg, server, serverLeg


class ChunkTests(SynchronousTestCase):
    """Each chunk read on one side is written to the other at once, as one write."""

    def test_clientNotReadUntilTheServerAccepts(self) -> None:
        relay = RelayHarness()
        client, clientLeg = relay.client()
        self.assertEqual(clientLeg.producerState, "paused")
        self.assertIs(client.phase, Phase.CONNECTING)
        relay.endpoint.accept()
        self.assertEqual(clientLeg.producerState, "producing")
        self.assertIs(client.phase, Phase.RELAYING)

    def test_chunksOneToOne(self) -> None:
        """Two chunks are two writes, in order, unchanged: never joined or split."""
        client, clientLeg, server, serverLeg = RelayHarness().relayed()
        client.dataReceived(b"An")
        client.dataReceived(b"a")
        server.dataReceived(b"Ol\xc3\xa1, Ana")
        self.assertEqual(serverLeg.writes, [b"An", b"a"])
        self.assertEqual(clientLeg.writes, [b"Ol\xc3\xa1, Ana"])
        self.assertEqual((client.toServer, client.toClient), (3, 9))

    def test_noLineEndingNeeded(self) -> None:
        """Bytes with no line ending, and a line ending alone, pass as they came."""
        client, _, _, serverLeg = RelayHarness().relayed()
        for chunk in (b"A", b"\r", b"\n", b"\x00\xff"):
            client.dataReceived(chunk)
        self.assertEqual(serverLeg.writes, [b"A", b"\r", b"\n", b"\x00\xff"])

    def test_producersBothWays(self) -> None:
        """portforward's wiring: each transport the other's streaming producer."""
        _client, clientLeg, _server, serverLeg = RelayHarness().relayed()
        self.assertIs(serverLeg.producer, clientLeg)
        self.assertIs(clientLeg.producer, serverLeg)
        self.assertTrue(serverLeg.streaming and clientLeg.streaming)


class HalfCloseTests(SynchronousTestCase):
    """A FIN read on one side is a FIN sent to the other; the other direction stays open."""

    def test_clientFinishesFirst(self) -> None:
        relay = RelayHarness()
        client, clientLeg, server, serverLeg = relay.relayed()
        client.dataReceived(b"Ana")
        client.readConnectionLost()
        self.assertTrue(serverLeg.finSent)
        self.assertFalse(serverLeg.disconnecting)
        self.assertFalse(clientLeg.disconnecting)
        # The server still answers, and the answer gets through.
        server.dataReceived(b"Oi")
        self.assertEqual(clientLeg.writes, [b"Oi"])
        # Then the server finishes: both legs are done both ways, and closed.
        server.readConnectionLost()
        self.assertTrue(clientLeg.disconnecting)
        self.assertTrue(serverLeg.disconnecting)
        self.assertFalse(clientLeg.aborted or serverLeg.aborted)
        self.assertEqual(client.first, Side.CLIENT)

    def test_serverFinishesFirst(self) -> None:
        relay = RelayHarness()
        client, clientLeg, server, serverLeg = relay.relayed()
        server.dataReceived(b"Oi")
        server.readConnectionLost()
        self.assertTrue(clientLeg.finSent)
        self.assertFalse(clientLeg.disconnecting)
        client.dataReceived(b"tchau")
        self.assertEqual(serverLeg.writes, [b"tchau"])
        client.readConnectionLost()
        self.assertTrue(clientLeg.disconnecting and serverLeg.disconnecting)
        self.assertEqual(client.first, Side.SERVER)
        self.assertFalse(client.firstWasReset)


class ResetTests(SynchronousTestCase):
    """A reset (or a broken connection) on one side is a reset on the other."""

    def test_clientResets(self) -> None:
        client, _clientLeg, _server, serverLeg = RelayHarness().relayed()
        client.connectionLost(Failure(error.ConnectionLost("Connection reset by peer")))
        self.assertTrue(serverLeg.aborted)
        self.assertEqual((client.first, client.firstWasReset), (Side.CLIENT, True))

    def test_serverResets(self) -> None:
        """The reset a server causes by closing with unread bytes reaches the client."""
        client, clientLeg, server, _serverLeg = RelayHarness().relayed()
        client.dataReceived(b"Ana")
        server.connectionLost(Failure(error.ConnectionLost("Connection reset by peer")))
        self.assertTrue(clientLeg.aborted)
        self.assertEqual((client.first, client.firstWasReset), (Side.SERVER, True))

    def test_cleanCloseIsNotAReset(self) -> None:
        """A connection lost cleanly closes the other (portforward's rule), no reset."""
        _client, clientLeg, server, _serverLeg = RelayHarness().relayed()
        server.connectionLost(Failure(error.ConnectionDone()))
        self.assertTrue(clientLeg.disconnecting)
        self.assertFalse(clientLeg.aborted)

    def test_bothGoneForgotten(self) -> None:
        relay = RelayHarness()
        client, _clientLeg, server, _serverLeg = relay.relayed()
        self.assertEqual(len(relay.factory.relays), 1)
        client.connectionLost(Failure(error.ConnectionLost()))
        self.assertEqual(len(relay.factory.relays), 1)  # The server's leg is still open.
        server.connectionLost(Failure(error.ConnectionAborted()))
        self.assertEqual(relay.factory.relays, set())
        self.assertIs(client.phase, Phase.DONE)


class UpstreamFailureTests(SynchronousTestCase):
    """No server: the client's connection is closed, said once, and the proxy goes on."""

    def check(self, failure: Failure, why: NoUpstream) -> RelayHarness:
        relay = RelayHarness()
        client, clientLeg = relay.client()
        relay.endpoint.attempts[0][1].errback(failure)
        self.assertTrue(clientLeg.disconnecting)
        self.assertFalse(clientLeg.aborted)
        self.assertEqual([w for w, _ in relay.watcher.failures], [why])
        client.connectionLost(Failure(error.ConnectionDone()))
        self.assertEqual(relay.factory.relays, set())
        # The proxy goes on: the next client is relayed.
        relay.client()
        relay.endpoint.accept()
        self.assertEqual(len(relay.factory.relays), 1)
        return relay

    def test_refused(self) -> None:
        self.check(Failure(error.ConnectionRefusedError()), NoUpstream.REFUSED)

    def test_unreachable(self) -> None:
        self.check(Failure(error.NoRouteError()), NoUpstream.UNREACHABLE)

    def test_unreachableByErrno(self) -> None:
        """Twisted's ConnectError keeps the system's number: EHOSTUNREACH, ENETUNREACH."""
        for number in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            failure = Failure(error.ConnectError(number, "unreachable"))
            self.assertEqual(whyNoUpstream(failure)[0], NoUpstream.UNREACHABLE)

    def test_otherSaysTheSystemsWords(self) -> None:
        failure = Failure(error.DNSLookupError("no such host"))
        self.assertEqual(whyNoUpstream(failure), (NoUpstream.OTHER, "no such host"))

    def test_timedOut(self) -> None:
        """No answer within --connect-timeout (the clock's): the attempt is cancelled."""
        relay = RelayHarness(RelaySettings(connectTimeout=3))
        _client, clientLeg = relay.client()
        relay.clock.advance(2.9)
        self.assertFalse(clientLeg.disconnecting)
        relay.clock.advance(0.1)
        self.assertEqual(relay.endpoint.cancelled, 1)
        self.assertTrue(clientLeg.disconnecting)
        self.assertEqual([w for w, _ in relay.watcher.failures], [NoUpstream.TIMED_OUT])

    def test_clientLeavesWhileConnecting(self) -> None:
        """The attempt is cancelled, and nothing is said: no server was missed."""
        relay = RelayHarness()
        client, _clientLeg = relay.client()
        client.connectionLost(Failure(error.ConnectionLost()))
        self.assertEqual(relay.endpoint.cancelled, 1)
        self.assertEqual(relay.watcher.failures, [])
        self.assertEqual(relay.factory.relays, set())
        self.assertEqual(relay.clock.getDelayedCalls(), [])


class FlowControlTests(SynchronousTestCase):
    """A slow reader pauses the fast writer: memory per connection stays bounded."""

    def flood(self, reader: str) -> None:
        client, clientLeg, server, serverLeg = RelayHarness().relayed()
        # The fast writer's side is read only while its transport produces,
        # as a real one is: delivered chunk by chunk until paused.
        writer, writerLeg, readerLeg = (
            (client, clientLeg, serverLeg)
            if reader == "server"
            else (server, serverLeg, clientLeg)
        )
        chunk = b"x" * 16384
        sent = 0
        for _ in range(10_000):  # 160 MB offered
            if writerLeg.producerState != "producing":
                break
            writer.dataReceived(chunk)
            sent += len(chunk)
        self.assertEqual(writerLeg.producerState, "paused")
        held = len(readerLeg.value())
        self.assertLessEqual(held, readerLeg.bufferSize + len(chunk))
        self.assertLess(sent, 1024 * 1024)
        # The reader reads: the writer is read again.
        self.assertEqual(len(readerLeg.drain()), held)
        self.assertEqual(writerLeg.producerState, "producing")

    def test_slowServer(self) -> None:
        self.flood("server")

    def test_slowClient(self) -> None:
        self.flood("client")


class LimitTests(SynchronousTestCase):
    def test_maxClients(self) -> None:
        """Over --max-clients: refused at once (an abort), as names-server does."""
        relay = RelayHarness(RelaySettings(maxClients=1))
        relay.client()
        refused = relay.factory.buildProtocol(CLIENT)
        self.assertIsInstance(refused, Refused)
        self.assertEqual(len(relay.endpoint.attempts), 1)  # No server connection for it.

    def test_noIdleTimeoutByDefault(self) -> None:
        relay = RelayHarness()
        relay.relayed()
        self.assertEqual(relay.clock.getDelayedCalls(), [])

    def test_idleTimeout(self) -> None:
        relay = RelayHarness(RelaySettings(idleTimeout=5))
        _client, clientLeg, server, serverLeg = relay.relayed()
        relay.clock.advance(4)
        server.dataReceived(b"x")  # Bytes either way count.
        relay.clock.advance(4)
        self.assertFalse(clientLeg.disconnecting)
        relay.clock.advance(1)
        self.assertTrue(clientLeg.disconnecting and serverLeg.disconnecting)
        self.assertEqual(relay.watcher.idled, 1)

    def test_closeAll(self) -> None:
        relay = RelayHarness()
        _client, clientLeg, _server, serverLeg = relay.relayed()
        self.assertEqual(relay.factory.closeAll(), 1)
        self.assertTrue(clientLeg.disconnecting and serverLeg.disconnecting)


class TracedRelay:
    """A relay traced as names-proxy traces it: the ladder's lines and the Mermaid file."""

    def __init__(
        self, settings: RelaySettings | None = None, server: str = "127.0.0.1:5000"
    ) -> None:
        from twisted_names.proxy.watch import TracingWatcher
        from twisted_names.trace.events import Role
        from twisted_names.trace.file import TraceFile
        from twisted_names.trace.ladder import Ladder
        from twisted_names.trace.wrapper import LiveTrace, Tracer, TracingFactory

        self.clock = Clock()
        self.clock.advance(1000)
        self.lines: list[str] = []
        self.file = io.StringIO()
        self.file.close = lambda: None  # type: ignore[method-assign]
        self.tracer = Tracer(
            Role.PROXY,
            self.clock,
            [LiveTrace(Ladder(Role.PROXY), self.lines.append), TraceFile(Role.PROXY, self.file)],
        )
        self.endpoint = FakeServerEndpoint()
        self.relays = RelayFactory(
            self.endpoint, self.clock, settings, TracingWatcher(self.tracer, server)
        )
        self.factory = TracingFactory(self.relays, self.tracer, Role.CLIENT)

    def client(self) -> tuple[Any, Leg]:
        wrapper = self.factory.buildProtocol(CLIENT)
        assert wrapper is not None
        transport = Leg(PROXY, CLIENT)
        wrapper.makeConnection(transport)
        return wrapper, transport

    def text(self) -> str:
        return "\n".join(self.lines)


class TracedRelayTests(SynchronousTestCase):
    """The relay drawn: the same ladder and Mermaid code as --trace, with the proxy's words."""

    def test_ladder(self) -> None:
        traced = TracedRelay()
        client, _clientLeg = traced.client()
        traced.clock.advance(0.002)
        server, _serverLeg = traced.endpoint.accept()
        client.dataReceived(b"An")
        traced.clock.advance(0.2)
        client.dataReceived(b"a")
        server.dataReceived("Olá, Ana".encode())
        server.readConnectionLost()
        client.readConnectionLost()
        server.connectionLost(Failure(error.ConnectionDone()))
        client.connectionLost(Failure(error.ConnectionDone()))
        lines = [line.split("ms  ", 1)[1] for line in traced.lines]
        self.assertEqual(
            lines[1],
            "the proxy connected from 127.0.0.1:41000 to the server 127.0.0.1:5000 (TCP over"
            " IPv4) in 2.0 ms; the operating system did the TCP handshake",
        )
        self.assertIn("connection from the client 127.0.0.1:40000 to this proxy", lines[0])
        self.assertEqual(
            lines[2:],
            [
                'client --> server  "An"  2 bytes  41 6e',
                'client --> server  "a"  1 byte  61',
                'client <-- server  "Olá, Ana"  9 bytes  4f 6c c3 a1 2c 20 41 6e 61',
                "   the server finished sending (FIN); the proxy passes it on: the client will"
                " read the end of the stream",
                "   the client finished sending (FIN); the proxy passes it on: the server will"
                " read the end of the stream",
                "   the connection to the server is closed",
                "   the client's connection is closed",
                "   end: the server finished sending first (FIN), as the proxy saw it",
                "   relayed 3 bytes from the client to the server and 9 bytes from the server"
                " to the client",
            ],
        )
        # Times count from the client's connection, on both legs.
        self.assertTrue(traced.lines[3].startswith("#1     202.0 ms"), traced.lines[3])

    def test_mermaid(self) -> None:
        traced = TracedRelay()
        client, _clientLeg = traced.client()
        server, _serverLeg = traced.endpoint.accept()
        client.dataReceived(b"Ana")
        server.connectionLost(Failure(error.ConnectionLost("Connection reset by peer")))
        client.connectionLost(Failure(error.ConnectionAborted()))
        text = traced.file.getvalue()
        self.assertIn("# names-proxy trace", text)
        self.assertEqual(text.count("```mermaid"), 1)  # One diagram for both legs.
        for statement in (
            "participant C as client 127.0.0.1#58;40000",
            "participant P as proxy 127.0.0.1#58;5001",
            "participant S as server 127.0.0.1#58;5000",
            "C->>P: 0.0 ms: #quot;Ana#quot; (3 bytes)",
            "P->>S: 0.0 ms: #quot;Ana#quot; (3 bytes)",
            "S-xP: 0.0 ms: RST",
            "P-xC: 0.0 ms: RST",
        ):
            self.assertIn(statement, text)
        # The server's reset comes before the proxy's, which passes it on.
        self.assertLess(text.index("S-xP"), text.index("P-xC"))
        self.assertIn("end: the server reset the connection first (RST)", text)
        self.assertIn("the server reset its connection (RST)", traced.text())

    def test_refusedIsOneLine(self) -> None:
        traced = TracedRelay(server="127.0.0.1:5000")
        client, _clientLeg = traced.client()
        traced.endpoint.attempts[0][1].errback(Failure(error.ConnectionRefusedError()))
        said = [line for line in traced.lines if "could not connect" in line]
        self.assertEqual(len(said), 1)
        self.assertIn(
            "the proxy could not connect to the server 127.0.0.1:5000: connection refused", said[0]
        )
        client.connectionLost(Failure(error.ConnectionDone()))
        self.assertIn("end: the proxy ended it", traced.text())
        self.assertIn("participant S as server 127.0.0.1#58;5000", traced.file.getvalue())

    def test_hostileBytes(self) -> None:
        """A peer's bytes are escaped on the ladder and in the Mermaid file."""
        traced = TracedRelay()
        client, _clientLeg = traced.client()
        server, serverLeg = traced.endpoint.accept()
        hostile = b"\x1b[2J\x1b]52;c;YQ==\x07```\n</p><script>%%{init}%%\r\n#;\xff"
        client.dataReceived(hostile)
        server.dataReceived(hostile)
        self.assertEqual(serverLeg.writes, [hostile])  # Passed on unchanged.
        client.connectionLost(Failure(error.ConnectionDone()))
        server.connectionLost(Failure(error.ConnectionDone()))
        ladder = traced.text()
        for raw in ("\x1b", "\x07", "\r", "\xff"):
            self.assertNotIn(raw, ladder)
        self.assertIn('"\\x1b[2J\\x1b]52;c;YQ==\\x07```\\n</p><script>', ladder)
        diagram = traced.file.getvalue().split("```mermaid", 1)[1].rsplit("```", 1)[0]
        for raw in ("\x1b", "```", "<script>", "%%{", "\r"):
            self.assertNotIn(raw, diagram)
        for line in diagram.strip().splitlines()[1:]:
            self.assertTrue(line.startswith("    "), line)

    def test_timedOutSaysTheTimeout(self) -> None:
        traced = TracedRelay(RelaySettings(connectTimeout=2.5))
        _client, _clientLeg = traced.client()
        traced.clock.advance(2.5)
        self.assertIn("no answer within 2.5 s (--connect-timeout)", traced.text())

    def test_idleSaid(self) -> None:
        traced = TracedRelay(RelaySettings(idleTimeout=30))
        _client, _clientLeg = traced.client()
        traced.endpoint.accept()
        traced.clock.advance(30)
        self.assertIn("no bytes either way for 30 s (--idle-timeout)", traced.text())

    def test_halfCloseableBeforeConnected(self) -> None:
        """
        The trace's wrapper takes half-closes as soon as it is made: a client
        endpoint's own wrapper asks then, and a server's FIN would otherwise
        end the proxy's connection to it (the FIN not passed on; seen in a
        real run before the fix).
        """
        from twisted.internet.interfaces import IHalfCloseableProtocol

        traced = TracedRelay()
        _client, _clientLeg = traced.client()
        factory = traced.endpoint.attempts[0][0]
        wrapper = factory.buildProtocol(SERVER)
        self.assertTrue(IHalfCloseableProtocol.providedBy(wrapper))


class NoTraceTests(SynchronousTestCase):
    """With --no-trace, a server that cannot be reached is one log line, nothing else."""

    def test_refusedIsOneLogLine(self) -> None:
        from twisted.internet.testing import EventLoggingObserver
        from twisted.logger import globalLogPublisher

        from twisted_names.proxy.watch import NO_SERVER_LOG, LoggingWatcher

        events = EventLoggingObserver()
        globalLogPublisher.addObserver(events)
        self.addCleanup(globalLogPublisher.removeObserver, events)
        relay = RelayHarness()
        relay.factory.watcher = LoggingWatcher("127.0.0.1:5000")
        _client, clientLeg = relay.client()
        relay.endpoint.attempts[0][1].errback(Failure(error.ConnectionRefusedError()))
        said = [e for e in events if e.get("log_namespace") == "names"]
        self.assertEqual(len(said), 1)
        self.assertEqual(said[0]["log_format"], NO_SERVER_LOG[NoUpstream.REFUSED])
        self.assertEqual(
            (said[0]["client"], said[0]["server"]), ("127.0.0.1:40000", "127.0.0.1:5000")
        )
        self.assertTrue(clientLeg.disconnecting)


class ProxyLadderTextTests(SynchronousTestCase):
    """The proxy's words for what the relay cannot make happen in memory."""

    def test_tlsSaid(self) -> None:
        """Listening with TLS (an ssl: endpoint): the bytes shown are the application's."""
        from twisted_names.trace.events import Connected, Family, Role
        from twisted_names.trace.ladder import Ladder

        event = Connected(
            1, 0.0, "127.0.0.1:5001", "127.0.0.1:40000", Family.IPV4, True, 0.0, None, Role.CLIENT
        )
        lines = Ladder(Role.PROXY).lines(event)
        self.assertEqual(len(lines), 2)
        self.assertIn("TLS: the bytes shown are the application's", lines[1])
