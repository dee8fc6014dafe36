"""Tests for L{twisted_names.client}: the client protocol and L{exchangeNames}."""

from __future__ import annotations

from unittest import skipIf

from twisted.internet import defer, error
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from tests.skips import NO_TLS
from twisted_names.client import ChatEnd, NameClientProtocol, chat, exchangeNames, explain
from twisted_names.errors import (
    BadAnswer,
    CannotConnect,
    NoAnswer,
    NotTrusted,
    ServerDone,
    TimedOut,
    UsageProblem,
)
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory


def connected(maxLength: int = 1024) -> tuple[NameClientProtocol, StringTransport, Clock]:
    clock = Clock()
    protocol = NameClientProtocol(clock, maxLength=maxLength)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, clock


class ClientProtocolTests(SynchronousTestCase):
    def test_sendsLineGetsAnswer(self) -> None:
        protocol, transport, _ = connected()
        answer = protocol.ask("Ana")
        self.assertEqual(transport.value(), b"Ana\n")
        self.assertNoResult(answer)
        protocol.dataReceived(b"Bo")
        protocol.dataReceived(b"b\r\n")
        self.assertEqual(self.successResultOf(answer), "Bob")

    def test_unterminatedAnswerAfterQuiet(self) -> None:
        """A server like the course's Servidor.py: no line ending, no close."""
        protocol, _, clock = connected()
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"Bob")
        clock.advance(0.24)
        self.assertNoResult(answer)
        clock.advance(0.01)
        self.assertEqual(self.successResultOf(answer), "Bob")

    def test_unterminatedAnswerThenClose(self) -> None:
        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"Bob")
        protocol.connectionLost(Failure(error.ConnectionDone()))
        self.assertEqual(self.successResultOf(answer), "Bob")

    def test_closedWithoutAnswer(self) -> None:
        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        protocol.connectionLost(Failure(error.ConnectionDone()))
        failure = self.failureResultOf(answer, NoAnswer)
        self.assertEqual(str(failure.value), "the server closed the connection without answering")
        self.failureResultOf(protocol.ask("again"), NoAnswer)

    def test_resetWithoutAnswer(self) -> None:
        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        protocol.connectionLost(Failure(error.ConnectionLost("Connection reset by peer")))
        failure = self.failureResultOf(answer, NoAnswer)
        self.assertEqual(
            str(failure.value),
            "the connection to the server broke (reset or lost) before an answer",
        )

    def test_emptyAnswerMeansDone(self) -> None:
        """
        An empty (or blank) line is the server saying it is done
        (docs/protocol.md): no answer, the connection closed, later
        questions refused the same way.
        """
        for empty in [b"\n", b"  \r\n"]:
            protocol, transport, _ = connected()
            answer = protocol.ask("Ana")
            protocol.dataReceived(empty)
            failure = self.failureResultOf(answer, ServerDone)
            self.assertEqual(
                str(failure.value), "the server sent an empty line (it is done) instead of a name"
            )
            self.assertIsInstance(failure.value, NoAnswer)  # Exit status 5.
            self.assertTrue(transport.disconnecting)
            self.failureResultOf(protocol.ask("again"), ServerDone)

    def test_blankUnterminatedAnswerMeansDone(self) -> None:
        protocol, _, clock = connected()
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"   ")
        clock.advance(0.25)
        self.failureResultOf(answer, ServerDone)

    def test_refusalKept(self) -> None:
        """An L{ExchangeError} the connection was lost with (a TLS refusal) is the answer."""
        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        refusal = NotTrusted("cannot trust the server: its certificate is for x, not y")
        protocol.connectionLost(Failure(refusal))
        self.assertIs(self.failureResultOf(answer, NotTrusted).value, refusal)

    @skipIf(NO_TLS is not None, NO_TLS or "")
    def test_nameMismatchNotTrusted(self) -> None:
        """
        Twisted's own check refusing a certificate's names (a
        C{VerificationError}) is "not trusted", not a repr.
        """
        from service_identity import VerificationError
        from service_identity.exceptions import DNSMismatch
        from service_identity.hazmat import DNS_ID

        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        mismatch = VerificationError(errors=[DNSMismatch(mismatched_id=DNS_ID("localhost"))])
        protocol.connectionLost(Failure(mismatch))
        failure = self.failureResultOf(answer, NotTrusted)
        self.assertEqual(
            str(failure.value),
            "cannot trust the server: its certificate is not for the host asked for",
        )

    def test_answerTooLong(self) -> None:
        protocol, transport, _ = connected(maxLength=5)
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"abcdefgh")
        failure = self.failureResultOf(answer, BadAnswer)
        self.assertEqual(str(failure.value), "the server's answer is longer than 5 bytes")
        self.assertTrue(transport.disconnecting)

    @skipIf(NO_TLS is not None, NO_TLS or "")
    def test_certificateProblem(self) -> None:
        from OpenSSL.SSL import Error as SSLError

        protocol, _, _ = connected()
        answer = protocol.ask("Ana")
        reason = SSLError([("SSL routines", "", "certificate verify failed")])
        protocol.connectionLost(Failure(reason))
        failure = self.failureResultOf(answer, NotTrusted)
        self.assertIn("certificate verify failed", str(failure.value))

    def test_answersInOrder(self) -> None:
        protocol, _, _ = connected()
        first, second = protocol.ask("one"), protocol.ask("two")
        protocol.dataReceived(b"1\n2\n")
        self.assertEqual(self.successResultOf(first), "1")
        self.assertEqual(self.successResultOf(second), "2")

    def test_unaskedAnswerDropped(self) -> None:
        protocol, _, _ = connected()
        protocol.dataReceived(b"hello\n")
        answer = protocol.ask("Ana")
        self.assertNoResult(answer)

    def test_cancelAborts(self) -> None:
        protocol, transport, _ = connected()
        answer = protocol.ask("Ana")
        answer.cancel()
        self.failureResultOf(answer, defer.CancelledError)
        self.assertTrue(transport.disconnecting)

    def test_whenClosed(self) -> None:
        protocol, _, _ = connected()
        closed = protocol.whenClosed()
        self.assertNoResult(closed)
        protocol.connectionLost(Failure(error.ConnectionDone()))
        self.successResultOf(closed)
        self.successResultOf(protocol.whenClosed())


class ExplainTests(SynchronousTestCase):
    def explained(self, exception: Exception) -> BaseException:
        return explain(Failure(exception), "127.0.0.1:5000", 10)

    def test_mapping(self) -> None:
        cases = [
            (error.ConnectionRefusedError(), CannotConnect, "connection refused"),
            (error.DNSLookupError("nohost"), CannotConnect, "unknown host"),
            (error.NoRouteError(), CannotConnect, "cannot connect to 127.0.0.1:5000"),
            (defer.TimeoutError(), TimedOut, "within 10 s"),
            (error.ConnectionLost(), NoAnswer, "without answering"),
        ]
        for exception, kind, text in cases:
            result = self.explained(exception)
            self.assertIsInstance(result, kind)
            self.assertIn(text, str(result))

    def test_cancellationPassesThrough(self) -> None:
        """Cancelled (Ctrl-C), also while connecting: not an error to explain."""
        cancelled = defer.CancelledError()
        self.assertIs(self.explained(cancelled), cancelled)
        connecting = error.ConnectingCancelledError(None)
        self.assertIs(self.explained(connecting), connecting)


class ExchangeNamesTests(TestCase):
    """L{exchangeNames} against a real server on 127.0.0.1 (port 0)."""

    async def serve(self, reply: str = "Bob") -> int:
        from twisted.internet import reactor

        factory = NameServerFactory(FixedReply(reply), reactor)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return int(port.getHost().port)

    async def test_exchange(self) -> None:
        from twisted.internet import reactor

        portNumber = await self.serve("Bob")
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", portNumber)
        self.assertEqual(await exchangeNames(endpoint, "Ana", reactor, timeout=10), "Bob")

    async def test_refused(self) -> None:
        from twisted.internet import reactor

        portNumber = await self.serve()
        await self.flushPort(portNumber)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", portNumber)
        with self.assertRaises(CannotConnect):
            await exchangeNames(endpoint, "Ana", reactor, where="x")

    async def flushPort(self, portNumber: int) -> None:
        for cleanup in self._cleanups[:]:
            self._cleanups.remove(cleanup)
            await defer.maybeDeferred(cleanup[0])

    def test_badNameNotSent(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", 5000)
        failure = self.failureResultOf(exchangeNames(endpoint, "", reactor), UsageProblem)
        self.assertEqual(str(failure.value), "cannot send the name: the name is empty")
        self.assertEqual(reactor.tcpClients, [])

    def test_timeout(self) -> None:
        """Nothing answers: the exchange fails after the timeout, on the given clock."""
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", 5000)
        result = exchangeNames(endpoint, "Ana", reactor, timeout=5, where="srv")
        reactor.advance(4.9)
        self.assertNoResult(result)
        reactor.advance(0.1)
        failure = self.failureResultOf(result, TimedOut)
        self.assertEqual(str(failure.value), "no answer from srv within 5 s")

    def test_timeoutWhileWaitingForAnswer(self) -> None:
        """Connected, but the operator never answers: timed out, connection dropped."""
        from twisted.internet.address import IPv4Address

        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", 5000)
        result = exchangeNames(endpoint, "Ana", reactor, timeout=5)
        factory = reactor.tcpClients[0][2]
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
        assert protocol is not None
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), b"Ana\n")
        reactor.advance(5)
        self.failureResultOf(result, TimedOut)
        self.assertTrue(transport.disconnecting)

    async def test_againstOperatorQueue(self) -> None:
        """Two clients through a real socket, answered in order by the queue."""
        from twisted.internet import reactor

        queue = ReplyQueue(reactor)
        factory = NameServerFactory(queue, reactor)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        first = exchangeNames(endpoint, "Ana", reactor, timeout=10)
        waited: defer.Deferred[None] = defer.Deferred()

        def check() -> None:
            if len(queue) == 1:
                waited.callback(None)
            else:
                reactor.callLater(0.01, check)

        check()
        await waited
        second = exchangeNames(endpoint, "Bea", reactor, timeout=10)
        queue.answer("one")
        self.assertEqual(await first, "one")
        queue.answer("two")
        self.assertEqual(await second, "two")


@implementer(IStreamClientEndpoint)
class ConnectedEndpoint:
    """An endpoint that connects at once, to a L{StringTransport}."""

    def __init__(self) -> None:
        self.transport = StringTransport()
        self.protocol: NameClientProtocol | None = None

    def connect(self, factory: IProtocolFactory) -> defer.Deferred[IProtocol]:
        protocol = factory.buildProtocol(None)  # type: ignore[arg-type]
        assert isinstance(protocol, NameClientProtocol)
        protocol.makeConnection(self.transport)
        self.protocol = protocol
        return defer.succeed(protocol)

    def answer(self, data: bytes) -> None:
        assert self.protocol is not None
        self.protocol.dataReceived(data)

    def close(self) -> None:
        assert self.protocol is not None
        self.protocol.connectionLost(Failure(error.ConnectionDone()))

    def sent(self) -> bytes:
        value: bytes = self.transport.value()
        self.transport.clear()
        return value


class RecordingView:
    """A L{twisted_names.client.ChatView} that records what it is told."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def connected(self) -> None:
        self.shown.append("connected")

    def answered(self, answer: str) -> None:
        self.shown.append(f"answer {answer}")

    def notSent(self, why: str) -> None:
        self.shown.append(f"not sent: {why}")


class ChatTests(SynchronousTestCase):
    """L{chat}, the turns of a conversation, without a reactor."""

    def start(
        self, first: str | None = None, timeout: float | None = None
    ) -> tuple[
        defer.Deferred[ChatEnd], ConnectedEndpoint, defer.DeferredQueue[str | None], RecordingView
    ]:
        endpoint = ConnectedEndpoint()
        lines: defer.DeferredQueue[str | None] = defer.DeferredQueue()
        view = RecordingView()
        self.clock = Clock()
        ended = chat(
            endpoint, lines.get, self.clock, view, first=first, timeout=timeout, where="srv"
        )
        return ended, endpoint, lines, view

    def test_turnAfterTurnUntilEmptyLine(self) -> None:
        ended, endpoint, lines, view = self.start()
        lines.put("one")
        self.assertEqual(endpoint.sent(), b"one\n")
        endpoint.answer(b"Bob\n")
        lines.put(" two ")
        self.assertEqual(endpoint.sent(), b"two\n")
        endpoint.answer(b"Bea\n")
        self.assertNoResult(ended)
        lines.put("")
        self.assertIs(self.successResultOf(ended), ChatEnd.BY_YOU)
        self.assertEqual(view.shown, ["connected", "answer Bob", "answer Bea"])
        self.assertTrue(endpoint.transport.disconnecting)

    def test_endOfInput(self) -> None:
        ended, endpoint, lines, _ = self.start(first="one")
        self.assertEqual(endpoint.sent(), b"one\n")
        endpoint.answer(b"Bob\n")
        lines.put(None)
        self.assertIs(self.successResultOf(ended), ChatEnd.BY_YOU)

    def test_lineNotSent(self) -> None:
        """A line that is not a name is reported, not sent; the chat goes on."""
        ended, endpoint, lines, view = self.start()
        lines.put("bad\x1b[2J")
        self.assertEqual(endpoint.sent(), b"")
        self.assertEqual(view.shown[-1], 'not sent: the name holds control characters ("\\x1b")')
        lines.put("good")
        self.assertEqual(endpoint.sent(), b"good\n")
        self.assertNoResult(ended)

    def test_serverEndsBetweenTurns(self) -> None:
        """The server closing while the person types ends the chat, no error."""
        ended, endpoint, lines, _ = self.start(first="one")
        endpoint.answer(b"Bob\n")
        self.assertEqual(len(lines.waiting), 1)
        endpoint.close()
        self.assertIs(self.successResultOf(ended), ChatEnd.BY_SERVER)
        self.assertEqual(lines.waiting, [])  # The wait for a line was cancelled.

    def test_emptyAnswerEndsChat(self) -> None:
        """An empty line from the server is the server ending the conversation."""
        ended, endpoint, lines, view = self.start(first="one")
        endpoint.answer(b"Bob\n")
        lines.put("two")
        self.assertNoResult(ended)
        endpoint.answer(b"\n")
        self.assertIs(self.successResultOf(ended), ChatEnd.BY_SERVER)
        self.assertEqual(view.shown, ["connected", "answer Bob"])
        self.assertTrue(endpoint.transport.disconnecting)

    def test_closedWithQuestionOpen(self) -> None:
        """A one-shot server: one answer, then closed while the second waits."""
        ended, endpoint, lines, _ = self.start(first="one")
        endpoint.answer(b"Bob\n")
        lines.put("two")
        endpoint.close()
        failure = self.failureResultOf(ended, NoAnswer)
        self.assertEqual(
            str(failure.value),
            "srv closed the connection after 1 answer (is the server running with --chat?)",
        )

    def test_closedBeforeFirstAnswer(self) -> None:
        ended, endpoint, _, _ = self.start(first="one")
        endpoint.close()
        failure = self.failureResultOf(ended, NoAnswer)
        self.assertEqual(str(failure.value), "the server closed the connection without answering")

    def test_timeoutForEachAnswer(self) -> None:
        ended, endpoint, lines, _ = self.start(first="one", timeout=5)
        self.clock.advance(4)
        endpoint.answer(b"Bob\n")
        self.clock.advance(100)  # Typing takes as long as it takes.
        lines.put("two")
        self.clock.advance(4.9)
        self.assertNoResult(ended)
        self.clock.advance(0.1)
        failure = self.failureResultOf(ended, TimedOut)
        self.assertEqual(str(failure.value), "no answer from srv within 5 s")
        self.assertTrue(endpoint.transport.disconnecting)

    def test_cancelWhileTyping(self) -> None:
        """
        Ctrl-C at the prompt: a plain L{defer.CancelledError} (it was a
        C{FailureGroup}, which the command line showed as a traceback), the
        connection dropped, the wait for a line given up.
        """
        ended, endpoint, lines, _ = self.start()
        ended.cancel()
        self.failureResultOf(ended, defer.CancelledError)
        self.assertEqual(lines.waiting, [])
        self.assertTrue(endpoint.transport.disconnecting)

    def test_cancelWhileWaitingForAnswer(self) -> None:
        ended, endpoint, _, _ = self.start(first="one")
        ended.cancel()
        self.failureResultOf(ended, defer.CancelledError)
        self.assertTrue(endpoint.transport.disconnecting)

    def test_cannotConnect(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", 5000)
        lines: defer.DeferredQueue[str | None] = defer.DeferredQueue()
        ended = chat(endpoint, lines.get, reactor, RecordingView(), where="srv")
        connector = reactor.connectors[0]
        reactor.tcpClients[0][2].clientConnectionFailed(
            connector, Failure(error.ConnectionRefusedError())
        )
        failure = self.failureResultOf(ended, CannotConnect)
        self.assertIn("cannot connect to srv: connection refused", str(failure.value))

    def test_connectTimeout(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", 5000)
        lines: defer.DeferredQueue[str | None] = defer.DeferredQueue()
        ended = chat(endpoint, lines.get, reactor, RecordingView(), timeout=3, where="srv")
        reactor.advance(3)
        self.failureResultOf(ended, TimedOut)
