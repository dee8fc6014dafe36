"""
Whole exchanges in memory: the real client (its command line's L{main}, or
any client protocol) and the real server (L{NameServerFactory}, the reply
queue, the operator's console for a pipe and its log lines) wired together by
L{twisted.test.iosim}, on a L{MemoryReactorClock}: no sockets, no processes,
no sleeps.  Time passes only when a test says so (L{Network.advance}).

What the operator would read on the server's stdout (the console's lines
and twistd's log lines, in the order they were said) is L{Network.out}, the
bytes the real L{Terminal} wrote; what the operator types goes through that
same L{Terminal} (L{Network.type}, L{Network.closeInput}).  So a case moves
here from a process test with the same assertions on the same words, the
same bytes on the wire and, for the client, the same exit status and
streams (L{ClientRun}).

What only a process can show stays in the process tests
(L{tests.processes}): twistd itself, the plugin being found, signals, real
streams and terminals, TLS over real sockets.

The one place that knows how the server's console is assembled is
L{Network.__init__}, after L{twisted_names.app.tap.makeService} (a pipe
console: stdin not a terminal).
"""

from __future__ import annotations

import errno
import io
import os
import re
from typing import Any

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamServerEndpoint
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.test.iosim import FakeTransport, IOPump, connect

from twisted_names.app.cli import main
from twisted_names.console.model import Discipline, Operator
from twisted_names.console.plain import PlainLines
from twisted_names.console.terminal import Terminal
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.logs.observers import TerminalLogObserver
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings

#: The address the in-memory server listens on, as the console shows it.
HOST = "127.0.0.1"
PORT = 5000

#: The first port of the clients' addresses (each connection takes the next).
FIRST_CLIENT_PORT = 40000


class Input(io.StringIO):
    """A stdin that is not a terminal (a pipe, a file)."""

    def isatty(self) -> bool:
        return False


class Peer(Protocol):
    """
    A peer that records what it receives and when the connection closes:
    for sending what the client program never would.  The in-memory twin of
    L{tests.processes.RawPeer}.

    @ivar received: every byte received so far.
    @ivar isClosed: whether the connection is gone.
    """

    transport: Any  # an iosim FakeTransport, once connected
    network: Network

    def __init__(self) -> None:
        self.received = b""
        self.isClosed = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.isClosed = True

    def send(self, data: bytes) -> None:
        """Send C{data}; it arrives at once (the network is flushed)."""
        self.transport.write(data)
        self.network.flush()

    def disconnect(self) -> None:
        """Leave at once, with a reset (as L{tests.processes.RawPeer.disconnect})."""
        self.transport.abortConnection()
        self.network.flush()

    def finishSending(self) -> None:
        """
        Half-close: the server reads the end of the stream (a FIN) and this
        side keeps reading.  iosim has no half-close of its own, so the
        server's protocol is told what its transport would tell it.
        """
        self.network.flush()
        self.network.serverSide(self).readConnectionLost()  # type: ignore[attr-defined]
        self.network.flush()


class ClientRun:
    """
    One run of the client's command line (L{main}) with its streams in
    memory, as L{tests.processes.WatchedProcess} is one of its process.

    @ivar status: the exit status once it ended, else C{None}.
    """

    def __init__(self, network: Network, argv: tuple[str, ...], stdin: str) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.status: int | None = None
        self.ended: Deferred[int] = Deferred.fromCoroutine(self._run(network.reactor, argv, stdin))
        self.ended.addCallback(self._ended)

    async def _run(self, reactor: Any, argv: tuple[str, ...], stdin: str) -> int:
        try:
            await main(reactor, *argv, stdin=Input(stdin), stdout=self.stdout, stderr=self.stderr)
        except SystemExit as e:
            assert isinstance(e.code, int), e.code
            return e.code
        return 0

    def _ended(self, status: int) -> int:
        self.status = status
        return status

    @property
    def out(self) -> str:
        return self.stdout.getvalue()

    @property
    def err(self) -> str:
        return self.stderr.getvalue()

    def describe(self) -> str:
        """What the client printed, for failure messages."""
        return f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}--- status: {self.status} ---"


class Network:
    """
    The server, its operator's console and any number of clients, in memory.

    @ivar reactor: the clock and the reactor of both sides.
    @ivar queue: the reply queue (C{None} with a fixed name).
    @ivar factory: the server's factory.
    """

    def __init__(
        self,
        testCase: Any,
        name: str | None = None,
        trace: bool = False,
        traceFile: str | None = None,
        **settings: Any,
    ) -> None:
        """
        @param name: C{--name}: every client answered at once with it.
        @param trace: C{--trace}: the ladder shown with the console's lines.
        @param traceFile: C{--trace-file}: the diagrams written there (once
            L{stop} has run what the reactor runs after shutting down).
        @param settings: L{ServerSettings}' fields, for the other options.
        """
        self.reactor = MemoryReactorClock()
        self.settings = ServerSettings(**settings)
        self._pumps: list[tuple[IOPump, IProtocol, IProtocol]] = []
        self._nextClientPort = FIRST_CLIENT_PORT
        self._listening: dict[int, IProtocolFactory] = {}

        # As makeService assembles the server for a stdin that is not a
        # terminal: the pipe console on a Terminal, the log lines shown
        # through it (rate-limited, as under twistd).
        self.queue: ReplyQueue | None = None
        replies: ReplySource
        if name is None:
            replies = self.queue = ReplyQueue(self.reactor, self.settings.replyTimeout)
        else:
            replies = FixedReply(name)
        self.terminal = Terminal(_ignore, _nothing)
        self._stdout = StringTransport()
        self.terminal.makeConnection(self._stdout)
        self.console: Operator | None = None
        if self.queue is not None:
            self.console = Operator(
                self.queue,
                PlainLines(self.terminal.show),
                self.queue.clock,
                self.settings.maxLength,
                discipline=Discipline.PIPE,
            )
            self.terminal.onLine = self.console.lineTyped
            self.terminal.onEnd = self.console.inputEnded
        logs = TerminalLogObserver(None)
        logs.show = self.terminal.show
        observer = RateLimitedObserver(logs, self.reactor)
        globalLogPublisher.addObserver(observer)
        testCase.addCleanup(globalLogPublisher.removeObserver, observer)

        endpoint: IStreamServerEndpoint = TCP4ServerEndpoint(self.reactor, PORT, interface=HOST)
        if trace or traceFile is not None:
            # As makeService traces, on a pipe (no colour).
            from twisted_names.trace.events import Role
            from twisted_names.trace.file import makeTracer
            from twisted_names.trace.ladder import useColour
            from twisted_names.trace.wrapper import TracedReplies, TracingServerEndpoint

            tracer = makeTracer(
                Role.SERVER,
                self.reactor,
                self.terminal.show if trace else None,
                useColour(os.environ, False),
                traceFile,
            )
            replies = TracedReplies(replies, tracer)
            endpoint = TracingServerEndpoint(endpoint, tracer)
        self.factory = NameServerFactory(replies, self.reactor, self.settings)
        self._listenOn(PORT, endpoint, self.factory)
        if self.console is not None:
            self.console.greet(f"{HOST}:{PORT}")

    # The network.

    def listen(self, port: int, factory: IProtocolFactory) -> None:
        """Listen on C{port} with C{factory} (another server than ours)."""
        self._listenOn(port, TCP4ServerEndpoint(self.reactor, port, interface=HOST), factory)

    def _listenOn(self, port: int, endpoint: IStreamServerEndpoint, factory: Any) -> None:
        """Listen through C{endpoint}: what it gives the reactor takes the connections."""
        endpoint.listen(factory)
        listened, listening, _, _ = self.reactor.tcpServers[-1]
        assert listened == port, (listened, port)
        self._listening[port] = listening

    def connect(self, client: IProtocol, port: int = PORT) -> IOPump:
        """
        Connect C{client} to what listens on C{port}, as the kernel would:
        each side sees its own address and the other's.
        """
        clientAddress = IPv4Address("TCP", HOST, self._nextClientPort)
        self._nextClientPort += 1
        serverAddress = IPv4Address("TCP", HOST, port)
        server = self._listening[port].buildProtocol(clientAddress)
        assert server is not None
        pump: IOPump = connect(
            server,
            FakeTransport(server, True, hostAddress=serverAddress, peerAddress=clientAddress),
            client,
            FakeTransport(client, False, hostAddress=clientAddress, peerAddress=serverAddress),
            greet=False,
            clock=self.reactor,
        )
        self._pumps.append((pump, client, server))
        self.flush()
        return pump

    def peer(self, port: int = PORT) -> Peer:
        """A L{Peer} connected to the server (or to what listens on C{port})."""
        peer = Peer()
        peer.network = self
        self.connect(peer, port)
        return peer

    def serverSide(self, client: IProtocol) -> IProtocol:
        """The server's protocol for the connection of C{client}."""
        for _, theClient, server in self._pumps:
            if theClient is client:
                return server
        raise KeyError(client)

    def flush(self) -> None:
        """
        Deliver everything under way: connections being made (refused where
        nothing listens), bytes both ways, closes; calls due now.
        """
        moved = True
        while moved:
            moved = self._completeConnections()
            for pump, _, _ in list(self._pumps):
                moved = pump.flush() or moved
            self.reactor.advance(0)

    def advance(self, seconds: float) -> None:
        """Let C{seconds} pass, then deliver what that set off."""
        self.flush()
        self.reactor.advance(seconds)
        self.flush()

    def _completeConnections(self) -> bool:
        """Connect (or refuse) what the clients asked C{connectTCP} for."""
        pending = self.reactor.tcpClients
        if not pending:
            return False
        while pending:
            host, port, factory, _, _ = pending.pop(0)
            connector = self.reactor.connectors.pop(0)
            if port not in self._listening:
                # What the kernel says when nothing listens there.
                refused = error.getConnectError(
                    (errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED))
                )
                factory.clientConnectionFailed(connector, Failure(refused))
                continue
            client = factory.buildProtocol(IPv4Address("TCP", host, port))
            assert client is not None
            self.connect(client, port)
        return True

    # The operator.

    @property
    def out(self) -> str:
        """Everything the server's stdout got so far."""
        value: bytes = self._stdout.value()
        return value.decode("utf-8", "replace")

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def type(self, data: bytes) -> None:
        """The operator types C{data} (or it is piped in)."""
        self.terminal.dataReceived(data)
        self.flush()

    def closeInput(self) -> None:
        """The operator's input ends (Ctrl-D, the end of a piped file)."""
        self.terminal.readConnectionLost()
        self.flush()

    def stop(self) -> None:
        """
        Stop as the services do (what SIGTERM does, short of the process
        exiting): the console's last words, every client closed.
        """
        if self.console is not None:
            self.console.stopping(len(self.factory.clients))
        if self.queue is not None:
            self.queue.stopTimeouts()
        self.factory.closeAll()
        self.flush()
        self.terminal.show("names-server: stopped.")
        for call, args, kwargs in self.reactor.triggers.get("after", {}).get("shutdown", []):
            call(*args, **kwargs)

    # The client's command line.

    def client(self, *argv: str, stdin: str = "") -> ClientRun:
        """Run C{names-client --port PORT ARGV}, connected to this network."""
        run = ClientRun(self, ("--port", str(PORT), *argv), stdin)
        self.flush()
        return run

    def clientTo(self, *argv: str, stdin: str = "") -> ClientRun:
        """Run C{names-client ARGV} (where to connect is in C{argv})."""
        run = ClientRun(self, argv, stdin)
        self.flush()
        return run

    def findAll(self, pattern: str) -> list[re.Match[str]]:
        """Every match of C{pattern} in what the server's stdout got (multi-line)."""
        return list(re.finditer(pattern, self.out, re.MULTILINE))


def _ignore(line: str) -> None:
    """Lines typed with --name: stdin is not even read."""


def _nothing() -> None:
    """The end of input with --name."""
