"""
Whole exchanges between the real client and the real server, in memory
(L{tests.harness}): the cases of C{tests/test_endtoend.py} and
C{tests/test_faults.py} that need no process, with their assertions: the
operator's console and log lines, the client's output and exit status, the
bytes on the wire.  Time is a L{MemoryReactorClock}: a timeout happens when
the test advances the clock past it, never sooner or later.
"""

from __future__ import annotations

import os
import re
from typing import Any

from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.harness import ClientRun, Network
from tests.said import (
    ADDRESS,
    asking,
    exchangeLogged,
    leftEarly,
    nextAnswers,
    sent,
    waitingToo,
)
from twisted_names.display import isUnsafe


class ExchangeTestCase(SynchronousTestCase):
    """Assertions about a L{Network}'s server and clients."""

    def seen(self, network: Network, pattern: str, count: int = 1) -> re.Match[str]:
        """The C{count}th match of C{pattern} in the server's output; fail if missing."""
        matches = network.findAll(pattern)
        self.assertGreaterEqual(len(matches), count, f"{pattern!r} not seen in:\n{network.out}")
        return matches[count - 1]

    def assertExited(self, client: ClientRun, status: int) -> None:
        self.assertEqual(self.successResultOf(client.ended), status, client.describe())

    def assertAnswered(self, client: ClientRun, reply: str) -> None:
        """The client printed C{Server: REPLY} and nothing else, and exited 0."""
        self.assertExited(client, 0)
        self.assertEqual(client.out, f"Server: {reply}\n", client.describe())
        self.assertEqual(client.err, "", client.describe())

    def assertNoTraceback(self, network: Network) -> None:
        self.assertNotIn("Traceback", network.out)


class OperatorTests(ExchangeTestCase):
    """The operator answers clients that come, wait in line and leave."""

    def test_oneExchange(self) -> None:
        """
        The operator's line answers the client, which prints it and exits 0;
        the console says it was sent, and the exchange is logged once.
        (The same with the real programs: L{tests.test_endtoend}.)
        """
        network = Network(self)
        client = network.client("--name", "Alice")
        address = self.seen(network, asking("Alice")).group(1)
        self.seen(network, nextAnswers("Alice", 1))
        self.assertNoResult(client.ended)
        network.type(b"Server\n")
        self.assertAnswered(client, "Server")
        self.assertEqual(self.seen(network, sent("Server", "Alice")).group(1), address)
        self.assertEqual(self.seen(network, exchangeLogged("Alice", "Server")).group(1), address)
        self.assertEqual(len(network.findAll(exchangeLogged("Alice", "Server"))), 1)
        self.assertNoTraceback(network)

    def test_waitingClientsAnsweredInOrder(self) -> None:
        """
        Clients that arrive while one waits wait in line; the lines typed
        answer them in the order they came.
        """
        network = Network(self)
        first = network.client("--name", "Ann")
        self.seen(network, asking("Ann"))
        second = network.client("--name", "Ben")
        self.seen(network, waitingToo("Ben"))
        third = network.client("--name", "Cat")
        self.seen(network, waitingToo("Cat"))
        self.seen(network, nextAnswers("Ann", 3))
        network.type(b"One\nTwo\nThree\n")
        self.assertAnswered(first, "One")
        self.assertAnswered(second, "Two")
        self.assertAnswered(third, "Three")
        for reply, name in [("One", "Ann"), ("Two", "Ben"), ("Three", "Cat")]:
            self.seen(network, sent(reply, name))
            self.seen(network, exchangeLogged(name, reply))
        self.seen(network, r"^Nobody is waiting now\.$")

    def test_leaverTurnGoesToNextWaitingClient(self) -> None:
        """
        A client that disconnects while waiting is taken out of the line: the
        next line typed answers the client after it, and is not lost.
        """
        network = Network(self)
        leaver = network.peer()
        leaver.send(b"Alice\n")
        self.seen(network, asking("Alice"))
        bob = network.client("--name", "Bob")
        self.seen(network, waitingToo("Bob"))
        leaver.disconnect()
        self.assertTrue(leaver.isClosed)
        self.seen(network, leftEarly("Alice"))
        self.seen(network, nextAnswers("Bob", 1))
        network.type(b"ForBob\n")
        self.assertAnswered(bob, "ForBob")
        self.seen(network, sent("ForBob", "Bob"))
        self.assertEqual(leaver.received, b"")
        self.assertNotIn('to "Alice"', network.out)

    def test_lineTypedAfterLeaverIsKeptForNextClient(self) -> None:
        """
        When the only waiting client left, the next line typed is kept, said
        so, and answers the next client to arrive.
        """
        network = Network(self)
        leaver = network.peer()
        leaver.send(b"Alice\n")
        self.seen(network, asking("Alice"))
        leaver.disconnect()
        self.seen(network, leftEarly("Alice"))
        self.seen(network, r"^Nobody is waiting now; the next line answers the next client\.$")
        network.type(b"Kept\n")
        self.seen(
            network, r'^Nobody is waiting: "Kept" will answer the next client \(1 typed ahead\)\.$'
        )
        carol = network.client("--name", "Carol")
        self.assertAnswered(carol, "Kept")
        self.seen(
            network,
            rf'^"Carol" \({ADDRESS}\) was answered "Kept", typed ahead \(0 more typed ahead\)\.$',
        )
        self.seen(network, exchangeLogged("Carol", "Kept"))

    def test_halfClosedClientLeavesTheLine(self) -> None:
        """
        A peer that closes its sending side (a FIN: what a client that quits,
        is interrupted or killed sends) while it waits is out of the line: the
        next line typed answers the client behind it.
        """
        network = Network(self)
        peer = network.peer()
        peer.send(b"Alice\n")
        self.seen(network, asking("Alice"))
        bob = network.client("--name", "Bob")
        self.seen(network, waitingToo("Bob"))
        peer.finishSending()
        self.seen(network, leftEarly("Alice"))
        self.assertTrue(peer.isClosed)
        self.assertEqual(peer.received, b"")
        network.type(b"ForBob\n")
        self.assertAnswered(bob, "ForBob")

    def test_timedOutClientLeavesTheLine(self) -> None:
        """
        A client that gave up waiting (--timeout, exit status 4) is out of
        the line: the next line typed answers the client after it.
        """
        network = Network(self)
        ann = network.client("--name", "Ann", "--timeout", "0.5")
        self.seen(network, asking("Ann"))
        network.advance(0.4)
        self.assertNoResult(ann.ended)
        network.advance(0.1)
        self.assertExited(ann, 4)
        self.assertEqual(ann.out, "", ann.describe())
        self.assertIn("no answer", ann.err)
        self.seen(network, leftEarly("Ann"))
        ben = network.client("--name", "Ben")
        self.seen(network, nextAnswers("Ben", 1))
        network.type(b"ForBen\n")
        self.assertAnswered(ben, "ForBen")
        self.seen(network, sent("ForBen", "Ben"))


class ServerTimeoutTests(ExchangeTestCase):
    def test_replyTimeoutClosesWaitingClient(self) -> None:
        """
        A client nobody answers within --reply-timeout is closed (exit
        status 5) and the operator told; a later line is kept, not lost.
        """
        network = Network(self, replyTimeout=0.5)
        ann = network.client("--name", "Ann")
        self.seen(network, asking("Ann"))
        network.advance(0.4)
        self.assertNoResult(ann.ended)
        network.advance(0.1)
        self.assertExited(ann, 5)
        self.seen(network, rf'^"Ann" \({ADDRESS}\) waited too long for a reply and was closed\.$')
        self.seen(network, rf"{ADDRESS} gets no reply \(no reply within 0\.5 s\); closing")
        network.type(b"Late\n")
        self.seen(network, r'^Nobody is waiting: "Late" will answer the next client')

    def test_nameTimeoutClosesSilentPeer(self) -> None:
        """A peer that sends nothing within --name-timeout is closed, and logged."""
        network = Network(self, nameTimeout=0.3)
        peer = network.peer()
        network.advance(0.2)
        self.assertFalse(peer.isClosed)
        network.advance(0.1)
        self.assertTrue(peer.isClosed)
        self.assertEqual(peer.received, b"")  # Closed, with nothing sent.
        self.seen(network, rf"{ADDRESS} sent no name within 0\.3 s; closing")
        self.assertNotIn("is asking", network.out)


class InputTests(ExchangeTestCase):
    """The end of the operator's input, and lines typed ahead."""

    def test_stdinClosedClosesWaitingAndLaterClients(self) -> None:
        """
        At the end of the operator's input, every waiting client is closed at
        once (exit status 5), and so is every later client; the server keeps
        serving.
        """
        network = Network(self)
        first = network.client("--name", "Ann")
        self.seen(network, asking("Ann"))
        second = network.client("--name", "Ben")
        self.seen(network, waitingToo("Ben"))
        network.closeInput()
        self.seen(network, r"^Input closed: no more replies\. Closed 2 waiting clients\.$")
        for client in (first, second):
            self.assertExited(client, 5)
            self.assertEqual(client.out, "", client.describe())
            self.assertIn("closed the connection without answering", client.err)
        later = network.client("--name", "Cat")
        self.assertExited(later, 5)
        self.assertEqual(later.out, "", later.describe())
        self.seen(
            network, rf'^"Cat" \({ADDRESS}\) was closed: no more replies \(input closed\)\.$'
        )
        self.assertNoTraceback(network)

    def test_typedAheadLinesAnswerNextClients(self) -> None:
        """
        Lines piped in before any client came answer the next clients in
        order; once they are used up (the input having ended), the next
        client is closed.
        """
        network = Network(self)
        network.type(b"A\nB\n")
        network.closeInput()
        self.seen(network, r"^Input closed: no more replies\. Closed 0 waiting clients\.$")
        self.seen(
            network,
            r"^2 typed-ahead lines will answer the next clients; later ones will be closed\.$",
        )
        first = network.client("--name", "Ann")
        self.assertAnswered(first, "A")
        second = network.client("--name", "Ben")
        self.assertAnswered(second, "B")
        third = network.client("--name", "Cat")
        self.assertExited(third, 5)
        self.assertEqual(third.out, "", third.describe())
        self.seen(network, rf'^"Ann" \({ADDRESS}\) was answered "A", typed ahead')
        self.seen(network, rf'^"Ben" \({ADDRESS}\) was answered "B", typed ahead')
        self.seen(network, rf'^"Cat" \({ADDRESS}\) was closed: no more replies')

    def test_lastLineWithoutLineEnding(self) -> None:
        """
        C{printf 'Leo\\nMia' | twistd -n names-server}: the last line has no
        line ending and still answers the second client.
        """
        network = Network(self)
        network.type(b"Leo\nMia")
        network.closeInput()
        self.seen(
            network,
            r"^2 typed-ahead lines will answer the next clients; later ones will be closed\.$",
        )
        self.assertAnswered(network.client("--name", "Ann"), "Leo")
        self.assertAnswered(network.client("--name", "Ben"), "Mia")


class LineEndingTests(ExchangeTestCase):
    """The server answers the way the client wrote."""

    def test_unterminatedNameGetsUnterminatedReply(self) -> None:
        """
        A peer written like the course's client sends its name with no line
        ending and keeps the connection open: after the quiet period it is a
        name, and the reply comes back with no line ending either, then the
        server closes.
        """
        network = Network(self, quietPeriod=0.1)
        peer = network.peer()
        peer.send(b"Alice")
        self.assertNotIn("Alice", network.out)
        network.advance(0.1)
        self.seen(network, asking("Alice"))
        network.type(b"Server\n")
        self.assertTrue(peer.isClosed)
        self.assertEqual(peer.received, b"Server")
        self.seen(network, exchangeLogged("Alice", "Server"))

    def test_crlfNameGetsCrlfReply(self) -> None:
        """A telnet-like peer ending its name with CRLF gets CRLF back."""
        network = Network(self)
        peer = network.peer()
        peer.send(b"Alice\r\n")
        self.seen(network, asking("Alice"))
        network.type(b"Server\n")
        self.assertTrue(peer.isClosed)
        self.assertEqual(peer.received, b"Server\r\n")

    def test_courseStyleChatClient(self) -> None:
        """The course's chat client, turn after turn, answers unterminated."""
        network = Network(self, chat=True, quietPeriod=0.25)
        peer = network.peer()
        peer.send(b"one")
        network.advance(0.25)
        first = self.seen(network, asking("one"))
        network.type(b"1\n")
        self.assertEqual(peer.received, b"1")
        peer.send(b"two")
        network.advance(0.25)
        second = self.seen(network, asking("two"))
        self.assertEqual(first[1], second[1], "one connection for both turns")
        network.type(b"2\n")
        self.assertEqual(peer.received, b"12")
        peer.disconnect()
        self.seen(network, exchangeLogged("two", "2"))
        self.assertNotIn("left before your reply", network.out)


class FixedNameTests(ExchangeTestCase):
    def test_fixedName(self) -> None:
        """With --name, every client is answered at once, concurrently."""
        network = Network(self, name="Bob")
        clients = [network.client("--name", name) for name in ("Ann", "Ben", "Cat")]
        for client in clients:
            self.assertAnswered(client, "Bob")
        for name in ("Ann", "Ben", "Cat"):
            self.seen(network, exchangeLogged(name, "Bob"))
        self.assertNotIn("is asking", network.out)
        self.assertNoTraceback(network)

    def test_clientReadsNameFromStdin(self) -> None:
        """Without --name and with stdin not a terminal, the client reads one line."""
        network = Network(self, name="Bob")
        client = network.client(stdin="Zed\n")
        self.assertAnswered(client, "Bob")
        self.seen(network, exchangeLogged("Zed", "Bob"))
        empty = network.client(stdin="")
        self.assertExited(empty, 2)
        self.assertIn("no name", empty.err)

    def test_halfClosingPeerGetsFixedName(self) -> None:
        """With --name, even a peer that half-closes after its name (C{nc -N}) is answered."""
        network = Network(self, name="Bob")
        peer = network.peer()
        peer.transport.write(b"Alice\n")
        peer.finishSending()
        self.assertEqual(peer.received, b"Bob\n")
        self.assertTrue(peer.isClosed)
        self.seen(network, exchangeLogged("Alice", "Bob"))


class ClientErrorTests(ExchangeTestCase):
    """Errors of the client: one line, an exit status, no traceback."""

    def test_clientConnectionRefused(self) -> None:
        """Nothing listening: exit status 3, and the message says refused."""
        network = Network(self)
        client = network.clientTo("--port", "5001", "--name", "Alice")
        self.assertExited(client, 3)
        self.assertEqual(client.out, "", client.describe())
        self.assertIn("refused", client.err)
        self.assertEqual(len(client.err.splitlines()), 1, client.describe())
        self.assertNotIn("Traceback", client.err)

    def test_endpointGarbage(self) -> None:
        """
        An endpoint string that is not one: exit status 2, two lines (the
        error and the hint), escaped.  (It ran five processes.)
        """
        network = Network(self)
        for garbage in ["", "tcp:host=x:port=abc", "tls:", "nosuchkind:x", "\x1b[2J"]:
            client = network.clientTo("-e", garbage, "-n", "Ana")
            self.assertExited(client, 2)
            self.assertEqual(len(client.err.splitlines()), 2, client.describe())
            self.assertTrue(client.err.startswith("error: bad endpoint "), client.describe())
            self.assertNotIn("\x1b", client.err)
            self.assertNotIn("Traceback", client.err)

    def test_clientEmptyName(self) -> None:
        """An empty --name is a usage error: exit status 2, nothing sent."""
        network = Network(self)
        client = network.clientTo("--port", "1", "--name", "")
        self.assertExited(client, 2)
        self.assertEqual(client.out, "", client.describe())
        self.assertIn("empty", client.err)
        self.assertNotIn("Traceback", client.err)
        self.assertEqual(network.factory.clients, set())


class CourseConnection(Protocol):
    """
    One connection to L{CourseServerFactory}: like the course's server, it
    answers the first bytes received with its name, unterminated, and never
    closes.
    """

    factory: CourseServerFactory
    transport: Any

    def __init__(self) -> None:
        self.received = b""
        self.isClosed = False

    def connectionMade(self) -> None:
        self.factory.connections.append(self)

    def dataReceived(self, data: bytes) -> None:
        if not self.received:
            self.transport.write(self.factory.name)
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.isClosed = True


class CourseServerFactory(Factory[CourseConnection]):
    """A server like the course's C{Servidor.py}."""

    protocol = CourseConnection

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.connections: list[CourseConnection] = []


class CourseServerTests(ExchangeTestCase):
    def test_clientAgainstCourseStyleServer(self) -> None:
        """
        Against a server like the course's (answers with no line ending and
        never closes), the client takes the answer after its quiet period,
        prints it and exits 0.
        """
        network = Network(self)
        course = CourseServerFactory(b"Bob")
        network.listen(6000, course)
        client = network.clientTo("--port", "6000", "--name", "Alice", "--quiet-period", "0.1")
        self.assertNoResult(client.ended)
        network.advance(0.1)
        self.assertAnswered(client, "Bob")
        self.assertEqual(len(course.connections), 1)
        connection = course.connections[0]
        # The client closes once it has the answer: the server does not.
        self.assertTrue(connection.isClosed)
        self.assertEqual(connection.received, b"Alice\n")


class HostilePeerTests(ExchangeTestCase):
    def test_oversizedLineClosesOnlyThatConnection(self) -> None:
        """
        A line longer than --max-length closes that connection with no
        reply, and is logged; a client waiting at the same time is answered.
        """
        network = Network(self)
        alice = network.client("--name", "Alice")
        self.seen(network, asking("Alice"))
        flood = network.peer()
        flood.send(b"x" * 2000 + b"\n")
        self.assertTrue(flood.isClosed)
        self.assertEqual(flood.received, b"")
        self.seen(network, rf"({ADDRESS}) sent a line longer than 1024 bytes")
        self.assertNotIn("xxxxxxxx", network.out)
        network.type(b"Server\n")
        self.assertAnswered(alice, "Server")


class LimitTests(ExchangeTestCase):
    def test_maxClients(self) -> None:
        """
        With --max-clients 3, of 5 connections the last 2 are closed at
        once with no data, logged once; the 3 others are answered, and then
        a new client is accepted.
        """
        network = Network(self, maxClients=3)
        peers = [network.peer() for _ in range(3)]
        refused = [network.peer() for _ in range(2)]
        for peer in refused:
            self.assertTrue(peer.isClosed)
            self.assertEqual(peer.received, b"")
        self.seen(network, r"refusing 127\.0\.0\.1:\d+: 3 clients connected, the limit")
        for peer, name in zip(peers, ["Ann", "Ben", "Cat"], strict=True):
            peer.send(f"{name}\n".encode())
            self.seen(network, rf'^"{name}" \({ADDRESS}\) is (asking for your name|waiting too)')
        self.assertEqual([peer.isClosed for peer in peers], [False, False, False])
        network.type(b"One\nTwo\nThree\n")
        self.assertEqual([peer.isClosed for peer in peers], [True, True, True])
        self.assertEqual([peer.received for peer in peers], [b"One\n", b"Two\n", b"Three\n"])
        dan = network.client("--name", "Dan")
        self.seen(network, asking("Dan"))
        network.type(b"Four\n")
        self.assertAnswered(dan, "Four")
        self.seen(network, r"refused 2 connections while over a limit")
        self.assertEqual(network.out.count("refusing"), 1, network.out)
        self.assertNoTraceback(network)

    def test_maxPerAddress(self) -> None:
        """
        With --max-per-address 2, a third connection from 127.0.0.1 is
        closed at once; the first two are answered.
        """
        network = Network(self, maxPerAddress=2)
        peers = [network.peer() for _ in range(2)]
        refused = network.peer()
        self.assertTrue(refused.isClosed)
        self.assertEqual(refused.received, b"")
        self.seen(
            network,
            r"refusing 127\.0\.0\.1:\d+: 2 connections from 127\.0\.0\.1, the limit"
            r" \(--max-per-address\)",
        )
        peers[0].send(b"Ann\n")
        self.seen(network, asking("Ann"))
        peers[1].send(b"Ben\n")
        self.seen(network, waitingToo("Ben"))
        network.type(b"One\nTwo\n")
        self.assertEqual([peer.received for peer in peers], [b"One\n", b"Two\n"])
        self.assertTrue(all(peer.isClosed for peer in peers))
        self.assertEqual(network.out.count("refusing"), 1, network.out)
        self.assertNoTraceback(network)


class StopTests(ExchangeTestCase):
    def test_stopClosesWaitingClients(self) -> None:
        """
        Stopping while clients wait: each is closed (exit status 5), said
        once; SIGTERM's part is in L{tests.test_endtoend}.
        """
        network = Network(self)
        first = network.client("--name", "Ann")
        self.seen(network, asking("Ann"))
        second = network.client("--name", "Ben")
        self.seen(network, waitingToo("Ben"))
        network.stop()
        self.assertExited(first, 5)
        self.assertExited(second, 5)
        self.assertIn("Stopping: closed 2 connections.\n", network.out)
        self.assertIn("names-server: stopped.", network.out)
        self.assertNoTraceback(network)


#: A line of the trace: connection 1, milliseconds, then the words.
ONE = r"^#1 +\d+\.\d ms  "
#: A note of connection 1 (a decision, a wait, the close): indented.
NOTE = ONE + "   "


class TraceTests(ExchangeTestCase):
    """C{--trace} and C{--trace-file} (issue 10), in memory."""

    def test_courseClientQuietPeriod(self) -> None:
        """
        A course-style client sends C{Ana} with no line ending and waits: the
        server's trace shows the chunk, the quiet-period decision, the wait
        for the operator, the reply and the close, with no colour on a pipe;
        the trace file holds its diagram.
        """
        from tests.test_trace import checkStructure

        path = os.path.abspath(self.mktemp())
        network = Network(self, trace=True, traceFile=path, quietPeriod=0.1)
        peer = network.peer()
        self.seen(network, ONE + r"connection from the client 127\.0\.0\.1:\d+ to this server")
        peer.send(b"Ana")
        self.seen(network, ONE + r'client --> server  "Ana"  3 bytes  41 6e 61$')
        network.advance(0.1)
        self.seen(
            network,
            NOTE + r"no line ending: quiet for 0\.1 s, taken as the whole message: \"Ana\"$",
        )
        self.seen(network, NOTE + r"waiting for the operator to type a reply$")
        self.seen(network, asking("Ana"))
        network.type(b"Bob\n")
        self.assertTrue(peer.isClosed)
        self.assertEqual(peer.received, b"Bob")
        self.seen(network, NOTE + r'the operator typed the reply "Bob" after \d+\.\d s$')
        self.seen(network, ONE + r'client <-- server  "Bob"  3 bytes  42 6f 62$')
        self.seen(
            network,
            NOTE
            + r"connection closed: the server sent its FIN before reading one from the client$",
        )
        self.assertNotIn("\x1b", network.out)
        network.stop()
        self.assertNoTraceback(network)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(checkStructure(self, text), 1)
        self.assertIn(
            "no line ending: quiet for 0.1 s, taken as the whole message",
            text.replace("<br>", " "),
        )

    def test_hostileBytesEscaped(self) -> None:
        """Control characters, bidi overrides and forged lines reach the terminal escaped."""
        network = Network(self, name="Bob", trace=True)
        peer = network.peer()
        peer.send(b"\x1b]0;pwned\x07\xe2\x80\xae\r\n#2     0.0 ms  forged\x00\n")
        self.assertTrue(peer.isClosed)
        self.seen(network, NOTE + r"connection closed")
        traced = [line for line in network.lines() if line.startswith("#")]
        self.assertIn(
            '"\\x1b]0;pwned\\x07\\u202e\\r\\n#2     0.0 ms  forged\\x00\\n"', "\n".join(traced)
        )
        self.assertFalse([line for line in traced if not line.startswith("#1 ")])
        self.assertFalse([c for c in network.out if isUnsafe(c) and c != "\n"])

    def test_clientTrace(self) -> None:
        """The client's trace is on stderr; stdout holds only the answer."""
        network = Network(self, name="Bob")
        client = network.client("--name", "Ana", "--trace")
        self.assertExited(client, 0)
        self.assertEqual(client.out, "Server: Bob\n")
        self.assertRegex(client.err, r'#1 +\d+\.\d ms  client --> server  "Ana\\n"  4 bytes')
        self.assertRegex(
            client.err,
            r"connection closed: the client sent its FIN before reading one from the server",
        )
        self.assertNotIn("\x1b", client.err)
