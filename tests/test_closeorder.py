"""
Issue 16, item 10: the trace says only the order of FINs each side saw.

Each side of a normal exchange sends its FIN before it reads the other's
(the FINs cross), so neither may say it "closed first"; a client that
half-closes (C{shutdown(SHUT_WR)}, as docs/teaching.md's script does) sends
its FIN first, and the server's ladder must say so.  In memory: the traced
protocols on L{StringTransport} and a L{Clock}, the ladders' exact lines.
"""

from __future__ import annotations

from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from tests.test_i18n import portuguese
from tests.test_trace import CLIENT, SERVER, Traced, _Once, english
from twisted_names import i18n
from twisted_names.client import NameClientProtocol
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.trace.events import Role
from twisted_names.trace.wrapper import TracingFactory


@implementer(IHalfCloseableProtocol)
class HalfClosingClient(Protocol):
    """
    docs/teaching.md's script: send the name, C{shutdown(SHUT_WR)}, then
    read until the end of the stream.
    """

    def connectionMade(self) -> None:
        self.transport.write(b"Caio\r\n")  # type: ignore[union-attr]
        self.transport.loseWriteConnection()  # type: ignore[union-attr]

    def readConnectionLost(self) -> None:
        self.transport.loseConnection()  # type: ignore[union-attr]

    def writeConnectionLost(self) -> None:
        pass


class HalfCloseableTransport(StringTransport):
    """A L{StringTransport} that records a half-close, as TCP's does."""

    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True


def _tail(lines: list[str], count: int) -> list[str]:
    """The last C{count} lines without their C{#N  time ms} prefix."""
    return [line[17:] for line in lines[-count:]]


class HalfCloseLadderTests(SynchronousTestCase):
    """A client that half-closes before the reply: both sides' ladders."""

    def setUp(self) -> None:
        english(self)

    def test_serverSawTheClientsFinFirst(self) -> None:
        """
        The server reads the client's FIN while the client waits for the
        operator, then closes: its ladder says the client's FIN came first,
        never that the server closed first.
        """
        t = Traced(Role.SERVER)
        protocol, _transport = t.serve(ReplyQueue(t.clock, 300))
        protocol.dataReceived(b"Caio\r\n")
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 6),
            [
                '   line complete (CRLF): "Caio"',
                "   waiting for the operator to type a reply",
                "   the client finished sending (FIN): the server read the end of the stream",
                "   no reply: the client finished sending (FIN) while it waited;"
                " the server counts it as gone",
                "   the server closes the connection: a FIN follows the bytes still queued;"
                " the client will read the end of the stream",
                "   connection closed: the client's FIN arrived first, then the server closed",
            ],
        )
        self.assertNotIn("the server sent its FIN before", t.text())
        self.assertIn(
            "connection closed: the client's FIN arrived first,<br>then the server closed",
            t.file.getvalue(),
        )

    def test_clientSentItsFinFirst(self) -> None:
        """
        The same exchange on the client's side: it half-closed, then read the
        server's FIN, then closed: its ladder says its own FIN went first.
        """
        t = Traced(Role.CLIENT)
        client = HalfClosingClient()
        protocol = TracingFactory(_Once(client), t.tracer).buildProtocol(SERVER)
        transport = HalfCloseableTransport(hostAddress=CLIENT, peerAddress=SERVER)
        protocol.makeConnection(transport)
        self.assertTrue(transport.writeClosed)
        t.clock.advance(0.001)
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 4),
            [
                'client --> server  "Caio\\r\\n"  6 bytes  43 61 69 6f 0d 0a',
                "   the client closes its sending side (half-close, FIN) and keeps reading",
                "   the server finished sending (FIN): the client read the end of the stream",
                "   connection closed: the client closed its sending side (FIN) before"
                " reading a FIN from the server",
            ],
        )

    def test_portuguese(self) -> None:
        """Both observations, in Portuguese."""
        i18n.use(portuguese())
        t = Traced(Role.SERVER)
        protocol, _transport = t.serve(ReplyQueue(t.clock, 300))
        protocol.dataReceived(b"Caio\r\n")
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 1),
            ["   conexão fechada: o FIN do cliente chegou primeiro, depois o servidor fechou"],
        )


class NormalExchangeTests(SynchronousTestCase):
    """
    A normal exchange: each side sends its FIN before it reads the other's,
    and each ladder says exactly that, not "closed first".
    """

    def setUp(self) -> None:
        english(self)

    def test_serverSide(self) -> None:
        """The server replies and closes; the client's FIN is never read."""
        t = Traced(Role.SERVER)
        protocol, _transport = t.serve(FixedReply("Bob"))
        protocol.dataReceived(b"Ana\n")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 1),
            ["   connection closed: the server sent its FIN before reading one from the client"],
        )
        self.assertNotIn("closed it first", t.text())

    def test_serverSideReadsTheClientsFinAfterClosing(self) -> None:
        """
        The client's FIN read after the server closed (C{nc -N} against
        C{--name}): the server's FIN still went first, as seen here.
        """
        t = Traced(Role.SERVER)
        protocol, _transport = t.serve(FixedReply("Bob"))
        protocol.dataReceived(b"Ana\n")
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 1),
            ["   connection closed: the server sent its FIN before reading one from the client"],
        )

    def test_clientSide(self) -> None:
        """The client has the answer and closes before reading the server's FIN."""
        t = Traced(Role.CLIENT)
        client = NameClientProtocol(t.clock)
        protocol = TracingFactory(_Once(client), t.tracer).buildProtocol(SERVER)
        protocol.makeConnection(StringTransport(hostAddress=CLIENT, peerAddress=SERVER))
        answer = client.ask("Ana")
        protocol.dataReceived(b"Bob\n")
        self.assertEqual(self.successResultOf(answer), "Bob")
        client.transport.loseConnection()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 1),
            ["   connection closed: the client sent its FIN before reading one from the server"],
        )
        self.assertNotIn("closed it first", t.text())

    def test_clientReadsTheServersFinFirst(self) -> None:
        """The server closes with no answer: the client saw its FIN first."""
        t = Traced(Role.CLIENT)
        client = NameClientProtocol(t.clock)
        protocol = TracingFactory(_Once(client), t.tracer).buildProtocol(SERVER)
        protocol.makeConnection(StringTransport(hostAddress=CLIENT, peerAddress=SERVER))
        answer = client.ask("Ana")
        answer.addErrback(lambda _: client.transport.loseConnection())
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            _tail(t.lines, 1),
            [
                "   connection closed: the server's FIN arrived first; the client read"
                " the end of the stream"
            ],
        )
