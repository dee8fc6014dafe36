"""
The framing both sides speak: lines, or whatever a peer sent before it went
quiet.

A message is a line ending in C{\\n} (or C{\\r\\n}).  Peers written like the
course's scripts send with no terminator at all (C{sock.send(name.encode())}
then C{recv(1024)}), so bytes that stay unterminated for a short quiet period,
or that are followed by the peer's close, count as one message too.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from twisted_names.wire import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_QUIET_PERIOD,
    UNTERMINATED,
    Message,
    decodeMessage,
    splitEnding,
)


class MessageReceiver(LineReceiver):
    """
    A L{LineReceiver} that also delivers unterminated messages.

    Subclasses implement L{messageReceived} and L{messageTooLong}, and set
    L{clock} (the reactor, or a L{twisted.internet.task.Clock} in tests),
    L{maxLength} and L{quietPeriod} before data arrives.

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
    _lost = False
    _overflowed = False

    def setLimits(self, maxLength: int, quietPeriod: float) -> None:
        """Set L{maxLength} and L{quietPeriod}; call before data arrives."""
        self.maxLength = maxLength
        self.quietPeriod = quietPeriod
        # LineReceiver's limit counts a \r before the \n: allow one.
        self.MAX_LENGTH = maxLength + 1

    def messageReceived(self, message: Message) -> None:
        """
        Called with each message, in order.

        May be called from L{connectionLost} (bytes the peer sent just before
        closing), when nothing can be written back any more.
        """
        raise NotImplementedError

    def messageTooLong(self, size: int) -> None:
        """
        Called once when the peer sends more than L{maxLength} bytes without a
        line ending; the rest of what it sent, and will send, is discarded.

        @param size: how many bytes had arrived (at least C{maxLength + 1}).
        """
        raise NotImplementedError

    def dataReceived(self, data: bytes) -> Any:
        if self._overflowed:
            return None
        why = super().dataReceived(data)
        if data.endswith(b"\n") or self._lost or self.transport.disconnecting:  # type: ignore[attr-defined]
            self._cancelQuiet()
        elif self.quietPeriod > 0:
            if self._quietCall is None:
                self._quietCall = self.clock.callLater(self.quietPeriod, self._quietExpired)
            else:
                self._quietCall.reset(self.quietPeriod)
        return why

    def lineReceived(self, line: bytes) -> None:
        content, ending = splitEnding(line)
        self._deliver(content, ending)

    def lineLengthExceeded(self, line: bytes) -> None:
        self._overflow(len(line))

    def flushUnterminated(self) -> None:
        """
        Deliver buffered bytes that have no line ending as one message.

        Called when the peer went quiet or finished sending.
        """
        self._cancelQuiet()
        pending = self.clearLineBuffer()
        if pending and not self._overflowed:
            content = pending[:-1] if pending.endswith(b"\r") else pending
            self._deliver(content, UNTERMINATED)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        self.flushUnterminated()

    def _deliver(self, content: bytes, ending: bytes) -> None:
        if len(content) > self.maxLength:
            self._overflow(len(content))
            return
        self.messageReceived(decodeMessage(content, ending))

    def _overflow(self, size: int) -> None:
        """Too long: say so once, and take nothing more from this peer."""
        self._overflowed = True
        self._cancelQuiet()
        self.clearLineBuffer()
        self.messageTooLong(size)

    def _quietExpired(self) -> None:
        self._quietCall = None
        self.flushUnterminated()

    def _cancelQuiet(self) -> None:
        if self._quietCall is not None:
            if self._quietCall.active():
                self._quietCall.cancel()
            self._quietCall = None
