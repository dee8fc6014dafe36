"""Tests for L{twisted_names.client}: the client protocol and L{exchangeNames}."""

from __future__ import annotations

from twisted.internet import defer, error
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase

from twisted_names.client import NameClientProtocol, exchangeNames, explain
from twisted_names.errors import (
    BadAnswer,
    CannotConnect,
    NoAnswer,
    NotTrusted,
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
        self.assertIn("the connection was lost before an answer", str(failure.value))

    def test_answerTooLong(self) -> None:
        protocol, transport, _ = connected(maxLength=5)
        answer = protocol.ask("Ana")
        protocol.dataReceived(b"abcdefgh")
        failure = self.failureResultOf(answer, BadAnswer)
        self.assertEqual(str(failure.value), "the server's answer is longer than 5 bytes")
        self.assertTrue(transport.disconnecting)

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
