"""Tests for L{twisted_names.framing}: lines, unterminated messages, limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.framing import Decision, FramingNote, MessageReceiver
from twisted_names.wire import CRLF, LF, UNTERMINATED, Message


class Recorder(MessageReceiver):
    """Records what the framing delivers; closes on a too-long line, as both sides do."""

    def __init__(self, maxLength: int = 16, quietPeriod: float = 0.25) -> None:
        self.clock = self.fakeClock = Clock()
        self.setLimits(maxLength, quietPeriod)
        self.outcomes: list[object] = []
        self.stringTransport = StringTransport()
        self.makeConnection(self.stringTransport)

    def messageReceived(self, message: Message) -> None:
        self.outcomes.append(message)

    def messageTooLong(self, size: int) -> None:
        self.outcomes.append("too long")
        self.transport.loseConnection()


class FramingTests(SynchronousTestCase):
    def test_lfAndCrlf(self) -> None:
        r = Recorder()
        r.dataReceived(b"a\nb\r\n")
        self.assertEqual(r.outcomes, [Message("a", LF, 1), Message("b", CRLF, 1)])

    def test_unterminatedAfterQuiet(self) -> None:
        r = Recorder()
        r.dataReceived(b"abc")
        r.fakeClock.advance(0.24)
        self.assertEqual(r.outcomes, [])
        r.fakeClock.advance(0.01)
        self.assertEqual(r.outcomes, [Message("abc", UNTERMINATED, 3)])

    def test_quietTimerRestartsOnData(self) -> None:
        r = Recorder()
        r.dataReceived(b"a")
        r.fakeClock.advance(0.2)
        r.dataReceived(b"b")
        r.fakeClock.advance(0.2)
        self.assertEqual(r.outcomes, [])
        r.fakeClock.advance(0.05)
        self.assertEqual(r.outcomes, [Message("ab", UNTERMINATED, 2)])

    def test_lineCompletedBeforeQuietCancelsTimer(self) -> None:
        r = Recorder()
        r.dataReceived(b"ab")
        r.dataReceived(b"c\n")
        self.assertEqual(r.fakeClock.getDelayedCalls(), [])
        r.fakeClock.advance(1)
        self.assertEqual(r.outcomes, [Message("abc", LF, 3)])

    def test_quietPeriodZeroWaitsForClose(self) -> None:
        r = Recorder(quietPeriod=0)
        r.dataReceived(b"abc")
        r.fakeClock.advance(100)
        self.assertEqual(r.outcomes, [])
        r.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(r.outcomes, [Message("abc", UNTERMINATED, 3)])

    def test_trailingCrDroppedFromUnterminated(self) -> None:
        r = Recorder()
        r.dataReceived(b"abc\r")
        r.fakeClock.advance(0.25)
        self.assertEqual(r.outcomes, [Message("abc", UNTERMINATED, 3)])

    def test_limitCountsBytesNotCharacters(self) -> None:
        r = Recorder(maxLength=4)
        r.dataReceived("éé\n".encode())
        r.dataReceived("ééé\n".encode())
        self.assertEqual(r.outcomes, [Message("éé", LF, 4), "too long"])

    def test_invalidUtf8(self) -> None:
        r = Recorder()
        r.dataReceived(b"\xff\xfeok\n")
        self.assertEqual(r.outcomes, [Message("\ufffd\ufffdok", LF, 4, replaced=True)])


def feed(data: bytes, cuts: list[int], quietPeriod: float) -> list[object]:
    """Feed C{data} cut at C{cuts}, then close; return what was delivered."""
    r = Recorder(maxLength=8, quietPeriod=quietPeriod)
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        if cut > start and not r.stringTransport.disconnecting:
            r.dataReceived(data[start:cut])
            start = cut
    r.connectionLost(Failure(ConnectionDone()))
    return r.outcomes


class ChunkingProperties(SynchronousTestCase):
    @settings(max_examples=400, deadline=None)
    @given(
        data=st.lists(
            st.one_of(
                st.sampled_from([b"\n", b"\r\n", b"\r", b"\xff", "é".encode()]),
                st.binary(max_size=12),
            ),
            max_size=8,
        ).map(b"".join),
        cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=12),
    )
    def test_everyChunkingSameMessages(self, data: bytes, cuts: list[int]) -> None:
        """
        However the bytes are cut into chunks (with no pause between them),
        the same messages, and the same too-long outcome, come out; and
        nothing raises.
        """
        whole = feed(data, [], quietPeriod=0.25)
        self.assertEqual(feed(data, [c for c in cuts if c < len(data)], 0.25), whole)
        for outcome in whole:
            if isinstance(outcome, Message):
                self.assertLessEqual(outcome.size, 8)
                self.assertNotIn("\n", outcome.text)


class StopAndCloseTests(SynchronousTestCase):
    def test_linesBufferedAtCloseAreLines(self) -> None:
        """
        Lines still buffered when the connection closes (reading was paused)
        come out as the lines they are, not as one unterminated message
        holding line endings.
        """
        r = Recorder(maxLength=10)
        r.pauseProducing()
        r.dataReceived(b"Ana\nsecond line\nthird\nrest")
        self.assertEqual(r.outcomes, [])
        r.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            r.outcomes,
            [Message("Ana", LF, 3), "too long"],
        )

    def test_stopMessagesDropsTheRest(self) -> None:
        """After stopMessages, nothing is parsed or delivered, at close neither."""
        ignored: list[bytes] = []

        class Stopper(Recorder):
            def messageReceived(self, message: Message) -> None:
                super().messageReceived(message)
                self.stopMessages()

            def ignoredDataReceived(self, data: bytes) -> None:
                ignored.append(data)

        r = Stopper()
        r.dataReceived(b"Ana\nmore\nmore")
        r.dataReceived(b"x\n" * 1000)
        r.fakeClock.advance(1)
        r.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(r.outcomes, [Message("Ana", LF, 3)])
        self.assertEqual(b"".join(ignored), b"more\nmore" + b"x\n" * 1000)
        self.assertEqual(r.fakeClock.getDelayedCalls(), [])

    def test_noQuietFlushWhilePaused(self) -> None:
        """Paused, buffered bytes wait: the quiet period does not deliver them."""
        r = Recorder()
        r.pauseProducing()
        r.dataReceived(b"Ana\nBea")
        r.fakeClock.advance(1)
        self.assertEqual(r.outcomes, [])
        r.resumeProducing()
        self.assertEqual(r.outcomes, [Message("Ana", LF, 3)])
        r.fakeClock.advance(0.25)
        self.assertEqual(r.outcomes, [Message("Ana", LF, 3), Message("Bea", UNTERMINATED, 3)])


class FramingObserverTests(SynchronousTestCase):
    """The decisions told to L{MessageReceiver.framingObserver}, for the trace."""

    def observed(self, r: Recorder) -> list[FramingNote]:
        notes: list[FramingNote] = []
        r.framingObserver = notes.append
        return notes

    def test_lines(self) -> None:
        r = Recorder()
        notes = self.observed(r)
        r.dataReceived(b"a\nb\r\n")
        self.assertEqual(
            notes,
            [
                FramingNote(Decision.LINE, 1, LF, Message("a", LF, 1)),
                FramingNote(Decision.LINE, 1, CRLF, Message("b", CRLF, 1)),
            ],
        )

    def test_quiet(self) -> None:
        r = Recorder()
        notes = self.observed(r)
        r.dataReceived(b"An")
        r.dataReceived(b"a")
        r.fakeClock.advance(0.25)
        self.assertEqual(
            notes,
            [
                FramingNote(Decision.WAITING_FOR_QUIET, 2, limit=0.25),
                FramingNote(Decision.WAITING_FOR_QUIET, 3, limit=0.25),
                FramingNote(
                    Decision.QUIET, 3, UNTERMINATED, Message("Ana", UNTERMINATED, 3), 0.25
                ),
            ],
        )

    def test_peerFinished(self) -> None:
        r = Recorder(quietPeriod=0)
        notes = self.observed(r)
        r.dataReceived(b"Ana")
        r.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            notes,
            [
                FramingNote(
                    Decision.PEER_FINISHED, 3, UNTERMINATED, Message("Ana", UNTERMINATED, 3)
                )
            ],
        )

    def test_tooLongThenIgnored(self) -> None:
        r = Recorder(maxLength=4)
        notes = self.observed(r)
        r.dataReceived(b"abcdefgh")
        r.dataReceived(b"more")
        self.assertEqual(
            notes,
            [FramingNote(Decision.TOO_LONG, 8, limit=4), FramingNote(Decision.IGNORED, 4)],
        )

    def test_stoppedWithBytesBuffered(self) -> None:
        r = Recorder()
        notes = self.observed(r)
        r.dataReceived(b"ab")
        r.stopMessages()
        self.assertEqual(notes[-1], FramingNote(Decision.IGNORED, 2))

    def test_noObserver(self) -> None:
        """Without an observer the framing works as before."""
        r = Recorder()
        self.assertIsNone(r.framingObserver)
        r.dataReceived(b"abc")
        r.fakeClock.advance(0.25)
        self.assertEqual(r.outcomes, [Message("abc", UNTERMINATED, 3)])
