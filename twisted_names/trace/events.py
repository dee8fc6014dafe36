"""
What a trace is made of (issue 10, C{--trace} and C{--trace-file}): one event
per thing that happened on a connection, as plain data.

No I/O and no reactor: L{twisted_names.trace.wrapper} observes a connection and
makes these; L{twisted_names.trace.ladder} draws them as the live ladder and
L{twisted_names.trace.mermaid} as a Mermaid sequence diagram.  Every event
names its connection (numbered from 1 in each process) and when it happened,
in seconds since that connection began.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from twisted_names.framing import FramingNote

#: The most bytes of a chunk an event keeps: enough to show, bounded whatever
#: a peer sends (the whole length is kept apart).
KEPT_BYTES = 64


class Role(Enum):
    """Which program is tracing: its side of the ladder."""

    CLIENT = "client"
    SERVER = "server"
    #: C{names-proxy}: between a client and a server, relaying both ways.
    #: Each relayed connection has two legs (the client's connection to
    #: the proxy, the proxy's to the server), traced under one number;
    #: an event's C{side} says which leg it happened on.
    PROXY = "proxy"


class Family(Enum):
    """What carries the connection."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"
    UNIX = "UNIX"
    OTHER = "other"


class CloseHow(Enum):
    """How a side ends a connection."""

    #: C{loseConnection}: what is queued is sent, then a FIN.
    FULL = "full"
    #: C{loseWriteConnection}: a FIN; reading goes on (half-close).
    HALF = "half"
    #: C{abortConnection}: what is queued is dropped; a reset (RST).
    RESET = "reset"


class ReplyHow(Enum):
    """Where a server's reply came from."""

    #: C{--name}: the same reply to every client, at once.
    FIXED = "fixed"
    #: A line the operator typed before this client arrived.
    TYPED_AHEAD = "typed ahead"
    #: The operator typed it while the client waited.
    TYPED = "typed"


@dataclass(frozen=True, slots=True)
class Connected:
    """
    The connection is up (the operating system did the handshake).

    @ivar local: this program's end, escaped for display.
    @ivar remote: the other end, escaped for display.
    @ivar tls: whether the bytes traced are inside TLS (encrypted on the wire).
    @ivar wallClock: when, in seconds since the epoch (the reactor's clock).
    @ivar connectTook: on a client, seconds from the endpoint's C{connect}
        call to the connection (C{None}: not known).
    @ivar side: on a proxy, the leg: the peer it faces (L{Role.CLIENT}: the
        client's connection; L{Role.SERVER}: the connection to the server);
        C{None} in the client and the server, whose one connection it is.
    """

    connection: int
    at: float
    local: str
    remote: str
    family: Family
    tls: bool
    wallClock: float = 0.0
    connectTook: float | None = None
    side: Role | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """
    Bytes in one C{dataReceived} call (C{outgoing} false) or one C{write}.

    @ivar data: the first L{KEPT_BYTES} of them.
    @ivar size: how many there were.
    @ivar side: on a proxy, the leg: the peer it faces (L{Role.CLIENT}: the
        client's connection; L{Role.SERVER}: the connection to the server);
        C{None} in the client and the server, whose one connection it is.
    """

    connection: int
    at: float
    outgoing: bool
    data: bytes
    size: int
    side: Role | None = None

    @classmethod
    def of(
        cls, connection: int, at: float, outgoing: bool, data: bytes, side: Role | None = None
    ) -> Chunk:
        """The event for C{data}, keeping at most L{KEPT_BYTES} of it."""
        return cls(connection, at, outgoing, data[:KEPT_BYTES], len(data), side)

    @classmethod
    def ofSequence(
        cls,
        connection: int,
        at: float,
        outgoing: bool,
        sequence: Iterable[bytes],
        side: Role | None = None,
    ) -> Chunk:
        """
        The event for the bytes of C{sequence} (a C{writeSequence}), taking
        at most L{KEPT_BYTES} from it: not a copy of all of them.
        """
        kept = bytearray()
        size = 0
        for data in sequence:
            size += len(data)
            if len(kept) < KEPT_BYTES:
                kept += data[: KEPT_BYTES - len(kept)]
        return cls(connection, at, outgoing, bytes(kept), size, side)


@dataclass(frozen=True, slots=True)
class Framed:
    """What the framing decided about the bytes received, and why."""

    connection: int
    at: float
    note: FramingNote


@dataclass(frozen=True, slots=True)
class Asked:
    """The server waits for its operator to type a reply."""

    connection: int
    at: float


@dataclass(frozen=True, slots=True)
class Replied:
    """
    The server has its reply for this client.

    @ivar waited: seconds since it was asked for.
    """

    connection: int
    at: float
    reply: str
    how: ReplyHow
    waited: float


class Unanswered(Enum):
    """Why the server will send a client no reply."""

    #: The client half-closed while it waited: the server counts it as gone.
    CLIENT_FINISHED = "client finished"
    #: The connection ended while the client waited.
    CONNECTION_ENDED = "connection ended"
    #: The operator's input is closed (L{replies.OperatorGone}).
    OPERATOR_GONE = "operator gone"
    #: Nobody replied within the reply timeout (L{replies.ReplyTimedOut}).
    TIMED_OUT = "timed out"
    #: The operator closed the client without a reply (L{replies.Dismissed}).
    DISMISSED = "dismissed"
    #: Anything else: the reply source failed (L{NotReplied.detail} says how).
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NotReplied:
    """
    The server will send this client no reply.

    @ivar timeout: the reply timeout, for L{Unanswered.TIMED_OUT}.
    @ivar detail: for L{Unanswered.OTHER}, the failure's own words (raw,
        in whatever language it speaks).
    """

    connection: int
    at: float
    why: Unanswered
    timeout: float = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Closing:
    """
    This program ends the connection (or its sending side).

    @ivar side: on a proxy, the leg: the peer it faces (L{Role.CLIENT}: the
        client's connection; L{Role.SERVER}: the connection to the server);
        C{None} in the client and the server, whose one connection it is.
    """

    connection: int
    at: float
    how: CloseHow
    side: Role | None = None


@dataclass(frozen=True, slots=True)
class PeerFinished:
    """
    The other side finished sending: a FIN was read.  It may have closed
    only its sending side (a half-close) or the whole connection: TCP does
    not say which.

    @ivar side: on a proxy, the leg: the peer it faces (L{Role.CLIENT}: the
        client's connection; L{Role.SERVER}: the connection to the server);
        C{None} in the client and the server, whose one connection it is.
    """

    connection: int
    at: float
    side: Role | None = None


class Ending(Enum):
    """How a connection ended, as Twisted told its protocol."""

    #: C{ConnectionDone}: cleanly (FINs both ways).
    DONE = "done"
    #: C{ConnectionLost}: reset by the other side, or broken.
    LOST = "lost"
    #: C{ConnectionAborted}: dropped at once on this side.
    ABORTED = "aborted"
    #: The TLS layer failed (an C{OpenSSL.SSL.Error}).
    TLS = "tls"
    #: Anything else.
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Closed:
    """
    The connection is gone.

    @ivar closedBy: how this program first closed it (C{None}: it did not).
    @ivar peerFinished: whether the other side's FIN was read before.
    @ivar ending: how it ended.
    @ivar detail: what Twisted or the system said beyond L{ending} (raw, in
        English), or C{""} when it said nothing more.
    @ivar side: on a proxy, the leg: the peer it faces (L{Role.CLIENT}: the
        client's connection; L{Role.SERVER}: the connection to the server);
        C{None} in the client and the server, whose one connection it is.
    @ivar peerFinishedFirst: whether the other side's FIN was read before
        this program closed (or with it never closing): the only order a
        side can observe.  Each side of a normal exchange sends its FIN
        before reading the other's, so "who closed first" is not a fact
        either side can state.
    """

    connection: int
    at: float
    closedBy: CloseHow | None
    peerFinished: bool
    ending: Ending
    detail: str = ""
    side: Role | None = None
    peerFinishedFirst: bool = False

    @property
    def clean(self) -> bool:
        """Whether it ended cleanly, not by a reset or a broken connection."""
        return self.ending is Ending.DONE


class NoServer(Enum):
    """Why a proxy could not connect to its server."""

    #: Nothing listens there: the server's system answered with a reset.
    REFUSED = "refused"
    #: No route to it: the network or the host is unreachable.
    UNREACHABLE = "unreachable"
    #: No answer within the connect timeout (L{UpstreamFailed.timeout}).
    TIMED_OUT = "timed out"
    #: Anything else (L{UpstreamFailed.detail} says what).
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class UpstreamFailed:
    """
    A proxy could not connect to its server, so it closes the client's
    connection (and goes on serving others).

    @ivar server: where it tried (the C{--to} given), escaped for display.
    @ivar took: seconds it tried for.
    @ivar timeout: the connect timeout, for L{NoServer.TIMED_OUT}.
    @ivar detail: for L{NoServer.OTHER}, the system's own words (raw).
    """

    connection: int
    at: float
    server: str
    why: NoServer
    took: float
    timeout: float = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class IdleTimedOut:
    """A proxy closes both legs: no bytes either way for C{timeout} seconds."""

    connection: int
    at: float
    timeout: float


@dataclass(frozen=True, slots=True)
class RelayEnded:
    """
    A proxy's relayed connection is over (both legs gone): who ended it
    first, as the proxy saw it, and how many bytes went each way.

    @ivar first: whose FIN or reset the proxy saw first (C{None}: neither:
        the proxy itself ended it: no server, an idle timeout, a shutdown).
    @ivar reset: whether that first end was a reset (RST) or a broken
        connection, not a FIN.
    @ivar toServer: bytes relayed from the client to the server.
    @ivar toClient: bytes relayed from the server to the client.
    """

    connection: int
    at: float
    first: Role | None
    reset: bool
    toServer: int
    toClient: int


TraceEvent = (
    Connected
    | Chunk
    | Framed
    | Asked
    | Replied
    | NotReplied
    | Closing
    | PeerFinished
    | Closed
    | UpstreamFailed
    | IdleTimedOut
    | RelayEnded
)
