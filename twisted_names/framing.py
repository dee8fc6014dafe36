"""
The framing both sides speak: lines, or whatever a peer sent before it went
quiet.

A message is a line ending in C{\\n} (or C{\\r\\n}).  Peers written like the
course's scripts send with no terminator at all (C{sock.send(name.encode())}
then C{recv(1024)}), so bytes that stay unterminated for a short quiet period,
or that are followed by the peer's close, count as one message too.

A receiver that wants no more messages calls L{MessageReceiver.stopMessages}:
from then on what the peer sends is dropped as it arrives, unparsed (it is
L{LineReceiver}'s raw mode), so a peer that keeps sending after it was
answered costs one call a read, not one a line.

A peer can send a whole read's worth (64 KiB) of tiny lines at once, and
L{LineReceiver} delivers them all in one call: with a reply for each, that
held the reactor for most of a second (issue 16).  So a receiver delivers at
most L{MESSAGES_PER_TURN} messages per reactor turn: then it stops, stops
reading (the kernel's buffers push back on the peer), and goes on at the
next turn (C{callLater(0)}), after everyone else's events.

Each decision can be told to an observer (L{MessageReceiver.framingObserver},
a L{FramingNote} each): the trace (L{twisted_names.trace.wrapper}) shows students
why bytes became a message.  Without one, what it costs is an attribute test
per decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from twisted_names.wire import (
    CRLF,
    DEFAULT_MAX_LENGTH,
    DEFAULT_QUIET_PERIOD,
    LF,
    UNTERMINATED,
    Message,
    decodeMessage,
    splitEnding,
)

#: The most messages delivered for one connection in one reactor turn (see
#: the module's docstring).  A person's client sends one line a turn; 32
#: chat replies took about 0.5 ms, 2.7 ms with --trace (benchmarks/fairness.py,
#: the attacker's lines answered per second; docs/performance.md).
MESSAGES_PER_TURN = 32


class Decision(Enum):
    """What the framing decided about the bytes it holds (see L{FramingNote})."""

    #: A line ending arrived: the bytes before it are a message.
    LINE = "line"
    #: Bytes with no line ending wait: the quiet period starts (again).
    WAITING_FOR_QUIET = "waiting for quiet"
    #: The quiet period passed with no line ending: the bytes are a message.
    QUIET = "quiet"
    #: The peer finished sending with no line ending: the bytes are a message.
    PEER_FINISHED = "peer finished"
    #: The connection was lost (reset, broken) with no line ending: the bytes
    #: are a message.
    CONNECTION_LOST = "connection lost"
    #: More than C{maxLength} bytes with no line ending: no more messages.
    TOO_LONG = "too long"
    #: Bytes dropped unread: messages are no longer taken (L{stopMessages}).
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class FramingNote:
    """
    One framing decision, for an observer.

    @ivar size: bytes of the message (without its ending), held, too long or
        ignored.
    @ivar ending: the message's line ending (L{Decision.LINE}), else C{b""}.
    @ivar message: the message delivered, if one was.
    @ivar limit: the quiet period (seconds) or the longest line (bytes) the
        decision was made by, else C{0}.
    """

    decision: Decision
    size: int
    ending: bytes = b""
    message: Message | None = None
    limit: float = 0


class MessageReceiver(LineReceiver):
    """
    A L{LineReceiver} that also delivers unterminated messages.

    Subclasses implement L{messageReceived} and L{messageTooLong}, and set
    L{clock} (the reactor, or a L{twisted.internet.task.Clock} in tests),
    L{maxLength} and L{quietPeriod} before data arrives.  They may override
    L{ignoredDataReceived} to hear of bytes dropped after L{stopMessages}.

    @ivar maxLength: the longest message, in bytes, without its line ending.
    @ivar quietPeriod: seconds that unterminated bytes must stay quiet to count
        as a message; C{0} turns that off (only lines and bytes before the
        peer's close count).
    """

    delimiter = b"\n"
    maxLength: int = DEFAULT_MAX_LENGTH
    MAX_LENGTH = DEFAULT_MAX_LENGTH + 1
    quietPeriod: float = DEFAULT_QUIET_PERIOD
    clock: IReactorTime
    transport: ITCPTransport
    _quietCall: IDelayedCall | None = None
    #: Told of every framing decision, if set (the trace sets it).
    framingObserver: Callable[[FramingNote], None] | None = None
    #: Messages delivered since this turn's data arrived (L{MESSAGES_PER_TURN}).
    _delivered = 0
    #: Set when this turn's share was used: delivery goes on there.
    _nextTurn: IDelayedCall | None = None
    #: Whether our consumer (the transport, its buffer full) paused us.
    pausedByConsumer = False

    def setLimits(self, maxLength: int, quietPeriod: float) -> None:
        """Set L{maxLength} and L{quietPeriod}; call before data arrives."""
        self.maxLength = maxLength
        self.quietPeriod = quietPeriod
        # LineReceiver's limit counts a \r before the \n: allow one.
        self.MAX_LENGTH = maxLength + 1

    def messageReceived(self, message: Message) -> None:
        """
        Called with each message, in order, until L{stopMessages}.

        May be called from L{connectionLost} (bytes the peer sent just before
        closing), when nothing can be written back any more.
        """
        raise NotImplementedError

    def messageTooLong(self, size: int) -> None:
        """
        Called once when the peer sends more than L{maxLength} bytes without a
        line ending; no message is delivered after it (L{stopMessages} is
        already in force).

        @param size: how many bytes had arrived (at least C{maxLength + 1}).
        """
        raise NotImplementedError

    def ignoredDataReceived(self, data: bytes) -> None:
        """Called with bytes that arrive after L{stopMessages}; they are dropped."""

    def stopMessages(self) -> None:
        """
        Deliver no more messages: what is buffered is dropped, and what
        arrives later goes to L{ignoredDataReceived}, unparsed.
        """
        self._cancelQuiet()
        self.setRawMode()
        dropped = self.clearLineBuffer()
        if dropped:
            self._ignored(dropped)

    @property
    def takingMessages(self) -> bool:
        """Whether messages are still delivered (L{stopMessages} not called)."""
        return bool(self.line_mode)

    def rawDataReceived(self, data: bytes) -> None:
        self._ignored(data)

    def dataReceived(self, data: bytes) -> Any:
        if not self.line_mode:
            self._ignored(data)
            return None
        if (
            data
            and data[-1] == 10  # b"\n"
            and not self._buffer
            and self._nextTurn is None
            and not self.paused
            and not self._busyReceiving
        ):
            line = data[:-1]
            if b"\n" not in line and len(line) <= self.MAX_LENGTH:
                # One whole line, alone in this read, nothing held before it
                # (a name, most of the time): what LineReceiver would do,
                # without its loop (docs/performance.md, "Instructions per
                # exchange").
                self._delivered = 1
                self._busyReceiving = True  # Bytes fed meanwhile wait, as in the loop.
                try:
                    # wire.splitEnding, inline: 1.6k instructions, 4.7% of an
                    # exchange with the summary log (docs/performance.md).
                    if line[-1:] == b"\r":
                        self.lineDelivered(line[:-1], CRLF)
                    else:
                        self.lineDelivered(line, LF)
                finally:
                    self._busyReceiving = False
                if self._buffer:  # Fed while it was delivered: the loop takes them now.
                    why = super().dataReceived(b"")
                    self._armQuiet()
                    return why
                self._cancelQuiet()
                return None
        if data and self._nextTurn is None:
            self._delivered = 0  # New bytes: a new turn.
        why = super().dataReceived(data)
        self._armQuiet()
        return why

    def pauseProducing(self) -> None:
        """The consumer is full: deliver and read nothing until it resumes us."""
        self.pausedByConsumer = True
        super().pauseProducing()

    def resumeProducing(self) -> None:
        """
        The consumer takes more: deliver what is buffered and read again,
        unless this turn's share is used (the next turn will).
        """
        self.pausedByConsumer = False
        if self._nextTurn is None:
            self._deliverBuffered()

    def _deliverBuffered(self) -> None:
        """
        Deliver the lines buffered (at most this turn's share), then read
        again if all were delivered.  What L{LineReceiver.resumeProducing}
        does, in the other order: reading resumes only once the buffer holds
        no whole line, so what is buffered stays bounded by one read.
        """
        self.paused = False
        if self.line_mode:
            super().dataReceived(b"")
        if not self.paused and self.transport is not None:
            self.transport.resumeProducing()  # type: ignore[attr-defined]
        self._armQuiet()

    def _yieldTurn(self) -> None:
        """This turn's share is used: stop, stop reading, go on next turn."""
        self.paused = True
        self.transport.pauseProducing()  # type: ignore[attr-defined]
        self._nextTurn = self.clock.callLater(0, self._turnCame)

    def _turnCame(self) -> None:
        self._nextTurn = None
        self._delivered = 0
        if self.pausedByConsumer or self.transport is None:
            return  # The consumer's resumeProducing will go on.
        if self.transport.disconnecting:  # type: ignore[attr-defined]
            return
        self._deliverBuffered()

    def lineDelivered(self, content: bytes, ending: bytes) -> None:
        """
        Deliver one line: C{content}, its bytes without the line ending,
        and C{ending}, L{LF} or L{CRLF}.  Decodes it into the L{Message} for
        L{messageReceived}; a subclass may answer some lines here without
        building one (L{twisted_names.server.NameServerProtocol} does).
        """
        self._deliver(content, ending)

    def lineReceived(self, line: bytes) -> None:
        content, ending = splitEnding(line)
        self.lineDelivered(content, ending)
        self._delivered += 1
        if (
            self._delivered >= MESSAGES_PER_TURN
            and not self.paused
            and self.line_mode
            and self._nextTurn is None
            and not self.transport.disconnecting  # type: ignore[attr-defined]
        ):
            self._yieldTurn()

    def lineLengthExceeded(self, line: bytes) -> None:
        self._overflow(len(line))

    def flushUnterminated(self, why: Decision = Decision.PEER_FINISHED) -> None:
        """
        Deliver what is buffered: the whole lines in it (there are some only
        if reading was paused), then the bytes after the last line ending as
        one message.

        Called when the peer went quiet or finished sending.

        @param why: L{Decision.QUIET}, L{Decision.PEER_FINISHED} or
            L{Decision.CONNECTION_LOST}, for the L{framingObserver}.
        """
        self._cancelQuiet()
        pending = self.clearLineBuffer()
        *lines, rest = pending.split(self.delimiter)
        for line in lines:
            if not self.line_mode:
                return
            self.lineReceived(line)
        if rest and self.line_mode:
            self._deliver(rest[:-1] if rest.endswith(b"\r") else rest, UNTERMINATED, why)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        # isinstance, not Failure.check: that builds qualified names, a
        # measurable part of an exchange (benchmarks/tracecost.py).
        if not self.line_mode and self._nextTurn is None:
            return  # Nothing to deliver (docs/performance.md, "Instructions per exchange").
        clean = isinstance(reason.value, ConnectionDone)
        if self._nextTurn is not None:
            self._cancelNextTurn()
        self.flushUnterminated(Decision.PEER_FINISHED if clean else Decision.CONNECTION_LOST)
        if self._nextTurn is not None:  # Delivering what was buffered yielded.
            self._cancelNextTurn()

    def _cancelNextTurn(self) -> None:
        nextTurn, self._nextTurn = self._nextTurn, None
        if nextTurn is not None and nextTurn.active():
            nextTurn.cancel()

    def _armQuiet(self) -> None:
        """
        Start (or restart) the quiet period if unterminated bytes wait, and
        lines are being read; else stop it.
        """
        buffered = self._buffer
        if (
            self.quietPeriod <= 0
            or not self.line_mode
            or self.paused
            or not buffered
            or self.delimiter in buffered
            or self.transport is None
            or self.transport.disconnecting  # type: ignore[attr-defined]
        ):
            self._cancelQuiet()
        else:
            if self._quietCall is None:
                self._quietCall = self.clock.callLater(self.quietPeriod, self._quietExpired)
            else:
                self._quietCall.reset(self.quietPeriod)
            if self.framingObserver is not None:
                self.framingObserver(
                    FramingNote(Decision.WAITING_FOR_QUIET, len(buffered), limit=self.quietPeriod)
                )

    def _deliver(self, content: bytes, ending: bytes, why: Decision = Decision.LINE) -> None:
        if len(content) > self.maxLength:
            self._overflow(len(content))
            return
        message = decodeMessage(content, ending)
        if self.framingObserver is not None:
            limit = self.quietPeriod if why is Decision.QUIET else 0
            self.framingObserver(FramingNote(why, len(content), ending, message, limit))
        self.messageReceived(message)

    def _overflow(self, size: int) -> None:
        """Too long: say so once, and take nothing more from this peer."""
        if self.framingObserver is not None:
            self.framingObserver(FramingNote(Decision.TOO_LONG, size, limit=self.maxLength))
        self.stopMessages()
        self.messageTooLong(size)

    def _ignored(self, data: bytes) -> None:
        if self.framingObserver is not None:
            self.framingObserver(FramingNote(Decision.IGNORED, len(data)))
        self.ignoredDataReceived(data)

    def _quietExpired(self) -> None:
        self._quietCall = None
        self.flushUnterminated(Decision.QUIET)

    def _cancelQuiet(self) -> None:
        if self._quietCall is not None:
            if self._quietCall.active():
                self._quietCall.cancel()
            self._quietCall = None
