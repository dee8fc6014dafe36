"""
Lines the server sends that nobody asked for (issue 16, item 11): a few are
dropped; more, or one too long, break the protocol (exit status 6), in chat
mode between turns too, where it used to pass for the server ending the
conversation (exit status 0).  In memory: L{StringTransport}.
"""

from __future__ import annotations

from twisted.internet import error
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.test_client import ConnectedEndpoint, RecordingView, connected
from twisted_names.client import UNASKED_MAX, ChatEnd, chat
from twisted_names.errors import BadAnswer


class UnaskedLineTests(SynchronousTestCase):
    def test_aFewDropped(self) -> None:
        """Up to L{UNASKED_MAX} lines nobody asked for are dropped; the next question works."""
        protocol, transport, _ = connected()
        protocol.dataReceived(b"stray\n" * UNASKED_MAX)
        self.assertFalse(transport.disconnecting)
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"Bob\n")
        self.assertEqual(self.successResultOf(answer), "Bob")

    def test_floodBreaksTheProtocol(self) -> None:
        """
        One more is a breach: the connection is dropped, the rest of the
        buffer is not read (one read of a flood held thousands of lines).
        """
        protocol, transport, _ = connected()
        delivered: list[str] = []
        protocol.framingObserver = lambda note: delivered.append(note.decision.name)
        protocol.dataReceived(b"x\n" * 10_000)
        self.assertTrue(transport.disconnecting)
        self.assertIsInstance(protocol.closeReason, BadAnswer)
        self.assertEqual(
            str(protocol.closeReason),
            f"the server sent more than {UNASKED_MAX} lines nobody asked for",
        )
        self.assertEqual(delivered.count("LINE"), UNASKED_MAX + 1)
        answer = protocol.ask("Ana")
        self.failureResultOf(answer, BadAnswer)

    def test_answersAreNotUnasked(self) -> None:
        """Lines that answer questions never count."""
        protocol, transport, _ = connected()
        for i in range(3 * UNASKED_MAX):
            answer = protocol.ask(f"q{i}")
            protocol.dataReceived(b"a\n")
            self.assertEqual(self.successResultOf(answer), "a")
        self.assertFalse(transport.disconnecting)

    def test_tooLongUnasked(self) -> None:
        """An over-long line while no question is open: a breach, said as such."""
        protocol, transport, _ = connected(maxLength=5)
        protocol.dataReceived(b"abcdefgh")
        self.assertTrue(transport.disconnecting)
        self.assertIsInstance(protocol.closeReason, BadAnswer)
        self.assertEqual(
            str(protocol.closeReason), "the server sent a line longer than 5 bytes, unasked"
        )


class ChatUnaskedTests(SynchronousTestCase):
    """L{twisted_names.client.chat} between turns."""

    def start(
        self, first: str | None = None
    ) -> tuple[Deferred[ChatEnd], ConnectedEndpoint, DeferredQueue[str | None], RecordingView]:
        endpoint = ConnectedEndpoint()
        lines: DeferredQueue[str | None] = DeferredQueue()
        view = RecordingView()
        ended = chat(endpoint, lines.get, Clock(), view, first=first, where="srv")
        return ended, endpoint, lines, view

    def test_tooLongBetweenTurnsIsBadAnswer(self) -> None:
        """It ended the chat as the server's close (exit 0): now a L{BadAnswer} (exit 6)."""
        ended, endpoint, lines, _ = self.start(first="one")
        endpoint.answer(b"Bob\n")
        endpoint.answer(b"x" * 2000)
        endpoint.close()
        failure = self.failureResultOf(ended, BadAnswer)
        self.assertEqual(
            str(failure.value), "the server sent a line longer than 1024 bytes, unasked"
        )
        self.assertEqual(lines.waiting, [])

    def test_floodBetweenTurnsIsBadAnswer(self) -> None:
        ended, endpoint, _, view = self.start(first="one")
        endpoint.answer(b"Bob\n" + b"spam\n" * 1000)
        self.assertTrue(endpoint.transport.disconnecting)
        assert endpoint.protocol is not None
        endpoint.protocol.connectionLost(Failure(error.ConnectionLost()))
        self.failureResultOf(ended, BadAnswer)
        self.assertEqual(view.shown, ["connected", "answer Bob"])

    def test_serverClosingStillEndsIt(self) -> None:
        """A plain close between turns is still the server ending the chat."""
        ended, endpoint, _, _ = self.start(first="one")
        endpoint.answer(b"Bob\nstray\n")
        endpoint.close()
        self.assertIs(self.successResultOf(ended), ChatEnd.BY_SERVER)
