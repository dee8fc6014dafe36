"""
The server side of the name exchange: one L{NameServerProtocol} a client,
one L{NameServerFactory} a listening port.

The protocol never prints: what happens is logged with L{twisted.logger}
(one event per exchange, with its fields) and shown to the operator by
L{twisted_names.console.plain} through the reply queue.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from time import time

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IPushProducer,
    IReactorTime,
)
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.display import describeAddress
from twisted_names.framing import MessageReceiver
from twisted_names.i18n import N_, Preformatted
from twisted_names.replies import Departure, FixedReply, NoReply, ReplySource
from twisted_names.wire import DEFAULT_MAX_LENGTH, DEFAULT_QUIET_PERIOD, Message, encodeLine

log = Logger(namespace="names")


#: An exchange's log text as a format of its fields: what the text formatted
#: in L{logExchange} says, marked for the operator's console to translate.
EXCHANGE = N_("{peer} {name!r} answered {reply!r} in {duration:.3f} s")
#: The exchange event's format: the one field L{logExchange} formats ahead.
_EXCHANGE_EVENT = Preformatted("exchange", EXCHANGE)


def logExchange(peer: str, name: str, reply: str, duration: float) -> None:
    """
    Log one exchange as one event, with C{peer}, C{name}, C{reply} and
    C{duration} (seconds) as fields for JSON and other observers.

    The text is formatted here, and the event's format is a single field:
    formatting four fields with Twisted's formatter cost more than the rest
    of an exchange (see docs/performance.md).  C{!r} keeps control
    characters in a peer's name from reaching a terminal or a log file raw.
    The text is L{EXCHANGE} formatted, in English; the event's format
    carries L{EXCHANGE} for the console to translate (L{Preformatted}).

    The event is the one C{log.info} would make, handed to the logger's
    observer directly: L{Logger.emit} checks the level by sorting all the
    levels, each event (docs/performance.md, "Instructions per exchange").
    """
    log.observer(
        {
            "exchange": f"{peer} {name!r} answered {reply!r} in {duration:.3f} s",
            "peer": peer,
            "name": name,
            "reply": reply,
            "duration": duration,
            "log_logger": log,
            "log_level": LogLevel.info,
            "log_namespace": log.namespace,
            "log_source": None,
            "log_format": _EXCHANGE_EVENT,
            "log_time": time(),
        }
    )


class ExchangeLog(Enum):
    """What the log says of exchanges (C{--exchange-log})."""

    #: One line an exchange (L{logExchange}): what a teacher reads afterwards.
    EACH = "each"
    #: One line a second with something in it (L{ExchangeSummary}): for a busy
    #: server, whose lines would cost more than its exchanges.
    SUMMARY = "summary"


#: The summary's format (L{ExchangeSummary}): counts, never plurals to agree with.
SUMMARY = N_(
    "in the last second, connections answered: {answered}; closed without a reply:"
    " {unanswered}; refused: {refused}"
)


class ExchangeSummary:
    """
    The exchanges of each second, counted, and logged as one event when the
    second ends: connections answered, closed without a reply, refused.  A
    quiet second logs nothing and keeps no timer.  What else is logged (why
    a connection was closed, refusals, warnings) is logged as before.
    """

    #: Seconds counted in one event.
    PERIOD = 1.0

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.answered = 0
        self.unanswered = 0
        self.refused = 0
        self._timer: IDelayedCall | None = None

    def count(self) -> None:
        """Something was counted: log it at the end of this second."""
        if self._timer is None:
            self._timer = self.clock.callLater(self.PERIOD, self.flush)

    def flush(self) -> None:
        """Log what was counted, if anything; start a new second."""
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        answered, unanswered, refused = self.answered, self.unanswered, self.refused
        if answered or unanswered or refused:
            self.answered = self.unanswered = self.refused = 0
            log.info(SUMMARY, answered=answered, unanswered=unanswered, refused=refused)


#: How many lines a chat client may send ahead of the operator's replies.
CHAT_BACKLOG = 16

#: Seconds a connection we close gracefully (a FIN after what is queued)
#: has to take what is queued and go; past it, it is aborted: a peer that
#: reads nothing must not keep it open.
CLOSING_TIMEOUT = 10.0

#: Seconds after telling the operator of a kind of closing (a client that
#: sent no name, one closed to let others in) during which more of the same
#: kind are only counted, then said in one line: a flood is told in two
#: lines, not one a connection.
NOTICE_WINDOW = 10.0


@dataclass(frozen=True)
class ServerSettings:
    """
    Limits and modes of a server.  The field defaults are the documented
    defaults, and the options of C{twistd names-server} take theirs from here.

    @ivar maxLength: longest name in bytes (without its line ending).
    @ivar quietPeriod: seconds before unterminated bytes count as a name.
    @ivar nameTimeout: seconds a client has to send its name (in chat mode:
        each next line, and to take its replies once they fill the send
        buffer); 0 for none.
    @ivar replyTimeout: seconds a client waits for the operator's reply; 0
        for none.
    @ivar chat: keep the connection for turn after turn.
    @ivar maxClients: connections open at once; more are refused.
    @ivar maxPerAddress: connections open at once from one IP address; 0 for
        no limit.
    @ivar evictSilent: when C{maxClients} are connected, a new client from
        another address closes the longest-silent connection (no name sent
        yet) of the address holding the most such connections, rather than
        being refused (see L{NameServerFactory.buildProtocol}).
    @ivar exchangeLog: a log line an exchange, or a summary a second.
    """

    maxLength: int = DEFAULT_MAX_LENGTH
    quietPeriod: float = DEFAULT_QUIET_PERIOD
    nameTimeout: float = 120.0
    replyTimeout: float = 300.0
    chat: bool = False
    maxClients: int = 1000
    maxPerAddress: int = 0
    evictSilent: bool = True
    exchangeLog: ExchangeLog = ExchangeLog.EACH


class Phase(Enum):
    """Where a client's connection is (see L{NameServerProtocol})."""

    #: Waiting for the name (in chat mode: the next line); the name timeout runs.
    READING = "reading"
    #: The reply source has the name.  One-shot: anything more is dropped
    #: unread.  Chat: further lines wait in the backlog.
    ASKING = "asking"
    #: Chat: the client said it is done (an empty line) while replies were
    #: owed; they are sent, then the connection closes.
    ENDING = "ending"
    #: We are closing it: nothing more is read, asked or logged.
    CLOSED = "closed"
    #: The connection is gone.
    GONE = "gone"


#: The phases an exchange's hot path tests and sets, as module names: an
#: enum member looked up on its class goes through the enum's metaclass, 63 ns
#: against 6 ns for a global on CPython 3.11 (docs/performance.md,
#: "Instructions per exchange").
_READING, _ASKING, _CLOSED, _GONE = Phase.READING, Phase.ASKING, Phase.CLOSED, Phase.GONE


class Why:
    """
    Why a connection is closed: the log event's whole format, in English,
    marked so that the operator's console can show it translated.
    """

    EMPTY_LINE = N_("{peer} sent an empty line; closing")
    ENDED = N_("{peer} ended the conversation; closing")
    NO_NAME = N_("{peer} closed without a name; closing")
    NAME_TIMEOUT = N_("{peer} sent no name within {timeout:g} s; closing")
    NEXT_LINE_TIMEOUT = N_("{peer} sent no next line within {timeout:g} s; closing")
    NOT_READING = N_("{peer} took none of its replies within {timeout:g} s; closing")
    TOO_LONG = N_("{peer} sent a line longer than {limit} bytes ({size} bytes); closing")
    BACKLOG = N_("{peer} sent more than {limit} lines ahead of the replies; closing")
    REPLY_FAILED = N_("{peer} gets no reply: the reply source failed; closing")
    EVICTED = N_(
        "{peer} had sent no name and the server is full (--max-clients {limit});"
        " closing it to let in {newcomer}"
    )
    CLOSE_TIMEOUT = N_(
        "{peer} took nothing of what was queued within {timeout:g} s of being closed;"
        " dropping the connection"
    )


class Notices:
    """
    One kind of closing, told to the operator once for a flood: the first
    is logged as a warning (the console shows warnings), the next ones
    within L{NOTICE_WINDOW} seconds at their usual level (the log file still
    has each), then one warning says how many more there were.
    """

    def __init__(self, clock: IReactorTime, more: str) -> None:
        self.clock = clock
        #: The format of the line saying how many more: fields C{count} and
        #: those of the last closing.
        self.more = more
        self._window: IDelayedCall | None = None
        self._count = 0
        self._fields: dict[str, object] = {}

    def level(self, **fields: object) -> LogLevel:
        """The level to log one more closing of this kind at (and count it)."""
        level: LogLevel
        if self._window is None:
            self._window = self.clock.callLater(NOTICE_WINDOW, self.flush)
            level = LogLevel.warn
        else:
            self._count += 1
            self._fields = fields
            level = LogLevel.info
        return level

    def flush(self) -> None:
        """Say how many more there were since the first, if any; start afresh."""
        window, self._window = self._window, None
        if window is not None and window.active():
            window.cancel()
        count, self._count = self._count, 0
        if count:
            log.warn(self.more, **{**self._fields, "count": count})


class NameDeadlines:
    """
    When each connection's name (chat: next line) is due, on one timer for
    all of them, instead of a L{DelayedCall} each (as L{TimeoutMixin} has):
    that cost about a tenth of an exchange's instructions
    (docs/performance.md, "Instructions per exchange").

    Every deadline is set C{period} seconds ahead, so the order deadlines
    are set in is the order they fall due in: an insertion-ordered dict
    holds them, the earliest first, and the one timer waits for the head.
    A connection whose deadline is set again moves to the end.  The timer
    is cancelled when no deadline is left.
    """

    #: A deadline this close ahead counts as due: the timer's own time is
    #: the clock's now plus a delay, which can round a hair short of it.
    _SLACK = 1e-6

    def __init__(self, clock: IReactorTime, period: float) -> None:
        self.clock = clock
        self.period = period
        self._due: dict[NameServerProtocol, float] = {}
        self._timer: IDelayedCall | None = None

    def set(self, protocol: NameServerProtocol) -> None:
        """Give C{protocol} until C{period} seconds from now (again)."""
        self._due.pop(protocol, None)
        self.start(protocol)

    def start(self, protocol: NameServerProtocol) -> None:
        """L{set} for a new connection, which has no deadline yet."""
        self._due[protocol] = self.clock.seconds() + self.period
        if self._timer is None:
            self._timer = self.clock.callLater(self.period, self._expire)

    def clear(self, protocol: NameServerProtocol) -> None:
        """C{protocol} has no deadline any more."""
        due = self._due
        if due.pop(protocol, None) is not None and not due:
            timer, self._timer = self._timer, None
            if timer is not None and timer.active():
                timer.cancel()

    def _expire(self) -> None:
        """Time out the connections due, then wait for the next one."""
        self._timer = None
        due = self._due
        while due:
            protocol, when = next(iter(due.items()))
            wait = when - self.clock.seconds()
            if wait > self._SLACK:
                self._timer = self.clock.callLater(wait, self._expire)
                return
            del due[protocol]
            try:
                protocol.timeoutConnection()
            except Exception:  # One connection's failure must not strand the others'.
                log.failure(N_("{peer}: closing at the name timeout failed"), peer=protocol.peer)


@implementer(IHalfCloseableProtocol, IPushProducer)
class NameServerProtocol(MessageReceiver):
    """
    One client: read its name, ask the reply source, send the reply, close
    (or, in chat mode, wait for the next line).

    Every way a connection ends goes through L{_close}, once.  In chat mode
    the protocol is its transport's producer: while the client does not take
    its replies, its lines are not read (L{LineReceiver.pauseProducing}).
    """

    factory: NameServerFactory
    #: The IP address this connection counts against (--max-per-address).
    hostForLimit: str | None
    #: No name sent yet, and not closing: a candidate to close for a
    #: newcomer when the server is full (L{NameServerFactory.spoke}).
    silent: bool
    #: The client's address as buildProtocol was given it, until described.
    _address: IAddress | None
    #: The client's address described (L{peer}), once it was.
    _peer: str | None
    phase: Phase
    #: Replies sent.
    _exchanges: int
    _asking: Deferred[str] | None
    # What the pending question was, to answer it the same way and log it.
    _name: str
    _ending: bytes
    _started: float
    #: Chat only: lines sent ahead of the replies (at most CHAT_BACKLOG).
    _backlog: deque[Message] | None
    #: Warnings already logged for this connection: each at most once.
    _warned: set[str] | None
    #: Once we closed gracefully: the abort if the peer does not let go.
    _closing: IDelayedCall | None

    def __init__(
        self, factory: NameServerFactory, address: IAddress, host: str | None = None
    ) -> None:
        """
        Every attribute an exchange sets, its own and those of the classes
        it inherits from, is set here, always in the same order: then
        CPython 3.11 keeps them all in the class's shared key table, and a
        connection has no dictionary of its own (832 bytes, and slower
        attribute access) when connections are made before earlier ones
        set theirs (docs/performance.md, "Memory per waiting client").
        """
        settings = factory.settings
        self.factory = factory
        self.clock = factory.clock
        self._address = address
        self._peer = None
        self.hostForLimit = host
        self.silent = True
        self.phase = _READING
        self._exchanges = 0
        self._backlog = deque() if settings.chat else None
        self._asking = None
        self._name, self._ending, self._started = "", b"", 0.0
        self._warned = None
        self._closing = None
        # Protocol's and LineReceiver's, and the framing's:
        self.connected = 0
        self.transport = None  # type: ignore[assignment]
        self._buffer = b""
        self._busyReceiving = False
        self.line_mode = 1
        self._delivered = 0
        self._quietCall = None  # A course-style name, with no line ending.
        if factory.ownLimits:
            self.setLimits(settings.maxLength, settings.quietPeriod)

    @property
    def peer(self) -> str:
        """
        The client's address, escaped (L{describeAddress}): described the
        first time something says it, as an exchange logged only in a
        summary never does (docs/performance.md, "Instructions per
        exchange").
        """
        peer = self._peer
        if peer is None:
            peer = self._peer = describeAddress(self._address)
            self._address = None  # Its text is all that is needed now.
        return peer

    def setTimeout(self, period: float | None) -> None:
        """
        Start the name timeout again if C{period} (the factory's
        C{nameTimeout}, or 0 or C{None} for none), else stop it.  What
        L{TimeoutMixin.setTimeout} did, on the factory's L{NameDeadlines}.
        """
        if period:
            self.factory.deadlines.set(self)
        else:
            self.factory.deadlines.clear(self)

    def connectionMade(self) -> None:
        # The peer is described from the address buildProtocol was given.
        if self._backlog is not None:
            self.transport.registerProducer(self, True)  # type: ignore[attr-defined]
        if self.factory.settings.nameTimeout:
            self.factory.deadlines.start(self)

    def lineDelivered(self, content: bytes, ending: bytes) -> None:
        """
        A whole line.  A one-shot connection's name, valid and not blank, is
        answered here when the reply is fixed (C{--name}), without building a
        L{Message} and going through L{_ask} and L{_reply}: the exchange most
        servers make, in one call (docs/performance.md, "Instructions per
        exchange").  Everything else is a message, as the framing makes it.
        """
        factory = self.factory
        replies = factory.replies
        if (
            self.phase is _READING
            and self._backlog is None
            and type(replies) is FixedReply
            and self.framingObserver is None
            and len(content) <= self.maxLength
        ):
            try:
                name = content.decode("utf-8")
            except UnicodeDecodeError:
                pass  # A message, and a warning.
            else:
                if name and not name.isspace():
                    # What _ask and _reply do for it, in their order.
                    self.phase = _ASKING
                    factory.deadlines.clear(self)
                    if self.silent:
                        factory.spoke(self)
                    self.stopMessages()
                    self._exchanges = 1
                    self.transport.write(replies.encoded + ending)
                    summary = factory.summary
                    if summary is None:
                        # The peer's text, without keeping it: the connection is closing.
                        peer = self._peer
                        if peer is None:
                            peer = describeAddress(self._address)
                        logExchange(peer, name, replies.reply, 0.0)
                    else:
                        summary.answered += 1
                        summary.count()
                    self.phase = _CLOSED
                    self.transport.loseConnection()
                    return
        super().lineDelivered(content, ending)

    def messageReceived(self, message: Message) -> None:
        if message.replaced:
            self._warnOnce(
                "utf8", N_("{peer} sent invalid UTF-8; undecodable bytes shown as U+FFFD")
            )
        phase = self.phase
        if phase is Phase.GONE:
            log.info(
                N_("{peer} sent {name!r} and closed the connection"),
                peer=self.peer,
                name=message.text,
            )
            self.stopMessages()  # One line, whatever else was buffered.
        elif message.text.isspace() or not message.text:  # Nothing but blanks.
            self._emptyLine()
        elif phase is Phase.READING:
            self._ask(message)
        elif self._backlog is not None and phase is Phase.ASKING:
            if len(self._backlog) >= CHAT_BACKLOG:
                self._close(Why.BACKLOG, level=LogLevel.warn, limit=CHAT_BACKLOG)
            else:
                self._backlog.append(message)

    def ignoredDataReceived(self, data: bytes) -> None:
        if self.phase is Phase.ASKING:
            self._warnOnce("extra", N_("{peer} sent more after its name; ignored"), LogLevel.info)

    def _emptyLine(self) -> None:
        """The client said it is done."""
        if self.phase is Phase.READING:
            self._close(Why.ENDED if self._exchanges else Why.EMPTY_LINE)
        else:  # Chat, replies owed: send them, then close.
            self.phase = Phase.ENDING
            self.stopMessages()

    def _ask(self, message: Message) -> None:
        factory = self.factory
        if self.phase is Phase.READING:
            self.phase = Phase.ASKING
            factory.deadlines.clear(self)
            if self.silent:
                factory.spoke(self)
        if self._backlog is None:
            self.stopMessages()  # One-shot: the name is all we read.
        replies = factory.replies
        if type(replies) is FixedReply:
            # Answered in this call: no Deferred, no clock (docs/performance.md,
            # "Instructions per exchange").
            self._reply(replies.reply, message.text, message.ending, 0.0)
            return
        self._name, self._ending = message.text, message.ending
        self._started = self.clock.seconds()
        asking = self._asking = replies.ask(message.text, self.peer)
        asking.addBoth(self._answered)

    def _answered(self, result: str | Failure) -> None:
        self._asking = None
        if self.phase in (Phase.CLOSED, Phase.GONE):
            return  # We withdrew the question (CancelledError), or closed.
        if not isinstance(result, Failure):
            self._reply(result, self._name, self._ending, self.clock.seconds() - self._started)
        elif isinstance(result.value, NoReply):
            self._close(result.value.logFormat, **result.value.logFields())
        else:
            log.failure(N_("{peer}: the reply source failed"), result, peer=self.peer)
            self._close(Why.REPLY_FAILED, level=LogLevel.error)

    def _reply(self, reply: str, name: str, ending: bytes, duration: float) -> None:
        """Send C{reply} to C{name} (ended with C{ending}), asked C{duration} s ago."""
        self._exchanges += 1
        self.transport.write(encodeLine(reply, ending))
        summary = self.factory.summary
        if summary is None:
            logExchange(self.peer, name, reply, duration)
        elif self._exchanges == 1:
            summary.answered += 1
            summary.count()
        if self._backlog is None:
            # One reply of at most --max-length bytes, the only write: the
            # kernel's send buffer takes it whole, so the close cannot wait
            # on the peer, and an exchange saves the bound's timer.  What
            # _close(None, bounded=False) does here, where _ask already left
            # the silent ones, stopped reading and the name timeout, and no
            # question is pending (docs/performance.md, "Instructions per exchange").
            self.phase = Phase.CLOSED
            self.transport.loseConnection()
        elif self._backlog:  # Owed, even after an empty line ended the chat.
            self._ask(self._backlog.popleft())
        elif self.phase is Phase.ENDING:
            self._close(None)
        else:
            self.phase = Phase.READING
            self.setTimeout(self.factory.settings.nameTimeout or None)

    def _close(
        self,
        reason: str | None,
        *,
        abort: bool = False,
        bounded: bool = True,
        level: LogLevel = LogLevel.info,
        **fields: object,
    ) -> None:
        """
        The one way a connection is closed by us: read nothing more, leave the
        reply queue, stop the timeout, log C{reason} (a L{Why}) with
        C{fields}, close: at once if C{abort}, else with a FIN after what is
        queued, aborted after L{CLOSING_TIMEOUT} if C{bounded} and the peer
        has not taken it by then.
        """
        if self.phase in (Phase.CLOSED, Phase.GONE):
            return
        # Between turns, or done after the replies owed (not: no reply, the
        # queue said why; not: a warning, the operator sees it).
        over = (
            self.phase is Phase.READING or (self.phase is Phase.ENDING and reason is None)
        ) and level in (LogLevel.debug, LogLevel.info)
        self.phase = Phase.CLOSED
        if self.silent:
            self.factory.spoke(self)  # Closing: never chosen for a newcomer.
        if self.takingMessages:
            self.stopMessages()
        self.setTimeout(None)
        if over:
            timedOut = reason in (Why.NEXT_LINE_TIMEOUT, Why.NOT_READING)
            self._conversationOver(Departure.TIMED_OUT if timedOut else Departure.LEFT)
        self._stopWaiting()
        if reason is not None:
            log.emit(level, reason, peer=self.peer, **fields)
        if abort:
            self.transport.abortConnection()
        else:
            if bounded:
                self._closing = self.clock.callLater(CLOSING_TIMEOUT, self._closeTookTooLong)
            self.transport.loseConnection()

    def _closeTookTooLong(self) -> None:
        """Closed gracefully, but what was queued was not taken: drop it."""
        self._closing = None
        log.info(Why.CLOSE_TIMEOUT, peer=self.peer, timeout=CLOSING_TIMEOUT)
        self.transport.abortConnection()

    def evict(self, newcomer: str) -> None:
        """
        The server is full and this connection has sent no name: close it
        (a FIN, as for a name timeout) to let C{newcomer} in.
        """
        limit = self.factory.settings.maxClients
        level = self.factory.evictions.level(limit=limit)
        self._close(Why.EVICTED, level=level, limit=limit, newcomer=newcomer)

    def _warnOnce(self, kind: str, text: str, level: LogLevel = LogLevel.warn) -> None:
        """Log C{text} unless this kind of warning was logged for this connection."""
        if self._warned is None:
            self._warned = set()
        elif kind in self._warned:
            return
        self._warned.add(kind)
        log.emit(level, text, peer=self.peer)

    def messageTooLong(self, size: int) -> None:
        self._close(Why.TOO_LONG, level=LogLevel.warn, limit=self.maxLength, size=size)

    def pauseProducing(self) -> None:
        """
        Chat: the client's replies fill the send buffer: read nothing more
        from it until it takes them, and give it the name timeout to do so.
        """
        super().pauseProducing()
        if self.phase not in (Phase.CLOSED, Phase.GONE):
            self.setTimeout(self.factory.settings.nameTimeout or None)

    def resumeProducing(self) -> None:
        if self.phase in (Phase.CLOSED, Phase.GONE):
            return
        self.setTimeout(
            self.factory.settings.nameTimeout or None if self.phase is Phase.READING else None
        )
        super().resumeProducing()

    def stopProducing(self) -> None:
        """The transport is going away: L{connectionLost} follows."""
        self.paused = True

    def timeoutConnection(self) -> None:
        """
        The client sent no name (chat: no next line, or took no reply) in time.

        A client that sent nothing is closed with a FIN, not a reset: the
        course's C{cliente.py} connects first and then asks its user for the
        name, and a slow typist's C{recv} should return C{b""}, not raise
        C{ConnectionResetError}.  One that does not take its replies is
        aborted: a FIN would wait behind them.
        """
        timeout = self.factory.settings.nameTimeout
        if self.pausedByConsumer:
            self._close(Why.NOT_READING, abort=True, timeout=timeout)
        elif self._exchanges:
            self._close(Why.NEXT_LINE_TIMEOUT, timeout=timeout)
        else:
            level = self.factory.silentClosed.level(timeout=timeout)
            self._close(Why.NAME_TIMEOUT, level=level, timeout=timeout)

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
        if self.phase is Phase.READING:
            self._close(Why.ENDED if self._exchanges else Why.NO_NAME)
        else:
            self._close(None)  # Gone while waiting: the operator is told.

    def writeConnectionLost(self) -> None:
        self._close(None)

    def _conversationOver(self, reason: Departure) -> None:
        """
        Chat: a client that was answered is going between turns (or after
        the replies it was owed): the reply source is told.  For a waiting
        one, withdrawing its question tells; for one given no reply, the
        queue told why.
        """
        if self._backlog is not None and self._exchanges and self._asking is None:
            self.factory.replies.ended(self.peer, reason)

    def _stopWaiting(self) -> None:
        """Leave the reply queue and forget lines sent ahead."""
        if self._backlog:
            self._backlog.clear()
        asking, self._asking = self._asking, None
        if asking is not None:
            asking.cancel()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if (
            self.phase is _CLOSED
            and self._closing is None
            and not self.line_mode
            and self._nextTurn is None
        ):
            # Answered and closed by us (_reply): nothing was left to read,
            # deliver or bound; forget it (docs/performance.md, "Instructions
            # per exchange").
            self.phase = _GONE
            self.factory.clientLeft(self)
            return
        left = self.phase is not Phase.CLOSED  # Else _close did the rest.
        betweenTurns = self.phase is Phase.READING
        self.phase = Phase.GONE
        if self._closing is not None:
            closing, self._closing = self._closing, None
            if closing.active():
                closing.cancel()
        # What the client sent just before leaving is logged, not asked.
        super().connectionLost(reason)
        if left:
            self.setTimeout(None)
            if betweenTurns:
                self._conversationOver(Departure.LEFT)
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
        self.clients: set[NameServerProtocol] = set()
        #: Whether the protocol's framing limits differ from its defaults.
        self.ownLimits = (self.settings.maxLength, self.settings.quietPeriod) != (
            NameServerProtocol.maxLength,
            NameServerProtocol.quietPeriod,
        )
        #: The name timeout of every connection, on one timer.
        self.deadlines = NameDeadlines(clock, self.settings.nameTimeout)
        #: With C{--exchange-log summary}: the counts logged each second.
        self.summary = (
            ExchangeSummary(clock) if self.settings.exchangeLog is ExchangeLog.SUMMARY else None
        )
        #: Connections open by IP address, counted only while --max-per-address is set.
        self._perAddress: dict[str, int] = {}
        #: By address (C{None}: UNIX sockets), the connections that have sent
        #: no name yet, the longest-silent first (a dict as an ordered set).
        self._silent: dict[str | None, dict[NameServerProtocol, None]] = {}
        self._refused = 0
        #: The operator is told of these closings once a flood (L{Notices}).
        self.silentClosed = Notices(
            clock,
            N_("more clients that sent no name within {timeout:g} s were closed: {count}"),
        )
        self.evictions = Notices(
            clock,
            N_(
                "the server is full (--max-clients {limit}): more connections that had sent no"
                " name were closed to let in clients from other addresses: {count}"
            ),
        )

    def buildProtocol(self, addr: IAddress) -> Protocol:  # type: ignore[override]
        host = getattr(addr, "host", None)
        settings = self.settings
        if len(self.clients) >= settings.maxClients or settings.maxPerAddress:
            refused = self._overLimit(addr, host)
            if refused is not None:
                return refused
        if self._refused:
            self._reportRefused()
        protocol = NameServerProtocol(self, addr, host)
        self.clients.add(protocol)
        # Counted only for the limit (docs/performance.md, "Instructions per exchange").
        if host is not None and settings.maxPerAddress:
            self._perAddress[host] = self._perAddress.get(host, 0) + 1
        sameHost = self._silent.get(host)
        if sameHost is None:
            sameHost = self._silent[host] = {}
        sameHost[protocol] = None
        return protocol

    def _overLimit(self, addr: IAddress, host: str | None) -> Protocol | None:
        """
        The server is full, or connections are limited by address: a
        L{Refused} protocol if C{addr} is refused (after closing a silent
        connection for it, if one is fair to close), else C{None}.
        """
        full = len(self.clients) >= self.settings.maxClients
        refusal = self._refusal(host, full=False)
        if refusal is None and full:
            silent = self._longestSilent(host)
            if silent is None:
                refusal = self._refusal(host, full=True)
            else:
                silent.evict(describeAddress(addr))
        if refusal is None:
            return None
        self._refused += 1
        if self.summary is not None:
            self.summary.refused += 1
            self.summary.count()
        if self._refused == 1:
            form, fields = refusal
            log.warn(form, peer=describeAddress(addr), **fields)
        return Refused()

    def _longestSilent(self, host: str | None) -> NameServerProtocol | None:
        """
        The server is full and a client from C{host} came: the connection to
        close for it, if one is fair to close.  The longest-silent one (no
        name sent yet) of the address holding the most silent connections,
        if that address would still hold more than C{host} does with the
        newcomer: one address's flood of silent connections cannot keep
        other addresses out, and the flood's own newcomers evict nobody.
        A class behind one NAT address, or a demo on 127.0.0.1, is never
        touched while the server is not full.
        """
        if not self.settings.evictSilent:
            return None
        most, chosen = len(self._silent.get(host, ())) + 1, None
        for address, silent in self._silent.items():
            if address != host and len(silent) > most:
                most, chosen = len(silent), silent
        return None if chosen is None else next(iter(chosen))

    def spoke(self, protocol: NameServerProtocol) -> None:
        """C{protocol} sent its name, or is closing: it is not silent any more."""
        protocol.silent = False
        host = protocol.hostForLimit
        silent = self._silent.get(host)
        if silent is not None and protocol in silent:
            del silent[protocol]
            if not silent:
                del self._silent[host]

    def _reportRefused(self) -> None:
        """Say how many were refused in the run of refusals that just ended."""
        if self._refused > 1:
            log.warn(N_("refused {count} connections while over a limit"), count=self._refused)
        self._refused = 0

    def _refusal(self, host: str | None, full: bool) -> tuple[str, dict[str, object]] | None:
        """
        Why a new connection is refused, if it is: the log format (marked for
        the console) and its fields besides C{peer}.  C{full}: refused if
        C{--max-clients} are connected (else that is not checked: not full,
        or a silent connection is being closed for it).
        """
        settings = self.settings
        if full:
            count = len(self.clients)
            return N_("refusing {peer}: {count} clients connected, the limit (--max-clients)"), {
                "count": count,
                "why": f"{count} clients connected, the limit (--max-clients)",
            }
        if host is not None and settings.maxPerAddress:
            count = self._perAddress.get(host, 0)
            if count >= settings.maxPerAddress:
                return N_(
                    "refusing {peer}: {count} connections from {host}, the limit"
                    " (--max-per-address)"
                ), {
                    "count": count,
                    "host": host,
                    "why": f"{count} connections from {host}, the limit (--max-per-address)",
                }
        return None

    def clientLeft(self, protocol: NameServerProtocol) -> None:
        """Forget a client that disconnected."""
        if self._refused:
            self._reportRefused()
        try:
            self.clients.remove(protocol)
        except KeyError:
            return  # Refused, or forgotten already.
        if protocol.silent:
            self.spoke(protocol)
        if self.summary is not None and not protocol._exchanges:
            self.summary.unanswered += 1
            self.summary.count()
        host = protocol.hostForLimit
        if host is not None and self.settings.maxPerAddress:
            left = self._perAddress[host] - 1
            if left:
                self._perAddress[host] = left
            else:
                del self._perAddress[host]

    def stopFactory(self) -> None:
        """No more listening: say how many were refused or closed, if any were."""
        self._reportRefused()
        self.silentClosed.flush()
        self.evictions.flush()
        if self.summary is not None:
            self.summary.flush()

    def closeAll(self) -> int:
        """Close every client's connection (at shutdown); return how many."""
        clients = list(self.clients)
        for protocol in clients:
            protocol.transport.loseConnection()
        return len(clients)
