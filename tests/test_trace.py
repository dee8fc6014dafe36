"""
Tests for the trace (issue 10): L{twisted_names.trace.wrapper} watching real
protocols over L{StringTransport} and a L{Clock}, the live ladder
(L{twisted_names.trace.ladder}) and the Mermaid file
(L{twisted_names.trace.mermaid}).
"""

from __future__ import annotations

import errno
import gettext
import io
import os
import re
import time
from collections.abc import Callable
from unittest import skipIf

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from tests.diagrams import keep
from tests.skips import NO_TLS
from tests.test_i18n import portuguese
from twisted_names import i18n
from twisted_names.client import NameClientProtocol
from twisted_names.display import isUnsafe
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings
from twisted_names.trace import ladder as traceview
from twisted_names.trace.events import Chunk, Family, Role
from twisted_names.trace.file import CANNOT_WRITE, TraceFile
from twisted_names.trace.ladder import Ladder, chunkText, useColour
from twisted_names.trace.mermaid import LINE_WIDTH, Diagram, mermaidSafe, mermaidText
from twisted_names.trace.wrapper import (
    LiveTrace,
    TracedReplies,
    Tracer,
    TracingClientEndpoint,
    TracingFactory,
    TracingProtocol,
)

SERVER = IPv4Address("TCP", "127.0.0.1", 5000)
CLIENT = IPv4Address("TCP", "127.0.0.1", 50432)


class KeptOpen(io.StringIO):
    """A trace file whose text can be read after it is closed."""

    def close(self) -> None:
        self.closedByTrace = True


class FullDisk(io.StringIO):
    """A trace file on a full disk: every write fails."""

    name = "/full/trace.md"
    tries = 0

    def write(self, text: str) -> int:
        self.tries += 1
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class Traced:
    """A server, or a client protocol, traced live and to a file, on a Clock."""

    def __init__(self, role: Role, maxSize: int = 10**6, maxArrows: int | None = None) -> None:
        self.clock = Clock()
        self.lines: list[str] = []
        self.file = KeptOpen()
        self.traceFile = TraceFile(role, self.file, maxSize, maxArrows)
        self.tracer = Tracer(
            role, self.clock, [LiveTrace(Ladder(role), self.lines.append), self.traceFile]
        )

    def serve(
        self,
        replies: ReplySource,
        peer: object = CLIENT,
        host: object = SERVER,
        **settings: object,
    ) -> tuple[TracingProtocol, StringTransport]:
        factory = NameServerFactory(
            TracedReplies(replies, self.tracer),
            self.clock,
            ServerSettings(**settings),  # type: ignore[arg-type]
        )
        wrapping = TracingFactory(factory, self.tracer)
        protocol = wrapping.buildProtocol(peer)  # type: ignore[arg-type]
        transport = StringTransport(hostAddress=host, peerAddress=peer)
        protocol.makeConnection(transport)
        return protocol, transport

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def english(testCase: SynchronousTestCase) -> None:
    """English, and the time of day in UTC (the same wherever the tests run)."""
    i18n.use(gettext.NullTranslations())
    testCase.addCleanup(i18n.use, None)
    testCase.patch(traceview, "localtime", time.gmtime)


EXPECTED_SERVER = """\
#1       0.0 ms  connection from the client 127.0.0.1:50432 to this server 127.0.0.1:5000 \
(TCP over IPv4) at 00:00:00.000; the operating system did the TCP handshake
#1       1.5 ms  client --> server  "An"  2 bytes  41 6e
#1       1.5 ms     no line ending yet (2 bytes held): waiting for 0.25 s of quiet
#1       3.0 ms  client --> server  "a"  1 byte  61
#1       3.0 ms     no line ending yet (3 bytes held): waiting for 0.25 s of quiet
#1     253.0 ms     no line ending: quiet for 0.25 s, taken as the whole message: "Ana"
#1     253.0 ms     waiting for the operator to type a reply
#1    2753.0 ms     the operator typed the reply "Bob" after 2.5 s
#1    2753.0 ms  client <-- server  "Bob"  3 bytes  42 6f 62
#1    2753.0 ms     the server closes the connection: a FIN follows the bytes still queued; \
the client will read the end of the stream
#1    2754.5 ms     connection closed: the server sent its FIN before reading one from the client
"""

EXPECTED_SERVER_FILE = """\
# names-server trace

Each connection as a Mermaid sequence diagram (times in milliseconds since the connection began).

## Connection 1

```mermaid
sequenceDiagram
    participant C as client 127.0.0.1#58;50432
    participant S as server 127.0.0.1#58;5000
    Note over C,S: 0.0 ms: connection from the client 127.0.0.1:50432 to this<br>server \
127.0.0.1:5000 (TCP over IPv4) at 00:00:00.000#59; the<br>operating system did the TCP handshake
    C->>S: 1.5 ms: #quot;An#quot; (2 bytes)
    Note over S: 1.5 ms: no line ending yet (2 bytes held): waiting for<br>0.25 s of quiet
    C->>S: 3.0 ms: #quot;a#quot; (1 byte)
    Note over S: 3.0 ms: no line ending yet (3 bytes held): waiting for<br>0.25 s of quiet
    Note over S: 253.0 ms: no line ending: quiet for 0.25 s, taken as the<br>whole \
message: #quot;Ana#quot;
    Note over S: 253.0 ms: waiting for the operator to type a reply
    Note over S: 2753.0 ms: the operator typed the reply #quot;Bob#quot; after 2.5 s
    S->>C: 2753.0 ms: #quot;Bob#quot; (3 bytes)
    S-)C: 2753.0 ms: FIN
    Note over S: 2753.0 ms: the server closes the connection: a FIN follows<br>\
the bytes still queued#59; the client will read the end of the<br>stream
    Note over C,S: 2754.5 ms: connection closed: the server sent its FIN before<br>\
reading one from the client
```

"""


class KnownExchangeTests(SynchronousTestCase):
    """A whole exchange's trace, compared in full."""

    def setUp(self) -> None:
        english(self)

    def test_courseClientAndOperator(self) -> None:
        """
        A course-style client (its name in two chunks, no line ending), the
        quiet period, the operator's wait and reply, the server's close.
        """
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        protocol, transport = t.serve(queue)
        t.clock.advance(0.0015)
        protocol.dataReceived(b"An")
        t.clock.advance(0.0015)
        protocol.dataReceived(b"a")
        t.clock.advance(0.25)
        t.clock.advance(2.5)
        queue.answer("Bob")
        self.assertEqual(transport.value(), b"Bob")
        self.assertTrue(transport.disconnecting)
        t.clock.advance(0.0015)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(t.text(), EXPECTED_SERVER)
        self.assertEqual(t.file.getvalue(), EXPECTED_SERVER_FILE)

    def test_fixedReplyAndHalfClose(self) -> None:
        """
        C{--name}: the reply at once; a client that sends its line and
        half-closes (C{nc -N}); bytes after the name ignored.
        """
        t = Traced(Role.SERVER)
        protocol, _transport = t.serve(FixedReply("Bob"))
        self.assertTrue(IHalfCloseableProtocol.providedBy(protocol))
        protocol.dataReceived(b"Ana\r\nmore")
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            t.lines[1:],
            [
                '#1       0.0 ms  client --> server  "Ana\\r\\nmore"  9 bytes'
                "  41 6e 61 0d 0a 6d 6f 72 65",
                '#1       0.0 ms     line complete (CRLF): "Ana"',
                "#1       0.0 ms     4 bytes ignored: no more messages are read on this"
                " connection",
                '#1       0.0 ms     reply "Bob": the server\'s --name, at once',
                '#1       0.0 ms  client <-- server  "Bob\\r\\n"  5 bytes  42 6f 62 0d 0a',
                "#1       0.0 ms     the server closes the connection: a FIN follows the bytes"
                " still queued; the client will read the end of the stream",
                "#1       0.0 ms     the client finished sending (FIN): the server"
                " read the end of the stream",
                "#1       0.0 ms     connection closed: the server sent its FIN before reading"
                " one from the client",
            ],
        )

    def test_clientSide(self) -> None:
        """The client's trace: its write, the server's answer, its close."""
        t = Traced(Role.CLIENT)
        client = NameClientProtocol(t.clock)
        protocol = TracingFactory(_Once(client), t.tracer).buildProtocol(SERVER)
        transport = StringTransport(hostAddress=CLIENT, peerAddress=SERVER)
        protocol.makeConnection(transport)
        self.assertFalse(IHalfCloseableProtocol.providedBy(protocol))
        answer = client.ask("Ana")
        t.clock.advance(0.002)
        protocol.dataReceived(b"Bob\n")
        self.assertEqual(self.successResultOf(answer), "Bob")
        client.transport.loseConnection()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            t.text(),
            "#1       0.0 ms  connection from this client 127.0.0.1:50432 to the server"
            " 127.0.0.1:5000 (TCP over IPv4) at 00:00:00.000; the operating system did the TCP"
            " handshake\n"
            '#1       0.0 ms  client --> server  "Ana\\n"  4 bytes  41 6e 61 0a\n'
            '#1       2.0 ms  client <-- server  "Bob\\n"  4 bytes  42 6f 62 0a\n'
            '#1       2.0 ms     line complete (LF): "Bob"\n'
            "#1       2.0 ms     the client closes the connection: a FIN follows the bytes"
            " still queued; the server will read the end of the stream\n"
            "#1       2.0 ms     connection closed: the client sent its FIN before reading"
            " one from the server\n",
        )
        self.assertIn("    C->>S: 0.0 ms: #quot;Ana\\n#quot; (4 bytes)\n", t.file.getvalue())
        self.assertIn("    C-)S: 2.0 ms: FIN\n", t.file.getvalue())

    def test_serverClosesFirst(self) -> None:
        """
        A client whose clean-up closes the connection from inside
        C{connectionLost} (C{exchangeNames}' C{finally}, run by the failed
        answer): the server closed first, and the client sent no FIN.
        """
        t = Traced(Role.CLIENT)
        client = NameClientProtocol(t.clock)
        protocol = TracingFactory(_Once(client), t.tracer).buildProtocol(SERVER)
        protocol.makeConnection(StringTransport(hostAddress=CLIENT, peerAddress=SERVER))
        answer = client.ask("Ana")
        answer.addErrback(lambda _: client.transport.loseConnection())
        t.clock.advance(1)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            t.lines[-1][17:],
            "   connection closed: the server's FIN arrived first; the client read"
            " the end of the stream",
        )
        self.assertNotIn("the client closes", t.text())
        self.assertNotIn("C-)S", t.file.getvalue())
        self.assertIn("    S-)C: 1000.0 ms: FIN\n", t.file.getvalue())

    def test_resetByPeer(self) -> None:
        """A client that resets the connection while it waits for the operator."""
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        protocol, _ = t.serve(queue)
        protocol.dataReceived(b"Ana\n")
        protocol.connectionLost(Failure(ConnectionLost("Connection reset by peer")))
        self.assertEqual(
            [line[17:] for line in t.lines[-3:]],
            [
                "   no reply: the connection ended while it waited",
                "   connection lost: reset or broken by the other side",
                '   what the system said: "Connection reset by peer"',
            ],
        )
        self.assertIn("    C-xS: 0.0 ms: RST\n", t.file.getvalue())

    def test_unterminatedThenReset(self) -> None:
        """
        Bytes with no line ending, then a reset: the message is taken
        because the connection was lost, not because the other side
        finished sending.
        """
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(ReplyQueue(t.clock, 300))
        protocol.dataReceived(b"Ana")
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertIn(
            "   no line ending, and the connection was lost (reset or broken): taken as the"
            ' whole message: "Ana"',
            [line[17:] for line in t.lines],
        )
        self.assertNotIn("finished sending", t.text())

    def test_halfCloseWhileWaiting(self) -> None:
        """
        A client that sends its name and half-closes while the operator has
        not typed: the server gives up on it (it cannot tell C{nc -N} from a
        client gone); the trace says so, not that the connection ended.
        """
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        protocol, _ = t.serve(queue)
        protocol.dataReceived(b"Ana\n")
        protocol.readConnectionLost()
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIn(
            "   no reply: the client finished sending (FIN) while it waited;"
            " the server counts it as gone",
            [line[17:] for line in t.lines],
        )

    def test_tooLong(self) -> None:
        t = Traced(Role.SERVER)
        protocol, transport = t.serve(FixedReply("Bob"), maxLength=4)
        protocol.dataReceived(b"abcdefgh")
        self.assertIn(
            "#1       0.0 ms     line too long (8 bytes, the limit is 4): closing", t.lines
        )
        self.assertTrue(transport.disconnecting)

    def test_ipv6AndUnix(self) -> None:
        t = Traced(Role.SERVER)
        t.serve(
            FixedReply("Bob"),
            peer=IPv6Address("TCP", "::1", 50000),
            host=IPv6Address("TCP", "::1", 5000),
        )
        t.serve(FixedReply("Bob"), peer=UNIXAddress(None), host=UNIXAddress(b"/tmp/n.sock"))
        self.assertIn("client [::1]:50000 to this server [::1]:5000 (TCP over IPv6)", t.lines[0])
        self.assertIn(
            "#2       0.0 ms  connection from the client unix to this server unix:/tmp/n.sock"
            " (a UNIX socket) at 00:00:00.000; the operating system connected the two ends",
            t.lines,
        )

    def test_connectionsInterleave(self) -> None:
        """Each line names its connection."""
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        one, _ = t.serve(queue)
        two, _ = t.serve(queue)
        two.dataReceived(b"Bea\n")
        one.dataReceived(b"Ana\n")
        queue.answer("B")
        queue.answer("A")
        self.assertIn('#2       0.0 ms  client <-- server  "B\\n"  2 bytes  42 0a', t.lines)
        self.assertIn('#1       0.0 ms  client <-- server  "A\\n"  2 bytes  41 0a', t.lines)
        self.assertIn('#2       0.0 ms     the operator typed the reply "B" after 0.0 s', t.lines)

    def test_chatRepliesGoToTheirConnection(self) -> None:
        """In chat mode a line waiting in the backlog is asked after the reply."""
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        protocol, _ = t.serve(queue, chat=True)
        protocol.dataReceived(b"one\ntwo\n")
        queue.answer("1")
        queue.answer("2")
        replies = [line for line in t.lines if "typed the reply" in line]
        self.assertEqual(len(replies), 2)
        self.assertTrue(all(line.startswith("#1 ") for line in replies))


class NoReplyTests(SynchronousTestCase):
    """Why a client gets no reply, in the chosen language."""

    def lastWords(self, make: Callable[[Traced, ReplyQueue], object]) -> str:
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 2.5)
        protocol, _ = t.serve(queue)
        protocol.dataReceived(b"Ana\n")
        make(t, queue)
        return next(line[17:] for line in t.lines if "no reply" in line or "sem resposta" in line)

    def test_english(self) -> None:
        english(self)
        self.assertEqual(
            self.lastWords(lambda t, q: t.clock.advance(2.5)),
            "   no reply: the operator did not reply within 2.5 s",
        )
        self.assertEqual(
            self.lastWords(lambda t, q: q.close()), "   no reply: the operator's input is closed"
        )
        self.assertEqual(
            self.lastWords(lambda t, q: q.dismiss()),
            "   no reply: the operator closed this client without a reply",
        )

    def test_portuguese(self) -> None:
        """No English words inside the Portuguese line; the number as pt_BR writes it."""
        i18n.use(portuguese())
        self.addCleanup(i18n.use, None)
        self.assertEqual(
            self.lastWords(lambda t, q: t.clock.advance(2.5)),
            "   sem resposta: o operador não respondeu em 2,5 s",
        )
        self.assertEqual(
            self.lastWords(lambda t, q: q.close()),
            "   sem resposta: a entrada do operador está fechada",
        )


class AskedByItsConnectionTests(SynchronousTestCase):
    """Each wait and reply is told on the connection whose protocol asked."""

    def setUp(self) -> None:
        english(self)

    def test_interleavedChat(self) -> None:
        """
        A sends two lines at once in chat mode, then B one; the operator
        answers 1, X, 2: A's second question is asked from inside its
        first reply, after B's message was framed.
        """
        t = Traced(Role.SERVER)
        queue = ReplyQueue(t.clock, 300)
        a, _ = t.serve(queue, chat=True, peer=IPv4Address("TCP", "127.0.0.1", 50001))
        b, _ = t.serve(queue, chat=True, peer=IPv4Address("TCP", "127.0.0.1", 50002))
        a.dataReceived(b"one\ntwo\n")
        b.dataReceived(b"x\n")
        for reply in ("1", "X", "2"):
            queue.answer(reply)
        said = [
            (line.split()[0], line[17:].strip())
            for line in t.lines
            if "waiting for the operator" in line or "typed the reply" in line
        ]
        self.assertEqual(
            said,
            [
                ("#1", "waiting for the operator to type a reply"),
                ("#2", "waiting for the operator to type a reply"),
                ("#1", 'the operator typed the reply "1" after 0.0 s'),
                ("#1", "waiting for the operator to type a reply"),
                ("#2", 'the operator typed the reply "X" after 0.0 s'),
                ("#1", 'the operator typed the reply "2" after 0.0 s'),
            ],
        )


@implementer(IStreamClientEndpoint)
class _Pending:
    """A client endpoint whose connection is made when the test says."""

    def connect(self, factory: IProtocolFactory) -> Deferred[IProtocol]:
        self.factory = factory
        self.connected: Deferred[IProtocol] = Deferred()
        return self.connected


class ConnectedTests(SynchronousTestCase):
    """When a connection was made, over what, and how long connecting took."""

    def clientConnects(self, wallClock: float, took: float) -> Traced:
        t = Traced(Role.CLIENT)
        t.clock.advance(wallClock)
        endpoint = _Pending()
        connecting = TracingClientEndpoint(endpoint, t.tracer).connect(
            _Once(NameClientProtocol(t.clock))
        )
        t.clock.advance(took)
        protocol = endpoint.factory.buildProtocol(SERVER)
        assert protocol is not None
        protocol.makeConnection(StringTransport(hostAddress=CLIENT, peerAddress=SERVER))
        endpoint.connected.callback(protocol)
        self.assertIsInstance(self.successResultOf(connecting), NameClientProtocol)
        return t

    def test_whenAndHowLong(self) -> None:
        """The time of day, to the millisecond, and connect()'s duration."""
        english(self)
        t = self.clientConnects(3600 * 13 + 62.5, 0.0031)
        self.assertEqual(
            [line[17:] for line in t.lines],
            [
                "connection from this client 127.0.0.1:50432 to the server 127.0.0.1:5000"
                " (TCP over IPv4) at 13:01:02.503; the operating system did the TCP handshake",
                "connecting took 3.1 ms (from the endpoint's connect() to the connection)",
            ],
        )

    def test_portuguese(self) -> None:
        """Numbers with a decimal comma, in the column, aligned; whole sentences."""
        i18n.use(portuguese())
        self.addCleanup(i18n.use, None)
        self.patch(traceview, "localtime", time.gmtime)
        t = self.clientConnects(0, 1.4864)
        self.assertEqual(t.lines[1][:17], "#1       0,0 ms  ")
        self.assertIn("1486,4 ms", t.lines[1])
        self.assertNotIn("connect", t.lines[0].replace("conex", ""))
        t.clock.advance(1.5)
        t.tracer.emit(Chunk.of(1, 1.5, False, b"x"))
        self.assertTrue(t.lines[-1].startswith("#1    1500,0 ms  "), t.lines[-1])

    def test_tlsCarrier(self) -> None:
        """TLS over each carrier is one phrase of its own."""
        english(self)
        self.assertEqual(traceview.familyText(Family.IPV6, True), "TLS over TCP over IPv6")
        self.assertEqual(traceview.familyText(Family.UNIX, True), "TLS over a UNIX socket")


class EndingTests(SynchronousTestCase):
    """How a connection ended, in our words; Twisted's only when they add something."""

    def setUp(self) -> None:
        english(self)

    def closed(self, reason: BaseException, close: str | None = None) -> list[str]:
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(ReplyQueue(t.clock, 300))
        if close is not None:
            getattr(protocol, close)()  # As the protocol calls its transport.
        protocol.connectionLost(Failure(reason))
        said = [line[17:] for line in t.lines]
        return said[max(i for i, line in enumerate(said) if line.startswith("   connection")) :]

    def test_closeTwice(self) -> None:
        """Closing twice is said once (the second call closes nothing more)."""
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(ReplyQueue(t.clock, 300))
        protocol.loseConnection()
        protocol.loseConnection()
        self.assertEqual(sum("the server closes" in line for line in t.lines), 1, t.lines)
        self.assertEqual(len(t.lines), 2, t.lines)

    def test_closeThenAbort(self) -> None:
        """A close then an abort: the reset is said too (it drops what is queued)."""
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(ReplyQueue(t.clock, 300))
        protocol.loseConnection()
        protocol.abortConnection()
        protocol.abortConnection()
        protocol.loseConnection()
        self.assertEqual(
            [line[17:] for line in t.lines[1:]],
            [
                "   the server closes the connection: a FIN follows the bytes still queued;"
                " the client will read the end of the stream",
                "   the server resets the connection (RST), dropping what is queued;"
                " the client will see the connection reset",
            ],
        )

    def test_lost(self) -> None:
        self.assertEqual(
            self.closed(ConnectionLost()),
            ["   connection lost: reset or broken by the other side"],
        )

    def test_lostAfterOurClose(self) -> None:
        self.assertEqual(
            self.closed(ConnectionLost(), "loseConnection")[-1],
            "   connection lost after the server began to close it: reset or broken by the client",
        )

    def test_aborted(self) -> None:
        """Our own reset: said once, with nothing of Twisted's."""
        self.assertEqual(
            self.closed(ConnectionAborted(), "abortConnection")[-1],
            "   connection closed: the server reset it",
        )

    @skipIf(NO_TLS is not None, NO_TLS or "")
    def test_tls(self) -> None:
        from OpenSSL.SSL import Error

        lines = self.closed(Error([("SSL routines", "", "certificate verify failed")]))
        self.assertEqual(lines[0], "   connection lost: the TLS session failed")
        self.assertIn("certificate verify failed", lines[1])
        self.assertTrue(lines[1].startswith("   what the system said: "))

    def test_other(self) -> None:
        lines = self.closed(ValueError("odd\x1b[2J"))
        self.assertEqual(
            lines,
            [
                "   connection lost, for another reason",
                '   what the system said: "ValueError: odd\\x1b[2J"',
            ],
        )


class FactoryTests(SynchronousTestCase):
    def test_logPrefix(self) -> None:
        """
        The log says the server's factory, as without the trace: the
        console's translation of "... starting on {port}" matches it.
        """
        factory = NameServerFactory(FixedReply("Bob"), Clock(), ServerSettings())
        tracer = Tracer(Role.SERVER, Clock(), [])
        self.assertEqual(TracingFactory(factory, tracer).logPrefix(), "NameServerFactory")


class _Once(Factory):
    """A factory for one given protocol (as C{connectProtocol} makes)."""

    def __init__(self, protocol: Protocol) -> None:
        self.one = protocol

    def buildProtocol(self, addr: object) -> Protocol:
        return self.one


HOSTILE = (
    b"\x1b[2J\x1b]52;c;ZXZpbA==\x07\rNUL\x00\xe2\x80\xaeevil\n"
    b"#9 0.0 ms forged\n"
    b'```\n    S->>C: forged; end\n<script>"x"</script>'
)


class HostileBytesTests(SynchronousTestCase):
    """Whatever a peer sends reaches neither the terminal nor the file raw."""

    def setUp(self) -> None:
        english(self)
        self.t = Traced(Role.SERVER)
        protocol, _ = self.t.serve(FixedReply("Bob"), chat=True)
        protocol.dataReceived(HOSTILE)
        protocol.connectionLost(Failure(ConnectionDone()))

    def test_live(self) -> None:
        for line in self.t.lines:
            self.assertFalse([c for c in line if isUnsafe(c)], line)
        # Every line is one of ours: a connection and a time, nothing forged.
        for line in self.t.lines:
            self.assertRegex(line, r"^#1 +\d+\.\d ms  ")
        self.assertIn(
            '"\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07\\rNUL\\x00\\u202eevil\\n#9 0.0 ms forge"…'
            "  97 bytes",
            self.t.text(),
        )

    def test_file(self) -> None:
        text = self.t.file.getvalue()
        self.assertFalse([c for c in text if isUnsafe(c) and c != "\n"])
        checkStructure(self, text)
        self.assertNotIn("<", text.replace("<br>", ""))
        self.assertNotIn("forged;", text)
        self.assertEqual(text.count("```"), 2)


def checkStructure(testCase: SynchronousTestCase, text: str) -> int:
    """
    Check a trace file: a title, then sections each holding one Mermaid
    block whose every statement is a participant, an arrow or a note, with
    no C{#} or C{;} but in entity codes, no C{<} but in C{<br>}, and lines
    of text no longer than L{LINE_WIDTH}.  Return how many diagrams.
    """
    keep(text)  # For the real Mermaid parser, in CI (tests.diagrams).
    statement = re.compile(
        r"    (participant [CS] as .+"
        r"|[CS](->>|-\)|-x)[CS]: .+"
        r"|Note (over C,S|over [CS]): .+)"
    )
    lines = text.split("\n")
    testCase.assertTrue(lines[0].startswith("# names-"), lines[0])
    diagrams = 0
    inside = False
    for line in lines[1:]:
        if line == "```mermaid":
            testCase.assertFalse(inside)
            inside, first = True, True
            diagrams += 1
        elif line == "```":
            testCase.assertTrue(inside)
            inside = False
        elif inside and first:
            testCase.assertEqual(line, "sequenceDiagram")
            first = False
        elif inside:
            testCase.assertRegex(line, statement)
            words = re.sub(r"#(\d+|[a-z]+);", "", line)
            testCase.assertNotIn("#", words, line)
            testCase.assertNotIn(";", words, line)
            testCase.assertNotIn("<", words.replace("<br>", ""), line)
            if not line.startswith("    participant"):
                # Mermaid does not wrap: each line of text fits a note.
                text = re.sub(r"#(\d+|[a-z]+);", "_", line.split(": ", 1)[1])
                for part in text.split("<br>"):
                    testCase.assertLessEqual(len(part), LINE_WIDTH, line)
        else:
            testCase.assertTrue(
                line == ""
                or line.startswith(("# names-", "## ", "Each ", "The trace"))
                or re.match(r"\d+ connections? (is|are) (not in this file|missing here)", line),
                line,
            )
    testCase.assertFalse(inside)
    return diagrams


class TraceFileTests(SynchronousTestCase):
    def setUp(self) -> None:
        english(self)

    def exchange(self, t: Traced, count: int = 1) -> None:
        for _ in range(count):
            protocol, _ = t.serve(FixedReply("Bob"))
            protocol.dataReceived(b"Ana\n")
            protocol.connectionLost(Failure(ConnectionDone()))

    def test_structure(self) -> None:
        t = Traced(Role.SERVER)
        self.exchange(t, 3)
        text = t.file.getvalue()
        self.assertEqual(checkStructure(self, text), 3)
        self.assertEqual(
            re.findall("^## .*", text, re.M),
            ["## Connection 1", "## Connection 2", "## Connection 3"],
        )

    def test_writtenAsConnectionsEnd(self) -> None:
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(FixedReply("Bob"))
        self.assertNotIn("## Connection 1", t.file.getvalue())
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertIn("## Connection 1", t.file.getvalue())

    def test_openAtFinish(self) -> None:
        """Connections still open when the program stops are written too."""
        t = Traced(Role.SERVER)
        t.serve(FixedReply("Bob"))
        t.tracer.finish()
        self.assertIn("## Connection 1", t.file.getvalue())
        self.assertTrue(t.file.closedByTrace)

    def test_tooManyOpen(self) -> None:
        """
        Connections beyond the most diagrams held at once are not drawn, and
        the file says how many at its end.
        """
        t = Traced(Role.SERVER)
        file = KeptOpen()
        t.tracer.sinks = [TraceFile(Role.SERVER, file, maxOpen=2)]
        protocols = [t.serve(FixedReply("Bob"), chat=True)[0] for _ in range(5)]
        for protocol in protocols:
            protocol.connectionLost(Failure(ConnectionDone()))
        t.tracer.finish()
        text = file.getvalue()
        self.assertEqual(checkStructure(self, text), 2)
        self.assertTrue(
            text.endswith("3 connections are not in this file: more than 2 were open at once.\n"),
            text[-200:],
        )

    def test_diskFull(self) -> None:
        """
        When the file cannot be written any more (a full disk), the operator
        is told once, in a log event; each next diagram is tried again (see
        L{tests.test_tracefile} for what the file says once it works).
        """
        file = FullDisk()
        t = Traced(Role.SERVER)
        with capturedLogs() as events:
            t.tracer.sinks = [TraceFile(Role.SERVER, file)]
            for _ in range(3):
                protocol, _transport = t.serve(FixedReply("Bob"))
                protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["log_format"], CANNOT_WRITE)
        self.assertEqual(events[0]["path"], '"/full/trace.md"')
        self.assertEqual(events[0]["why"], "No space left on device")
        self.assertEqual(file.tries, 4)

    def test_arrowsBounded(self) -> None:
        t = Traced(Role.SERVER, maxArrows=5)
        protocol, _ = t.serve(FixedReply("Bob"), chat=True)
        for _ in range(20):
            protocol.dataReceived(b"x")
        protocol.connectionLost(Failure(ConnectionDone()))
        text = t.file.getvalue()
        self.assertEqual(checkStructure(self, text), 1)
        self.assertRegex(
            text, r"Note over C,S: … \d+ more events not drawn \(at most 5 a connection\)"
        )
        self.assertIn("connection closed", text)

    def test_sizeInBytes(self) -> None:
        """The file's size is counted in bytes of UTF-8, as the docs say (4 MB)."""
        i18n.use(portuguese())
        self.addCleanup(i18n.use, None)
        t = Traced(Role.SERVER)
        self.exchange(t, 2)
        self.assertEqual(t.traceFile.size, len(t.file.getvalue().encode("utf-8")))
        self.assertGreater(t.traceFile.size, len(t.file.getvalue()))

    def test_sizeBounded(self) -> None:
        t = Traced(Role.SERVER, maxSize=3000)
        self.exchange(t, 10)
        text = t.file.getvalue()
        self.assertLessEqual(len(text), 3000 + 200)
        written = checkStructure(self, text)
        self.assertLess(written, 10)
        self.assertTrue(
            text.endswith(
                f"The trace file is full: connections after the first {written} are not written.\n"
            )
        )


class LadderTests(SynchronousTestCase):
    def setUp(self) -> None:
        english(self)

    def test_longChunkAbbreviated(self) -> None:
        text = chunkText(b"a" * 100, 1000)
        self.assertEqual(text, '"' + "a" * 48 + '"…  1000 bytes  ' + "61 " * 16 + "…")

    def test_invalidUtf8AsHexEscapes(self) -> None:
        self.assertEqual(chunkText(b"\xff\n", 2), '"\\xff\\n"  2 bytes  ff 0a')

    def test_writeSequence(self) -> None:
        """A writeSequence is one chunk: its whole length, its first bytes."""
        t = Traced(Role.SERVER)
        protocol, transport = t.serve(ReplyQueue(t.clock, 300))
        protocol.writeSequence(iter([b"a" * 40, b"b" * 40, b"c" * 1000]))
        self.assertEqual(transport.value(), b"a" * 40 + b"b" * 40 + b"c" * 1000)
        self.assertIn(
            '"' + "a" * 40 + "b" * 8 + '"…  1080 bytes  ' + "61 " * 16 + "…", t.lines[-1]
        )
        chunk = Chunk.ofSequence(1, 0.0, True, [b"ab", b"", b"c" * 100])
        self.assertEqual((chunk.data, chunk.size), (b"ab" + b"c" * 62, 102))

    def test_cutAtCharacterBoundary(self) -> None:
        """
        A character cut in two by the preview is left out, not shown as
        bytes that are not UTF-8; one really cut short by the peer is.
        """
        data = b"a" * 47 + "é".encode() + b"b" * 10
        self.assertTrue(chunkText(data, len(data)).startswith('"' + "a" * 47 + '"…  59 bytes'))
        arrow = Diagram(Role.SERVER, 1)
        arrow.add(Chunk.of(1, 0.0, False, b"a" * 39 + "é".encode()))
        self.assertIn("#quot;" + "a" * 39 + "#quot;…<br>(41 bytes)", arrow.lines()[-1])
        self.assertEqual(chunkText(b"a\xc3", 2), '"a\\xc3"  2 bytes  61 c3')

    def test_messageNotesCut(self) -> None:
        """
        A long message's note is cut like a chunk (whatever --max-length);
        the diagram keeps only what it draws.
        """
        english(self)
        t = Traced(Role.SERVER)
        protocol, _ = t.serve(FixedReply("Bob"), maxLength=100_000)
        protocol.dataReceived("é".encode() * 30_000 + b"\n")
        line = next(line for line in t.lines if "line complete" in line)
        self.assertEqual(line[17:], '   line complete (LF): "' + "é" * 24 + '"…')
        diagram = t.traceFile.diagrams[1]
        self.assertLess(sum(len(statement) for statement in diagram.statements), 2000)

    def test_colourByConnection(self) -> None:
        ladder = Ladder(Role.SERVER, colour=True)
        one = ladder.lines(Chunk.of(1, 0.0, False, b"a"))[0]
        two = ladder.lines(Chunk.of(2, 0.0, False, b"a"))[0]
        self.assertTrue(one.startswith("\x1b[36m#1 "))
        self.assertTrue(one.endswith("\x1b[0m"))
        self.assertTrue(two.startswith("\x1b[33m#2 "))

    def test_noColour(self) -> None:
        line = Ladder(Role.SERVER).lines(Chunk.of(1, 0.0, False, b"\x1b"))[0]
        self.assertNotIn("\x1b", line)

    def test_useColour(self) -> None:
        self.assertTrue(useColour({}, True))
        self.assertFalse(useColour({}, False))
        self.assertFalse(useColour({"NO_COLOR": "1"}, True))
        self.assertTrue(useColour({"NO_COLOR": ""}, True))


class MermaidSafeTests(SynchronousTestCase):
    def test_escapes(self) -> None:
        self.assertEqual(mermaidSafe('a#b;c<d>e"f\ng%h'), "a#35;b#59;c#lt;d#gt;e#quot;f g#37;h")

    def test_alias(self) -> None:
        self.assertEqual(mermaidSafe("[::1]:5000,x", alias=True), "[#58;#58;1]#58;5000#44;x")

    def test_textInLines(self) -> None:
        """
        Mermaid does not wrap notes (a long one is cut at the diagram's
        edge): text comes in lines of at most L{LINE_WIDTH} characters,
        broken at spaces where it can, each escaped, joined by C{<br>}.
        """
        self.assertEqual(
            mermaidText("a;b " * 20), "a#59;b " * 14 + "a#59;b<br>" + "a#59;b " * 4 + "a#59;b"
        )
        self.assertEqual(mermaidText("x" * 130), "x" * 60 + "<br>" + "x" * 60 + "<br>" + "x" * 10)
        self.assertEqual(mermaidText("<br>"), "#lt;br#gt;")
        self.assertEqual(mermaidText("x" * 55 + " 1.5 s"), "x" * 55 + "<br>1.5 s")

    def test_emptyDiagram(self) -> None:
        english(self)
        self.assertEqual(
            Diagram(Role.CLIENT, 1).lines(), ["participant C as client", "participant S as server"]
        )
