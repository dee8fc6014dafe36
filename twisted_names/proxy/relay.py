"""
The relay of C{names-proxy}: Twisted's port forwarder
(L{twisted.protocols.portforward}), made faithful enough to show a
student's own programs as they are.

L{portforward} already relays the bytes and wires the two connections
together for flow control (each transport the other's streaming producer:
a slow reader pauses the fast writer, so memory stays bounded whatever
either side does).  What it does not do, and a relay that is to be watched
must, is added here:

  - a half-close passed on: a FIN read from one side becomes a FIN sent to
    the other (C{loseWriteConnection}), and the other direction stays open
    (L{IHalfCloseableProtocol});
  - a reset passed on: a connection lost other than cleanly (a reset, a
    broken connection) is aborted on the other side, which sends a reset;
  - the upstream connection through any client endpoint, bounded by a
    connect timeout; when it fails the client's connection is closed and the
    failure said once (L{RelayWatcher.upstreamFailed}), and the proxy goes
    on serving;
  - a limit on the connections relayed at once (C{--max-clients}) and an
    idle timeout, off by default (a relay must not cut a conversation).

Each chunk read is written to the other side at once, as one C{write}, in
order: nothing is buffered into lines or re-framed.  Nothing here prints or
knows of the trace: a L{RelayWatcher} is told what happens.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from twisted.internet import error
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeout
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, connectionDone
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.logger import Logger
from twisted.protocols import portforward
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.display import describeAddress
from twisted_names.i18n import N_
from twisted_names.server import CLOSING_TIMEOUT, Refused

log = Logger(namespace="names")

#: Seconds the proxy waits for its server to accept a connection.
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class RelaySettings:
    """
    The relay's limits.

    @ivar maxClients: connections relayed at once; more are refused at once.
    @ivar connectTimeout: seconds to wait for the server to accept.
    @ivar idleTimeout: seconds with no bytes either way after which both
        connections are closed; 0: never (the default).
    """

    maxClients: int = 1000
    connectTimeout: float = DEFAULT_CONNECT_TIMEOUT
    idleTimeout: float = 0.0


class Side(Enum):
    """A relayed connection's two legs, by the peer each faces."""

    CLIENT = "client"
    SERVER = "server"


class Phase(Enum):
    """Where a relayed connection is."""

    #: The client is connected; the server not yet (the client is not read).
    CONNECTING = "connecting"
    #: Both connected: bytes, FINs and resets are passed on.
    RELAYING = "relaying"
    #: Both legs are gone.
    DONE = "done"


class NoUpstream(Enum):
    """Why the proxy could not connect to its server."""

    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed out"
    OTHER = "other"


def _codes(*names: str) -> frozenset[int]:
    """The numbers of these errno names that this system has (Winsock's too)."""
    return frozenset(getattr(errno, name) for name in names if hasattr(errno, name))


#: The system's reasons that say the server's network or host is unreachable,
#: refused, or silent (on Windows, Winsock's numbers: C{WSAE...}).
_UNREACHABLE = _codes(
    "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "WSAEHOSTUNREACH", "WSAENETUNREACH"
)
_REFUSED = _codes("ECONNREFUSED", "WSAECONNREFUSED")
_TIMED_OUT = _codes("ETIMEDOUT", "WSAETIMEDOUT")


def whyNoUpstream(failure: Failure) -> tuple[NoUpstream, str]:
    """
    Why connecting failed, from the endpoint's failure: the kind, and the
    system's own words (raw) for L{NoUpstream.OTHER}.
    """
    value = failure.value
    if isinstance(value, error.ConnectionRefusedError):
        return NoUpstream.REFUSED, ""
    if isinstance(value, error.NoRouteError):
        return NoUpstream.UNREACHABLE, ""
    # A connect timeout cancels the attempt: Twisted's TCP endpoints fail a
    # cancelled attempt with ConnectingCancelledError, not CancelledError,
    # so addTimeout passes it on as it is.  (The relay's other cancel, when
    # its client leaves first, is never said.)
    if isinstance(value, (DeferredTimeout, error.TimeoutError, error.ConnectingCancelledError)):
        return NoUpstream.TIMED_OUT, ""
    args = getattr(value, "args", ())
    # Twisted's ConnectError keeps the errno as osError (a number).
    number = getattr(value, "osError", None) or getattr(value, "socketError", None)
    code = number if isinstance(number, int) else getattr(number, "errno", None)
    if code is None and args and isinstance(args[0], int):
        code = args[0]
    if code in _UNREACHABLE:
        return NoUpstream.UNREACHABLE, ""
    if code in _REFUSED:
        return NoUpstream.REFUSED, ""
    if code in _TIMED_OUT:
        return NoUpstream.TIMED_OUT, ""
    words = " ".join(str(arg) for arg in args) or type(value).__name__
    return NoUpstream.OTHER, words


class RelayWatcher(Protocol):
    """What a relay tells: the trace, or the log (L{twisted_names.proxy.watch})."""

    def begun(self, relay: RelayServer) -> None:
        """A client connected: C{relay} is its relayed connection."""

    def upstream(
        self, relay: RelayServer, endpoint: IStreamClientEndpoint
    ) -> IStreamClientEndpoint:
        """The endpoint C{relay} connects through (the trace wraps it)."""

    def upstreamFailed(
        self, relay: RelayServer, why: NoUpstream, took: float, detail: str
    ) -> None:
        """C{relay} could not connect to the server: its client is being closed."""

    def idle(self, relay: RelayServer) -> None:
        """C{relay} saw no bytes for the idle timeout: both legs are being closed."""


class NoWatcher:
    """A watcher that is told and says nothing (for tests and benchmarks)."""

    def begun(self, relay: RelayServer) -> None:
        pass

    def upstream(
        self, relay: RelayServer, endpoint: IStreamClientEndpoint
    ) -> IStreamClientEndpoint:
        return endpoint

    def upstreamFailed(
        self, relay: RelayServer, why: NoUpstream, took: float, detail: str
    ) -> None:
        pass

    def idle(self, relay: RelayServer) -> None:
        pass


@implementer(IHalfCloseableProtocol)
class RelayEnd(portforward.Proxy):
    """
    What both legs do: pass on each chunk, a FIN and a reset, to the other
    leg (L{peer}); the relayed connection (L{relay}) keeps the count.

    @ivar finishedReading: this leg's peer sent its FIN.
    @ivar finishedWriting: the proxy sent this leg's peer a FIN.
    @ivar gone: this leg's connection is lost.
    """

    noisy = False
    side: Side
    relay: RelayServer
    peer: RelayEnd | None
    transport: Any
    finishedReading = False
    finishedWriting = False
    gone = False
    #: The proxy itself closed or aborted this leg (not a peer's doing).
    closedHere = False

    def dataReceived(self, data: bytes) -> None:
        """One chunk, as read: written to the other leg at once, as one write."""
        self.relay.relayed(self, data)

    def readConnectionLost(self) -> None:
        """This leg's peer finished sending (FIN): pass it on (once)."""
        if self.finishedReading:
            return  # A transport resumed after its FIN reads the end again.
        self.finishedReading = True
        self.relay.finished(self)

    def writeConnectionLost(self) -> None:
        """Our FIN to this leg's peer is sent; reading goes on."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.gone = True
        self.relay.lost(self, reason)

    def passOnFin(self) -> None:
        """
        The other leg's peer finished sending: send this leg's peer a FIN.
        A leg whose peer finished too is closed whole (Twisted ends a
        connection only when asked to, once both directions are done).
        """
        if self.gone or self.finishedWriting:
            return
        self.finishedWriting = True
        if self.finishedReading:
            self.closedHere = True
            self.transport.loseConnection()
        else:
            self.transport.loseWriteConnection()

    def close(self) -> None:
        """Close this leg (its queued bytes first, then a FIN)."""
        if not self.gone:
            self.closedHere = True
            self.transport.loseConnection()

    def abort(self) -> None:
        """Reset this leg: what is queued is dropped, its peer gets a reset."""
        if not self.gone:
            self.closedHere = True
            self.transport.abortConnection()


class RelayClient(RelayEnd, portforward.ProxyClient):
    """The proxy's connection to the server."""

    side = Side.SERVER

    def connectionMade(self) -> None:
        # portforward: each transport the other's producer, then the
        # client, paused until now, is read.
        self.relay.upstreamConnected(self)
        portforward.ProxyClient.connectionMade(self)


class RelayClientFactory(portforward.ProxyClientFactory):
    """Builds the one L{RelayClient} of a relayed connection."""

    protocol = RelayClient
    noisy = False
    server: RelayServer

    def buildProtocol(self, addr: IAddress | None) -> RelayClient:
        protocol = super().buildProtocol(addr)
        assert isinstance(protocol, RelayClient)
        protocol.relay = self.server
        return protocol


class RelayServer(RelayEnd, portforward.ProxyServer):
    """
    A client's connection to the proxy, and the relayed connection as a
    whole: its phase, its counts, and who ended it first.

    @ivar first: the leg whose FIN or reset the proxy saw first (C{None}:
        none yet, or the proxy ended it itself).
    @ivar firstWasReset: whether that was a reset (or a broken connection).
    @ivar toServer: bytes passed on from the client to the server.
    @ivar toClient: bytes passed on from the server to the client.
    """

    side = Side.CLIENT
    factory: RelayFactory  # type: ignore[assignment]
    phase = Phase.CONNECTING
    first: Side | None = None
    firstWasReset = False
    endedByProxy = False
    toServer = 0
    toClient = 0
    connectStarted = 0.0
    #: The connection to the server, once made.
    serverLeg: RelayClient | None = None
    _connecting: Deferred[Any] | None = None
    _idle: IDelayedCall | None = None
    #: After the idle timeout's FINs: the reset of a leg that has not let go.
    _closingBound: IDelayedCall | None = None

    def __init__(self) -> None:
        self.relay = self

    def connectionMade(self) -> None:
        """
        As portforward's: the client is not read until the server is
        connected; but through the factory's endpoint, within the connect
        timeout.
        """
        factory = self.factory
        self.transport.pauseProducing()
        factory.watcher.begun(self)
        client = RelayClientFactory()
        client.setServer(self)
        clock, settings = factory.clock, factory.settings
        self.connectStarted = clock.seconds()
        endpoint = factory.watcher.upstream(self, factory.upstream)
        connecting = self._connecting = endpoint.connect(client)
        connecting.addTimeout(settings.connectTimeout, clock)
        connecting.addErrback(self._notConnected)

    def upstreamConnected(self, client: RelayClient) -> None:
        """The server accepted: relay."""
        self._connecting = None
        self.serverLeg = client
        self.phase = Phase.RELAYING
        self._resetIdle()

    def _notConnected(self, failure: Failure) -> None:
        self._connecting = None
        if self.gone or failure.check(CancelledError):
            return  # The client left first: nothing to say.
        why, detail = whyNoUpstream(failure)
        took = self.factory.clock.seconds() - self.connectStarted
        self.endedByProxy = True
        self.factory.watcher.upstreamFailed(self, why, took, detail)
        self.close()

    # What the legs report.

    def relayed(self, end: RelayEnd, data: bytes) -> None:
        """C{end} read C{data}: written to the other leg at once."""
        if end is self:
            self.toServer += len(data)
        else:
            self.toClient += len(data)
        self._resetIdle()
        peer = end.peer
        if peer is not None and not peer.gone:
            peer.transport.write(data)

    def finished(self, end: RelayEnd) -> None:
        """C{end}'s peer sent a FIN: the other leg's peer gets one."""
        self._saw(end.side, reset=False)
        peer = end.peer
        if peer is not None:
            peer.passOnFin()
        if end.finishedWriting:
            end.close()  # Both directions done on this leg.

    def lost(self, end: RelayEnd, reason: Failure) -> None:
        """
        C{end}'s connection is gone.  Cleanly: the other leg is closed
        (portforward's rule); by a reset or a break: the other leg is reset.
        """
        clean = reason.check(error.ConnectionDone) is not None
        if not end.closedHere:
            self._saw(end.side, reset=not clean)
        peer, end.peer = end.peer, None
        if peer is not None and not peer.gone:
            if clean:
                peer.close()
            else:
                peer.abort()
        if end is self and self._connecting is not None:
            self._connecting.cancel()  # The client left before the server answered.
        if self.gone and self._otherGone():
            self._done()

    def _otherGone(self) -> bool:
        return self.serverLeg is None or self.serverLeg.gone

    def _saw(self, side: Side, reset: bool) -> None:
        """The first FIN or reset the proxy saw, and from whom."""
        if self.first is None and not self.endedByProxy:
            self.first = side
            self.firstWasReset = reset

    def _done(self) -> None:
        if self.phase is Phase.DONE:
            return
        self.phase = Phase.DONE
        self._stopIdle()
        if self._closingBound is not None and self._closingBound.active():
            self._closingBound.cancel()
        self._closingBound = None
        self.factory.relayGone(self)

    # The idle timeout (off unless asked for).

    def _resetIdle(self) -> None:
        timeout = self.factory.settings.idleTimeout
        if not timeout or self.phase is Phase.DONE:
            return
        if self._idle is not None and self._idle.active():
            self._idle.reset(timeout)
        else:
            self._idle = self.factory.clock.callLater(timeout, self._timedOut)

    def _stopIdle(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.cancel()
        self._idle = None

    def _timedOut(self) -> None:
        self._idle = None
        self.endedByProxy = True
        self.factory.watcher.idle(self)
        peer = self.peer
        self.close()
        if peer is not None:
            peer.close()
        # A FIN waits behind the bytes queued for its peer: one that reads
        # nothing would keep its leg, and the slot, forever.
        self._closingBound = self.factory.clock.callLater(CLOSING_TIMEOUT, self._closeTookTooLong)

    def _closeTookTooLong(self) -> None:
        """The idle timeout's FINs were not taken in time: reset what is left."""
        self._closingBound = None
        for leg in (self, self.serverLeg):
            if leg is not None:
                leg.abort()


class RelayFactory(Factory):
    """
    The relayed connections of one listening port: where they go, their
    limits, who watches, and which are open (to refuse floods and to close
    them all at shutdown).
    """

    protocol = RelayServer  # type: ignore[assignment]
    noisy = False

    def __init__(
        self,
        upstream: IStreamClientEndpoint,
        clock: IReactorTime,
        settings: RelaySettings | None = None,
        watcher: RelayWatcher | None = None,
    ) -> None:
        self.upstream = upstream
        self.clock = clock
        self.settings = settings or RelaySettings()
        self.watcher: RelayWatcher = watcher or NoWatcher()
        self.relays: set[RelayServer] = set()
        self._refused = 0

    def buildProtocol(self, addr: IAddress) -> TwistedProtocol:  # type: ignore[override]
        if len(self.relays) >= self.settings.maxClients:
            self._refused += 1
            if self._refused == 1:
                count = len(self.relays)
                log.warn(
                    N_("refusing {peer}: {count} clients connected, the limit (--max-clients)"),
                    peer=describeAddress(addr),
                    count=count,
                    why=f"{count} clients connected, the limit (--max-clients)",
                )
            return Refused()
        self._reportRefused()
        relay = RelayServer()
        relay.factory = self
        self.relays.add(relay)
        return relay

    def _reportRefused(self) -> None:
        if self._refused > 1:
            log.warn(N_("refused {count} connections while over a limit"), count=self._refused)
        self._refused = 0

    def relayGone(self, relay: RelayServer) -> None:
        """Forget a relayed connection whose legs are both gone."""
        self._reportRefused()
        self.relays.discard(relay)

    def stopFactory(self) -> None:
        self._reportRefused()

    def closeAll(self) -> int:
        """Close every relayed connection, both legs (at shutdown); return how many."""
        relays = list(self.relays)
        for relay in relays:
            relay.endedByProxy = relay.first is None
            peer = relay.peer
            relay.close()
            if peer is not None:
                peer.close()
        return len(relays)


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "NoUpstream",
    "NoWatcher",
    "Phase",
    "RelayFactory",
    "RelayServer",
    "RelaySettings",
    "RelayWatcher",
    "Side",
    "whyNoUpstream",
]
