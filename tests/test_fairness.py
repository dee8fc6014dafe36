"""
Issue 16, item 1: one connection's work per reactor turn is bounded.

A chat client sending a whole read's worth of 2-byte lines had every line
answered in one C{dataReceived} call (L{LineReceiver} delivers its whole
buffer), holding the reactor for most of a second.  Now at most
L{MESSAGES_PER_TURN} are delivered a turn; the rest wait, the transport is
paused (the kernel's buffers push back on the peer), and delivery goes on at
the next turn.  In memory, on a L{Clock}: each C{advance(0)} is a reactor
turn.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.test_trace import CLIENT, Traced, english
from twisted_names.framing import MESSAGES_PER_TURN
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory, NameServerProtocol, ServerSettings
from twisted_names.trace.events import Role

LINES = 1000


class Turns(Clock):
    """
    A L{Clock} whose L{turn} runs the calls due when it begins, as one
    reactor iteration does; C{advance(0)} would also run the zero-delay
    calls those make, which a reactor leaves to its next iteration.
    """

    def turn(self) -> None:
        due = [call for call in self.calls if call.getTime() <= self.seconds()]
        for call in due:
            if call in self.calls:  # Not cancelled by an earlier one.
                self.calls.remove(call)
                call.called = 1
                call.func(*call.args, **call.kw)


def chatServer(clock: Turns, port: int = 50000) -> tuple[NameServerProtocol, StringTransport]:
    """A C{--chat --name X} server's protocol for one client, on a StringTransport."""
    factory = NameServerFactory(FixedReply("X"), clock, ServerSettings(chat=True))
    address = IPv4Address("TCP", "127.0.0.1", port)
    protocol = factory.buildProtocol(address)
    assert isinstance(protocol, NameServerProtocol)
    transport = StringTransport(peerAddress=address)
    protocol.makeConnection(transport)
    return protocol, transport


def replies(transport: StringTransport) -> int:
    return int(transport.value().count(b"X\n"))


class BoundedTurnTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Turns()

    def test_hugeBufferInBoundedTurns(self) -> None:
        """
        1000 lines in one C{dataReceived}: answered MESSAGES_PER_TURN a
        turn, with reading paused until the buffer holds no whole line.
        """
        protocol, transport = chatServer(self.clock)
        protocol.dataReceived(b"x\n" * LINES)
        perTurn = [replies(transport)]
        self.assertEqual(transport.producerState, "paused")
        while self.clock.getDelayedCalls() and sum(perTurn) < LINES:
            before = replies(transport)
            self.clock.turn()
            perTurn.append(replies(transport) - before)
        self.assertEqual(sum(perTurn), LINES)
        self.assertEqual(max(perTurn), MESSAGES_PER_TURN)
        self.assertEqual(len(perTurn), -(-LINES // MESSAGES_PER_TURN))
        self.assertEqual(transport.producerState, "producing")
        self.assertFalse(transport.disconnecting)

    def test_othersAnsweredBetweenTurns(self) -> None:
        """
        While the flood waits for its next turn, another client's line is
        answered at once: the flood's work between two of its turns is one
        share.
        """
        flood, floodTransport = chatServer(self.clock)
        other, otherTransport = chatServer(self.clock, port=50001)
        flood.dataReceived(b"x\n" * LINES)
        self.assertEqual(replies(floodTransport), MESSAGES_PER_TURN)
        other.dataReceived(b"Ana\n")
        self.assertEqual(otherTransport.value(), b"X\n")
        self.assertEqual(replies(floodTransport), MESSAGES_PER_TURN)
        self.clock.turn()
        self.assertEqual(replies(floodTransport), 2 * MESSAGES_PER_TURN)

    def test_fewLinesNoPause(self) -> None:
        """A client within its share is neither paused nor deferred."""
        protocol, transport = chatServer(self.clock)
        protocol.dataReceived(b"x\n" * (MESSAGES_PER_TURN - 1))
        self.assertEqual(replies(transport), MESSAGES_PER_TURN - 1)
        self.assertEqual(transport.producerState, "producing")
        self.assertEqual(self.clock.getDelayedCalls()[1:], [])  # Only the name timeout.

    def test_eachReadIsANewTurn(self) -> None:
        """The share counts per turn, not per connection: reads of a few lines never wait."""
        protocol, transport = chatServer(self.clock)
        for _ in range(5):
            protocol.dataReceived(b"x\n" * (MESSAGES_PER_TURN - 1))
        self.assertEqual(replies(transport), 5 * (MESSAGES_PER_TURN - 1))
        self.assertEqual(transport.producerState, "producing")

    def test_consumerPausedMeanwhile(self) -> None:
        """
        The transport's buffer fills while the flood waits for its turn: the
        turn delivers nothing; the consumer's resume goes on.
        """
        protocol, transport = chatServer(self.clock)
        protocol.dataReceived(b"x\n" * LINES)
        protocol.pauseProducing()  # What a full transport does.
        self.clock.turn()
        self.assertEqual(replies(transport), MESSAGES_PER_TURN)
        self.assertEqual(transport.producerState, "paused")
        protocol.resumeProducing()
        self.assertEqual(replies(transport), 2 * MESSAGES_PER_TURN)

    def test_consumerResumedBeforeTheTurn(self) -> None:
        """A resume from the consumer while waiting does not jump the turn."""
        protocol, transport = chatServer(self.clock)
        protocol.dataReceived(b"x\n" * LINES)
        protocol.pauseProducing()
        protocol.resumeProducing()
        self.assertEqual(replies(transport), MESSAGES_PER_TURN)
        self.clock.turn()
        self.assertEqual(replies(transport), 2 * MESSAGES_PER_TURN)

    def test_lostWhileWaiting(self) -> None:
        """The connection lost while waiting for its turn: nothing more, no timer left."""
        protocol, transport = chatServer(self.clock)
        protocol.dataReceived(b"x\n" * LINES)
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(replies(transport), MESSAGES_PER_TURN)


class TracedTurnTests(SynchronousTestCase):
    """With C{--trace}: the trace's work per turn is bounded the same way."""

    def setUp(self) -> None:
        english(self)

    def test_traceBounded(self) -> None:
        t = Traced(Role.SERVER)
        t.clock = clock = Turns()
        protocol, transport = t.serve(FixedReply("X"), peer=CLIENT, chat=True)
        protocol.dataReceived(b"x\n" * LINES)
        first = len(t.lines)
        self.assertEqual(transport.producerState, "paused")
        self.assertEqual(transport.value(), b"X\n" * MESSAGES_PER_TURN)
        clock.turn()
        self.assertEqual(transport.value(), b"X\n" * 2 * MESSAGES_PER_TURN)
        self.assertEqual(len(t.lines) - first, first - 2)  # The same lines a turn.
