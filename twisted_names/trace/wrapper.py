"""
C{--trace} and C{--trace-file}: watching connections through Twisted's own
machinery, the way L{twisted.protocols.policies} does.

A L{TracingFactory} (a C{WrappingFactory}) puts a L{TracingProtocol} between
each connection's transport and its protocol.  The wrapper is the
protocol's transport, so it sees every C{write}, C{writeSequence},
C{loseConnection}, C{loseWriteConnection} and C{abortConnection}; and it is
the transport's protocol, so it sees every C{dataReceived} (one chunk per
call, as the bytes really came), the half-close and the end.  It also
subscribes to the framing's decisions (L{MessageReceiver.framingObserver}).
On the server, L{TracedReplies} wraps the reply source to see the wait for
the operator.

The programs only wrap when asked: L{TracingServerEndpoint} and
L{TracingClientEndpoint} wrap the factory given to an endpoint, so that with
both options off nothing is wrapped and nothing costs anything.  Inside a
TLS endpoint the wrapper sees the application's bytes (the trace says so).

L{Tracer} numbers the connections, stamps each event with the time since
its connection began, and hands it to its sinks: L{LiveTrace} (the ladder,
through a function that shows a line) and
L{twisted_names.trace.file.TraceFile} (a Mermaid diagram per connection,
written as each connection ends); L{twisted_names.trace.file.makeTracer}
makes the tracer the options ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    ISSLTransport,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.internet.protocol import connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import alsoProvides, directlyProvides, implementer, providedBy

from twisted_names.display import describeAddress
from twisted_names.framing import FramingNote, MessageReceiver
from twisted_names.replies import (
    Departure,
    Dismissed,
    FixedReply,
    OperatorGone,
    ReplySource,
    ReplyTimedOut,
)
from twisted_names.trace.events import (
    Asked,
    Chunk,
    Closed,
    CloseHow,
    Closing,
    Connected,
    Ending,
    Family,
    Framed,
    NotReplied,
    PeerFinished,
    Replied,
    ReplyHow,
    Role,
    TraceEvent,
    Unanswered,
)
from twisted_names.trace.ladder import Ladder


class TraceSink(Protocol):
    """Where a L{Tracer}'s events go."""

    def event(self, event: TraceEvent) -> None:
        """Something happened on a connection."""

    def ended(self, connection: int) -> None:
        """The connection is gone: nothing more will be said about it."""

    def finish(self) -> None:
        """The program is stopping (connections may still be open)."""


class Tracer:
    """
    Numbers connections, stamps their events and tells the sinks.

    @ivar current: the connection that last had a message delivered or a
        reply: only to tell apart connections whose peers read the same
        (see L{asker}).
    """

    def __init__(self, role: Role, clock: IReactorTime, sinks: list[TraceSink]) -> None:
        self.role = role
        self.clock = clock
        self.sinks = sinks
        self.count = 0
        self.current: TracingProtocol | None = None
        #: Connections made and not yet gone.
        self.open = 0
        #: The open connections, by their peer as the protocol describes it.
        self._byPeer: dict[str, list[TracingProtocol]] = {}
        self._idle: list[Deferred[None]] = []
        #: A proxy's connections have two legs under one number: how many
        #: are open, by number; and what to emit when the last one ends.
        self._legs: dict[int, int] = {}
        self._atEnd: dict[int, Callable[[], object]] = {}
        #: When each open connection began (a proxy's legs count from its first).
        self._began: dict[int, float] = {}

    def number(self) -> int:
        """The next connection's number."""
        self.count += 1
        return self.count

    def opened(self, wrapper: TracingProtocol) -> None:
        """C{wrapper}'s connection is made: it counts as open until L{ended}."""
        self.open += 1
        self._legs[wrapper.connection] = self._legs.get(wrapper.connection, 0) + 1
        self._byPeer.setdefault(wrapper.peer, []).append(wrapper)

    def asker(self, peer: str) -> TracingProtocol | None:
        """
        The open connection whose protocol asks for a reply for C{peer}
        (the address it passes to L{ReplySource.ask}, described as the
        wrapper described it).  Several with the same description (UNIX
        sockets' clients have no address): the one that last had a message
        or a reply (L{current}), if it is one of them.
        """
        candidates = self._byPeer.get(peer, ())
        if len(candidates) == 1:
            return candidates[0]
        current = self.current
        return current if current is not None and current in candidates else None

    def atEnd(self, connection: int, emit: Callable[[], object]) -> None:
        """
        Call C{emit} when C{connection}'s last leg has ended, before the
        sinks are told it ended (a proxy's summary of a relayed connection).
        """
        self._atEnd[connection] = emit

    def emit(self, event: TraceEvent) -> None:
        """
        Hand C{event} to every sink, in order (the live ladder before the
        file: the sinks are told in the order the program gave them).
        """
        for sink in self.sinks:
            sink.event(event)

    def ended(self, wrapper: TracingProtocol) -> None:
        """
        C{wrapper}'s connection is gone (its L{Closed} emitted): the sinks
        may finish its diagram, and whoever waits for no connection to be
        open (L{whenIdle}) is told when it was the last.
        """
        self.open -= 1
        same = self._byPeer.get(wrapper.peer, [])
        if wrapper in same:
            same.remove(wrapper)
            if not same:
                del self._byPeer[wrapper.peer]
        if self.current is wrapper:
            self.current = None
        number = wrapper.connection
        legs = self._legs.pop(number, 1) - 1
        if legs > 0:
            self._legs[number] = legs  # A proxy's other leg is still open.
        else:
            self._began.pop(number, None)
            last = self._atEnd.pop(number, None)
            if last is not None:
                last()
            for sink in self.sinks:
                sink.ended(number)
        if not self.open:
            idle, self._idle = self._idle, []
            for d in idle:
                if not d.called:
                    d.callback(None)

    def whenIdle(self, timeout: float) -> Deferred[None]:
        """
        Fire once no traced connection is open, or after C{timeout} seconds:
        a client waits for its connection's end, so that the trace shows it
        (not the reactor's stop).
        """
        if not self.open:
            return succeed(None)
        idle: Deferred[None] = Deferred()
        self._idle.append(idle)
        return idle.addTimeout(timeout, self.clock, onTimeoutCancel=lambda result, t: None)

    def finish(self) -> None:
        """Let the sinks write what they still hold (at shutdown)."""
        for sink in self.sinks:
            sink.finish()


def family(address: IAddress) -> Family:
    """What carries a connection, from one of its addresses."""
    if isinstance(address, IPv4Address):
        return Family.IPV4
    if isinstance(address, IPv6Address):
        return Family.IPV6
    if isinstance(address, UNIXAddress):
        return Family.UNIX
    return Family.OTHER


#: What a protocol, not a transport, provides: the wrapper provides these
#: exactly when the protocol it wraps does.
_PROTOCOL_SIDE = (IHalfCloseableProtocol, IHandshakeListener)


class TracingProtocol(ProtocolWrapper):
    """
    Between a transport and its protocol: tells the tracer what passes, and
    passes everything on unchanged.
    """

    factory: TracingFactory
    transport: Any

    def __init__(self, factory: TracingFactory, wrappedProtocol: IProtocol) -> None:
        super().__init__(factory, wrappedProtocol)
        tracer = self.tracer = factory.tracer
        self.connection = factory.connection or tracer.number()
        #: On a proxy, the leg: which peer this connection faces.
        self.side = factory.side
        self.started = tracer.clock.seconds()
        self.closedBy: CloseHow | None = None
        self.peerFinished = False
        #: The other side's FIN was read before this program closed.
        self.peerFinishedFirst = False
        #: The peer, described as protocols describe it (L{describeAddress}).
        self.peer = ""
        #: C{connectionLost} has begun: closing calls made now (a protocol's
        #: clean-up, run from its own C{connectionLost}) close nothing.
        self.lost = False
        # Said now, not only in makeConnection: a client endpoint's own
        # wrapper asks, as it is made, whether its protocol (this one)
        # takes half-closes; asked too late, a FIN read ends the connection.
        if IHalfCloseableProtocol.providedBy(wrappedProtocol):
            alsoProvides(self, IHalfCloseableProtocol)

    def _at(self) -> float:
        return self.tracer.clock.seconds() - self.started

    def makeConnection(self, transport: Any) -> None:
        now = self.tracer.clock.seconds()
        # A proxy's second leg: its times count from the client's connection.
        self.started = self.tracer._began.setdefault(self.connection, now)
        connecting = self.factory.connecting
        wrapped = self.wrappedProtocol
        host, peer = transport.getHost(), transport.getPeer()
        self.peer = describeAddress(peer)
        self.tracer.opened(self)
        self.tracer.emit(
            Connected(
                self.connection,
                now - self.started,  # 0 but for a proxy's second leg.
                describeAddress(host),
                self.peer,
                family(host),
                ISSLTransport.providedBy(transport),
                now,
                None if connecting is None else now - connecting,
                self.side,
            )
        )
        if isinstance(wrapped, MessageReceiver):
            wrapped.framingObserver = self._framed
        # As ProtocolWrapper: the transport's interfaces, for the protocol's
        # sake; but the protocol side's ones (half-close, TLS handshake) are
        # the wrapped protocol's.  A transport that is itself a wrapper
        # (trust's host check, an IHandshakeListener) would otherwise make
        # this one claim them, and a call forwarded back to it would loop.
        interfaces = [i for i in providedBy(transport).interfaces() if i not in _PROTOCOL_SIDE]
        interfaces += [i for i in _PROTOCOL_SIDE if i.providedBy(wrapped)]
        directlyProvides(self, *interfaces)
        TwistedProtocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        wrapped.makeConnection(self)  # type: ignore[arg-type]

    def handshakeCompleted(self) -> None:
        """TLS: told only if the wrapped protocol listens (see L{makeConnection})."""
        self.wrappedProtocol.handshakeCompleted()  # type: ignore[attr-defined]

    def _framed(self, note: FramingNote) -> None:
        if note.message is not None:
            self.tracer.current = self
        self.tracer.emit(Framed(self.connection, self._at(), note))

    # What the protocol does to the connection.

    def write(self, data: bytes) -> None:
        self.tracer.emit(Chunk.of(self.connection, self._at(), True, data, self.side))
        self.transport.write(data)

    def writeSequence(self, data: Any) -> None:
        data = list(data)  # Read twice: for the trace, and by the transport.
        self.tracer.emit(Chunk.ofSequence(self.connection, self._at(), True, data, self.side))
        self.transport.writeSequence(data)

    def _closing(self, how: CloseHow) -> None:
        if self.lost:
            return  # Already gone: not this program's doing.
        if self.closedBy is None or (how is CloseHow.RESET and self.closedBy is not how):
            self.closedBy = how
            self.tracer.emit(Closing(self.connection, self._at(), how, self.side))

    def loseConnection(self) -> None:
        self._closing(CloseHow.FULL)
        super().loseConnection()

    def loseWriteConnection(self) -> None:
        self._closing(CloseHow.HALF)
        self.transport.loseWriteConnection()

    def abortConnection(self) -> None:
        self._closing(CloseHow.RESET)
        self.disconnecting = 1
        self.transport.abortConnection()

    # What the connection does to the protocol.

    def dataReceived(self, data: bytes) -> None:
        self.tracer.emit(Chunk.of(self.connection, self._at(), False, data, self.side))
        self.wrappedProtocol.dataReceived(data)

    def readConnectionLost(self) -> None:
        self.peerFinished = True
        self.peerFinishedFirst = self.closedBy is None
        self.tracer.emit(PeerFinished(self.connection, self._at(), self.side))
        self.wrappedProtocol.readConnectionLost()  # type: ignore[attr-defined]

    def writeConnectionLost(self) -> None:
        self.wrappedProtocol.writeConnectionLost()  # type: ignore[attr-defined]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        tracer, connection = self.tracer, self.connection
        self.lost = True
        closed = Closed(
            connection,
            self._at(),
            self.closedBy,
            self.peerFinished,
            *ending(reason),
            side=self.side,
            peerFinishedFirst=self.peerFinishedFirst or self.closedBy is None,
        )
        if self.side is not None:
            # A proxy's leg: its end is said before the relay passes it on
            # (a reset on the other leg follows this one's).
            tracer.emit(closed)
        try:
            # What the framing decides now (bytes sent just before the
            # close) comes before the end.
            super().connectionLost(reason)
        finally:
            if self.side is None:
                tracer.emit(closed)
            tracer.ended(self)


def ending(reason: Failure) -> tuple[Ending, str]:
    """
    How a connection ended, and what C{reason} says beyond that (C{""}:
    nothing; a C{ConnectionLost} made with no words of its own says only
    what L{Ending.LOST} says).
    """
    value = reason.value
    if isinstance(value, ConnectionDone):
        return Ending.DONE, ""
    words = " ".join(str(arg) for arg in getattr(value, "args", ()))
    if isinstance(value, ConnectionAborted):
        return Ending.ABORTED, words
    if isinstance(value, ConnectionLost):
        return Ending.LOST, words
    if type(value).__module__.startswith("OpenSSL"):
        return Ending.TLS, reason.getErrorMessage()
    return Ending.OTHER, f"{type(value).__name__}: {reason.getErrorMessage()}"


class TracingFactory(WrappingFactory[TracingProtocol]):
    """Wraps every protocol of C{wrappedFactory} in a L{TracingProtocol}."""

    protocol = TracingProtocol
    noisy = False

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        tracer: Tracer,
        side: Role | None = None,
        connection: int | None = None,
    ) -> None:
        super().__init__(wrappedFactory)
        self.tracer = tracer
        #: On a client, when the endpoint was asked to connect (the
        #: reactor's clock), to say how long connecting took.
        self.connecting: float | None = None
        #: On a proxy, the leg its connections are (L{Connected.side}).
        self.side = side
        #: On a proxy's connection to the server, the number of the
        #: client's connection it relays (C{None}: a number of its own).
        self.connection = connection

    def logPrefix(self) -> str:
        """
        The wrapped factory's: the log reads the same with and without the
        trace (the console's translations match C{"NameServerFactory
        starting on ..."}, not C{WrappingFactory}'s C{"... (TracingFactory)"}).
        """
        prefix = getattr(self.wrappedFactory, "logPrefix", None)
        return str(prefix()) if prefix is not None else type(self.wrappedFactory).__name__


@implementer(IStreamServerEndpoint)
class TracingServerEndpoint:
    """
    An endpoint whose connections are traced (see L{TracingFactory}); on a
    proxy, as the leg C{side}.
    """

    def __init__(
        self, endpoint: IStreamServerEndpoint, tracer: Tracer, side: Role | None = None
    ) -> None:
        self.endpoint = endpoint
        self.tracer = tracer
        self.side = side

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        return self.endpoint.listen(TracingFactory(protocolFactory, self.tracer, self.side))


@implementer(IStreamClientEndpoint)
class TracingClientEndpoint:
    """
    An endpoint whose connections are traced (see L{TracingFactory}); what
    C{connect} fires with is the protocol, not the wrapper.  On a proxy,
    its connection is the leg C{side} of the connection numbered
    C{connection}.
    """

    def __init__(
        self,
        endpoint: IStreamClientEndpoint,
        tracer: Tracer,
        side: Role | None = None,
        connection: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.tracer = tracer
        self.side = side
        self.connection = connection

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        factory = TracingFactory(protocolFactory, self.tracer, self.side, self.connection)
        factory.connecting = self.tracer.clock.seconds()
        connecting: Deferred[Any] = self.endpoint.connect(factory)
        return connecting.addCallback(lambda wrapper: wrapper.wrappedProtocol)


def unanswered(wrapper: TracingProtocol, at: float, failure: Failure) -> NotReplied:
    """Why C{wrapper}'s client gets no reply, from how its question failed."""
    connection = wrapper.connection
    if failure.check(CancelledError):
        # The server's choice (NameServerProtocol.readConnectionLost) when
        # the client half-closed, not the connection's end: said apart.
        if wrapper.peerFinished:
            return NotReplied(connection, at, Unanswered.CLIENT_FINISHED)
        return NotReplied(connection, at, Unanswered.CONNECTION_ENDED)
    value = failure.value
    if isinstance(value, ReplyTimedOut):
        return NotReplied(connection, at, Unanswered.TIMED_OUT, timeout=value.timeout)
    if isinstance(value, OperatorGone):
        return NotReplied(connection, at, Unanswered.OPERATOR_GONE)
    if isinstance(value, Dismissed):
        return NotReplied(connection, at, Unanswered.DISMISSED)
    return NotReplied(connection, at, Unanswered.OTHER, detail=failure.getErrorMessage())


class TracedReplies:
    """
    The server's reply source, watched: the wait for the operator and the
    reply, for the connection that asked: the one whose peer the server's
    protocol names when it asks (L{Tracer.asker}).
    """

    def __init__(self, source: ReplySource, tracer: Tracer) -> None:
        self.source = source
        self.tracer = tracer

    def ask(self, name: str, peer: str) -> Deferred[str]:
        asking = self.source.ask(name, peer)
        tracer = self.tracer
        wrapper = tracer.asker(peer)
        tracer.current = None
        if wrapper is None:
            return asking
        pending = [True]

        def told(result: str | Failure) -> str | Failure:
            if wrapper.wrappedProtocol is None:
                return result  # Gone already.
            waited = tracer.clock.seconds() - asked
            at = wrapper._at()
            if isinstance(result, Failure):
                tracer.emit(unanswered(wrapper, at, result))
                return result
            if not pending:
                how = ReplyHow.TYPED
            elif isinstance(self.source, FixedReply):
                how = ReplyHow.FIXED
            else:
                how = ReplyHow.TYPED_AHEAD
            tracer.emit(Replied(wrapper.connection, at, result, how, waited))
            tracer.current = wrapper  # Chat: the next question is its own.
            return result

        asked = tracer.clock.seconds()
        asking.addBoth(told)
        if not asking.called:
            pending.clear()
            tracer.emit(Asked(wrapper.connection, wrapper._at()))
        return asking

    def ended(self, peer: str, reason: Departure) -> None:
        self.source.ended(peer, reason)


class LiveTrace:
    """The ladder, one line at a time through C{show}."""

    def __init__(self, ladder: Ladder, show: Callable[[str], object]) -> None:
        self.ladder = ladder
        self.show = show

    def event(self, event: TraceEvent) -> None:
        for line in self.ladder.lines(event):
            self.show(line)

    def ended(self, connection: int) -> None:
        pass

    def finish(self) -> None:
        pass
