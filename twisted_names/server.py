"""
The server side of the name exchange: one L{NameServerProtocol} a client,
one L{NameServerFactory} a listening port.

The protocol never prints: what happens is logged with L{twisted.logger}
(one event per exchange, with its fields) and shown to the operator by
L{twisted_names.console} through the reply queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IReactorTime,
)
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.display import describeAddress
from twisted_names.framing import MessageReceiver
from twisted_names.replies import NoReply, ReplySource
from twisted_names.timeouts import NO_TIMEOUT, SameTimeouts, Timeout
from twisted_names.wire import DEFAULT_MAX_LENGTH, DEFAULT_QUIET_PERIOD, Message, encodeLine

log = Logger(namespace="names")


def logExchange(peer: str, name: str, reply: str, duration: float) -> None:
    """
    Log one exchange as one event, with C{peer}, C{name}, C{reply} and
    C{duration} (seconds) as fields for JSON and other observers.

    The text is formatted here, and the event's format is a single field:
    formatting four fields with Twisted's formatter cost more than the rest
    of an exchange (see docs/performance.md).  C{!r} keeps control
    characters in a peer's name from reaching a terminal or a log file raw.
    """
    log.info(
        "{exchange}",
        exchange=f"{peer} {name!r} answered {reply!r} in {duration:.3f} s",
        peer=peer,
        name=name,
        reply=reply,
        duration=duration,
    )


#: How many lines a chat client may send ahead of the operator's replies.
CHAT_BACKLOG = 16


@dataclass(frozen=True)
class ServerSettings:
    """
    Limits and modes of a server, with the documented defaults.

    @ivar maxLength: longest name in bytes (without its line ending).
    @ivar quietPeriod: seconds before unterminated bytes count as a name.
    @ivar nameTimeout: seconds a client has to send its name (in chat mode:
        each next line); 0 for none.
    @ivar chat: keep the connection for turn after turn.
    @ivar maxClients: connections open at once; more are refused.
    @ivar maxPerAddress: connections open at once from one IP address; 0 for
        no limit.
    """

    maxLength: int = DEFAULT_MAX_LENGTH
    quietPeriod: float = DEFAULT_QUIET_PERIOD
    nameTimeout: float = 30.0
    replyTimeout: float = 300.0
    chat: bool = False
    maxClients: int = 1000
    maxPerAddress: int = 0


@implementer(IHalfCloseableProtocol)
class NameServerProtocol(MessageReceiver):
    """
    One client: read its name, ask the reply source, send the reply, close
    (or, in chat mode, wait for the next line).
    """

    factory: NameServerFactory
    peer = "?"
    #: The IP address this connection counts against (--max-per-address).
    hostForLimit: str | None = None
    _asking: Deferred[str] | None = None
    _timeout: Timeout
    _name: str
    _ending: bytes
    _started: float
    _finishing = False
    _ignoredExtra = False

    def __init__(self, factory: NameServerFactory) -> None:
        settings = factory.settings
        self.factory = factory
        self.clock = factory.clock
        self.setLimits(settings.maxLength, settings.quietPeriod)
        # Lines a chat client sent ahead (at most CHAT_BACKLOG); a list only
        # once there are some: ten thousand clients may wait.
        self._pending: list[Message] | tuple[()] = ()
        self._exchanges = 0
        # Every attribute a connection will set, set here once and in this
        # order: instances whose attributes all appear at creation share one
        # key table (PEP 412) instead of each growing a dict of its own, which
        # cost some 800 bytes per waiting client.
        self.hostForLimit = None
        self.connected = 0
        self.transport = None  # type: ignore[assignment]
        self.peer = "?"
        self._timeout = NO_TIMEOUT
        self._busyReceiving = False
        self._buffer = b""
        self._name, self._ending, self._started = "", b"", 0.0
        self._asking = None
        self._quietCall = None
        self._lost = self._overflowed = self._finishing = self._ignoredExtra = False

    def connectionMade(self) -> None:
        self.peer = describeAddress(self.transport.getPeer())
        self._timeout = self.factory.nameTimeouts.start(self.timeoutConnection)

    def messageReceived(self, message: Message) -> None:
        if message.replaced:
            log.warn(
                "{peer} sent invalid UTF-8; undecodable bytes shown as U+FFFD",
                peer=self.peer,
            )
        if self._lost:
            log.info(
                "{peer} sent {name!r} and closed the connection", peer=self.peer, name=message.text
            )
            return
        if self._finishing:
            return  # Said "I am done" (an empty line): nothing more is read.
        if not message.text.strip():
            self._finish("sent an empty line" if not self._exchanges else None)
            return
        if self._asking is not None or (self._exchanges and not self.factory.settings.chat):
            self._queueOrIgnore(message)
            return
        self._ask(message)

    def _queueOrIgnore(self, message: Message) -> None:
        if not self.factory.settings.chat:
            if not self._ignoredExtra:
                self._ignoredExtra = True
                log.info("{peer} sent more after its name; ignored", peer=self.peer)
            return
        if len(self._pending) >= CHAT_BACKLOG:
            log.warn(
                "{peer} sent more than {limit} lines ahead of the replies; closing",
                peer=self.peer,
                limit=CHAT_BACKLOG,
            )
            self.transport.loseConnection()
            return
        self._pending = [*self._pending, message]

    def _ask(self, message: Message) -> None:
        self._timeout.cancel()
        self._timeout = NO_TIMEOUT  # Let the cancelled one go.
        # Kept on the protocol, not in a Message or as callback arguments:
        # fewer objects for each of thousands of waiting clients.
        self._name, self._ending = message.text, message.ending
        self._started = self.clock.seconds()
        asking = self._asking = self.factory.replies.ask(message.text, self.peer)
        asking.addBoth(self._answered)

    def _answered(self, result: str | Failure) -> None:
        if isinstance(result, Failure):
            self._noReply(result)
        else:
            self._reply(result)

    def _reply(self, reply: str) -> None:
        self._asking = None
        self._exchanges += 1
        self.transport.write(encodeLine(reply, self._ending))
        logExchange(self.peer, self._name, reply, self.clock.seconds() - self._started)
        if not self.factory.settings.chat:
            self._finish(None)
        elif self._pending:  # Owed, even after an empty line ended the chat.
            first, *self._pending = self._pending
            self._ask(first)
        elif self._finishing:
            self._finish(None)
        else:
            self._timeout = self.factory.nameTimeouts.start(self.timeoutConnection)

    def _noReply(self, failure: Failure) -> None:
        self._asking = None
        if failure.check(CancelledError):
            return  # We cancelled it: the client left.
        failure.trap(NoReply)
        log.info("{peer} gets no reply ({why}); closing", peer=self.peer, why=str(failure.value))
        self.transport.loseConnection()

    def _finish(self, why: str | None) -> None:
        """Close once nothing is owed to the client any more."""
        self._finishing = True
        if self._asking is not None or self._pending:
            return
        if why is not None:
            log.info("{peer} {why}; closing", peer=self.peer, why=why)
        self.transport.loseConnection()

    def messageTooLong(self, size: int) -> None:
        log.warn(
            "{peer} sent a line longer than {limit} bytes ({size} bytes); closing",
            peer=self.peer,
            limit=self.maxLength,
            size=size,
        )
        self.transport.loseConnection()

    def timeoutConnection(self) -> None:
        """The client sent no name (chat: no next line) in time."""
        log.info(
            "{peer} sent no {what} within {timeout:g} s; closing",
            peer=self.peer,
            what="next line" if self._exchanges else "name",
            timeout=self.factory.settings.nameTimeout,
        )
        self.transport.abortConnection()

    def readConnectionLost(self) -> None:
        """
        The client closed its sending side.

        What it sent last is a message too, answered if a reply is ready at
        once (C{--name}, a typed-ahead line).  Beyond that the client counts
        as gone: TCP cannot tell "done sending, still reading" (C{nc -N})
        from a client that quit, was interrupted or was killed, and a client
        that is gone must not keep its place in line and swallow a reply
        meant for the next one.
        """
        self.flushUnterminated()
        if self._asking is None and not self._exchanges and not self._lost:
            log.info("{peer} closed without a name; closing", peer=self.peer)
        self._stopWaiting()
        self.transport.loseConnection()

    def _stopWaiting(self) -> None:
        """Leave the reply queue and forget lines sent ahead."""
        self._pending = ()
        asking, self._asking = self._asking, None
        if asking is not None:
            asking.cancel()

    def writeConnectionLost(self) -> None:
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self._timeout.cancel()
        self._stopWaiting()
        self.factory.clientLeft(self)


class Refused(Protocol):
    """
    A connection over a limit: closed as soon as it is made.  (Not C{None}
    from C{buildProtocol}: TLS's wrapping factory would wrap that and log
    tracebacks for every refused connection.)
    """

    def connectionMade(self) -> None:
        self.transport.abortConnection()  # type: ignore[union-attr]


class NameServerFactory(ServerFactory):
    """
    The clients of one server: their limits, their reply source, and who is
    connected (to refuse floods and to close everyone at shutdown).

    @ivar clients: the connected protocols.
    """

    noisy = False

    def __init__(
        self, replies: ReplySource, clock: IReactorTime, settings: ServerSettings | None = None
    ) -> None:
        self.replies = replies
        self.clock = clock
        self.settings = settings or ServerSettings()
        #: Each client's time to send its name (chat: its next line).
        self.nameTimeouts = SameTimeouts(clock, self.settings.nameTimeout)
        self.clients: set[NameServerProtocol] = set()
        self._perAddress: dict[str, int] = {}
        self._refused = 0

    def buildProtocol(self, addr: IAddress) -> Protocol:  # type: ignore[override]
        host = getattr(addr, "host", None)
        why = self._refusal(host)
        if why is not None:
            self._refused += 1
            if self._refused == 1:
                log.warn("refusing {peer}: {why}", peer=describeAddress(addr), why=why)
            return Refused()
        self._reportRefused()
        protocol = NameServerProtocol(self)
        self.clients.add(protocol)
        if host is not None:
            self._perAddress[host] = self._perAddress.get(host, 0) + 1
        protocol.hostForLimit = host
        return protocol

    def _reportRefused(self) -> None:
        """Say how many were refused in the run of refusals that just ended."""
        if self._refused > 1:
            log.warn("refused {count} connections while over a limit", count=self._refused)
        self._refused = 0

    def _refusal(self, host: str | None) -> str | None:
        settings = self.settings
        if len(self.clients) >= settings.maxClients:
            return f"{len(self.clients)} clients connected, the limit (--max-clients)"
        if host is not None and settings.maxPerAddress:
            count = self._perAddress.get(host, 0)
            if count >= settings.maxPerAddress:
                return f"{count} connections from {host}, the limit (--max-per-address)"
        return None

    def clientLeft(self, protocol: NameServerProtocol) -> None:
        """Forget a client that disconnected."""
        self._reportRefused()
        if protocol not in self.clients:
            return
        self.clients.discard(protocol)
        host = protocol.hostForLimit
        if host is not None:
            left = self._perAddress[host] - 1
            if left:
                self._perAddress[host] = left
            else:
                del self._perAddress[host]

    def stopFactory(self) -> None:
        """No more listening: no more name timeouts to keep."""
        self._reportRefused()
        self.nameTimeouts.stop()

    def closeAll(self) -> int:
        """Close every client's connection (at shutdown); return how many."""
        clients = list(self.clients)
        for protocol in clients:
            protocol.transport.loseConnection()
        return len(clients)
