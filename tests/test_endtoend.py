"""
End-to-end tests: the real server under C{twistd -n}, the real client's
command line and raw TCP peers, on 127.0.0.1 and ports the system chose.

Tests synchronise on what the server prints to its operator (see
L{tests.processes}); every wait is bounded, so a broken program fails a test
instead of hanging the run.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any
from unittest import skipIf

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure

from tests.processes import (
    CHECKOUT,
    PIDFILE,
    PYTHON,
    STOPPED,
    TIMEOUT,
    TWISTD,
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    connectRefused,
    pluginRoot,
    reactor,
    spawn,
    spawnServer,
    startClient,
    startServer,
    withTimeout,
)
from tests.skips import NO_CTRL_C_TO_CHILD

#: A client's address as the server shows it.
ADDRESS = r"127\.0\.0\.1:\d+"


def asking(name: str) -> str:
    """The console line for the client the next line answers, on arrival."""
    return rf'^"{re.escape(name)}" \(({ADDRESS})\) is asking for your name\.$'


def waitingToo(name: str) -> str:
    """The console line for a client that arrives while another waits."""
    return rf'^"{re.escape(name)}" \(({ADDRESS})\) is waiting too\.$'


def sent(reply: str, name: str) -> str:
    """The console line once a typed reply went to a client."""
    return rf'^Sent "{re.escape(reply)}" to "{re.escape(name)}" \(({ADDRESS})\)\.$'


def exchangeLogged(name: str, reply: str) -> str:
    """twistd's log line for one exchange."""
    return (
        rf"\[names#info\] ({ADDRESS}) {re.escape(repr(name))} answered"
        rf" {re.escape(repr(reply))} in \d+\.\d{{3}} s$"
    )


def leftEarly(name: str) -> str:
    """The console line for a waiting client that disconnected."""
    return rf'^"{re.escape(name)}" \(({ADDRESS})\) left before your reply\.$'


def nextAnswers(name: str, waiting: int) -> str:
    """The console's status line: who the next line answers, how many wait."""
    return rf'^> Next line answers "{re.escape(name)}" \(({ADDRESS})\) \[{waiting} waiting\]$'


#: A twistd application file that says where twistd found our code.
REPORT_TAC = """\
import sys

import twisted_names
from twisted.application.service import Application, IServiceMaker
from twisted.internet import reactor
from twisted.plugin import getPlugins

makers = [m for m in getPlugins(IServiceMaker) if m.tapname == "names-server"]
plugin = sys.modules["twisted.plugins.names_server"]
print(f"package: {twisted_names.__file__}")
print(f"plugin: {plugin.__file__}")
print(f"makers: {len(makers)}, the plugin's: {makers[0] is plugin.namesServer}")
reactor.callWhenRunning(reactor.stop)
application = Application("report")
"""


class EndToEndTests(ProgramTestCase):
    """The programs as people run them."""

    async def stop(self, server: WatchedProcess) -> int:
        """SIGTERM the server and return its exit status."""
        server.signal("TERM")
        return await server.ended

    # One exchange, the operator typing the reply.

    async def test_oneExchange(self):
        """
        The operator's line answers the client, which prints it and exits 0;
        the console says it was sent, and the exchange is logged once.
        """
        server, port = await startServer(self)
        client = startClient(self, port, "--name", "Alice")
        arrived = await server.waitFor(asking("Alice"))
        address = arrived.group(1)
        await server.waitFor(nextAnswers("Alice", 1))
        server.write(b"Server\n")
        await self.assertAnswered(client, "Server")
        sentLine = await server.waitFor(sent("Server", "Alice"))
        self.assertEqual(sentLine.group(1), address)
        logged = await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertEqual(logged.group(1), address)
        self.assertEqual(len(re.findall(exchangeLogged("Alice", "Server"), server.out, re.M)), 1)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, client)

    # The line of waiting clients.

    async def test_waitingClientsAnsweredInOrder(self):
        """
        Clients that arrive while one waits wait in line; the lines typed
        answer them in the order they came.
        """
        server, port = await startServer(self)
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await server.waitFor(asking("Ann"))
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await server.waitFor(waitingToo("Ben"))
        third = startClient(self, port, "--name", "Cat", label="Cat")
        await server.waitFor(waitingToo("Cat"))
        await server.waitFor(nextAnswers("Ann", 3))
        server.write(b"One\nTwo\nThree\n")
        await gatherResults(
            [
                Deferred.fromCoroutine(self.assertAnswered(first, "One")),
                Deferred.fromCoroutine(self.assertAnswered(second, "Two")),
                Deferred.fromCoroutine(self.assertAnswered(third, "Three")),
            ]
        )
        for reply, name in [("One", "Ann"), ("Two", "Ben"), ("Three", "Cat")]:
            await server.waitFor(sent(reply, name))
            await server.waitFor(exchangeLogged(name, reply))
        await server.waitFor(r"^Nobody is waiting now\.$")
        self.assertEqual(await self.stop(server), STOPPED)

    # Clients that leave, or only finish sending.

    async def test_leaverTurnGoesToNextWaitingClient(self):
        """
        A client that disconnects while waiting is taken out of the line: the
        next line typed answers the client after it, and is not lost.
        """
        server, port = await startServer(self)
        leaver = await connectRaw(self, port)
        leaver.send(b"Alice\n")
        await server.waitFor(asking("Alice"))
        bob = startClient(self, port, "--name", "Bob", label="Bob")
        await server.waitFor(waitingToo("Bob"))
        leaver.disconnect()
        await leaver.whenClosed()
        await server.waitFor(leftEarly("Alice"))
        await server.waitFor(nextAnswers("Bob", 1))
        server.write(b"ForBob\n")
        await self.assertAnswered(bob, "ForBob")
        await server.waitFor(sent("ForBob", "Bob"))
        self.assertEqual(leaver.received, b"")
        self.assertNotIn('to "Alice"', server.out)
        self.assertEqual(await self.stop(server), STOPPED)

    async def test_lineTypedAfterLeaverIsKeptForNextClient(self):
        """
        When the only waiting client left, the next line typed is kept, said
        so, and answers the next client to arrive.
        """
        server, port = await startServer(self)
        leaver = await connectRaw(self, port)
        leaver.send(b"Alice\n")
        await server.waitFor(asking("Alice"))
        leaver.disconnect()
        await server.waitFor(leftEarly("Alice"))
        await server.waitFor(r"^Nobody is waiting now; the next line answers the next client\.$")
        server.write(b"Kept\n")
        await server.waitFor(
            r'^Nobody is waiting: "Kept" will answer the next client \(1 typed ahead\)\.$'
        )
        carol = startClient(self, port, "--name", "Carol")
        await self.assertAnswered(carol, "Kept")
        await server.waitFor(
            rf'^"Carol" \({ADDRESS}\) was answered "Kept", typed ahead \(0 more typed ahead\)\.$'
        )
        await server.waitFor(exchangeLogged("Carol", "Kept"))
        self.assertEqual(await self.stop(server), STOPPED)

    async def test_halfClosedClientLeavesTheLine(self):
        """
        A peer that closes its sending side (a FIN: what a client that quits,
        is interrupted or killed sends) while it waits is out of the line: the
        next line typed answers the client behind it.
        """
        server, port = await startServer(self)
        peer = await connectRaw(self, port)
        peer.send(b"Alice\n")
        await server.waitFor(asking("Alice"))
        bob = startClient(self, port, "--name", "Bob", label="Bob")
        await server.waitFor(waitingToo("Bob"))
        peer.finishSending()
        await server.waitFor(leftEarly("Alice"))
        self.assertEqual(await peer.whenClosed(), b"")
        server.write(b"ForBob\n")
        await self.assertAnswered(bob, "ForBob")
        self.assertEqual(await self.stop(server), STOPPED)

    @skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
    async def test_interruptedClientLeavesTheLine(self):
        """
        The client interrupted (Ctrl-C) while it waits exits with status 130,
        and the server takes it out of the line.
        """
        server, port = await startServer(self)
        alice = startClient(self, port, "--name", "Alice", label="Alice")
        await server.waitFor(asking("Alice"))
        alice.signal("INT")
        self.assertExited(alice, await alice.ended, 130)
        # Noticed when she leaves, not at a timeout: the server's are minutes.
        await server.waitFor(leftEarly("Alice"))

    async def test_timedOutClientLeavesTheLine(self):
        """
        A client that gave up waiting (--timeout, exit status 4) is out of
        the line: the next line typed answers the client after it.
        """
        server, port = await startServer(self)
        await self.clientTimesOutInLine(server, port)
        ben = startClient(self, port, "--name", "Ben", label="Ben")
        # Ben is first in line from the moment the server says so, whatever
        # an earlier try of clientTimesOutInLine left behind.
        await server.waitFor(rf'^> Next line answers "Ben" \({ADDRESS}\) \[\d+ waiting\]$')
        server.write(b"ForBen\n")
        await self.assertAnswered(ben, "ForBen")
        await server.waitFor(sent("ForBen", "Ben"))

    async def clientTimesOutInLine(self, server: WatchedProcess, port: int) -> str:
        """
        Start a client with a short --timeout and see it wait in line, time
        out (exit status 4) and be taken out of the line; return its name.

        Its --timeout counts from before it connects, so on a loaded machine
        it can run out before the name is even sent: that client never was
        in line (which the server cannot tell us), so try again with another
        name and a longer timeout.  The outcome never depends on speed, only
        how many tries it takes.
        """
        for attempt, timeout in enumerate(["0.5", "2", "8"], 1):
            name = f"Ann {attempt}"
            client = startClient(self, port, "--name", name, "--timeout", timeout, label=name)
            inLine = server.waitFor(rf'^"{name}" \({ADDRESS}\) is (asking|waiting)')
            self.assertExited(client, await client.ended, 4)
            self.assertEqual(client.out, "", client.describe())
            self.assertIn("no answer", client.err)
            try:
                await inLine
            except AssertionError:
                continue  # Its name was never sent (see above).
            await server.waitFor(leftEarly(name))
            return name
        raise AssertionError(f"no client got in line before its --timeout\n{server.describe()}")

    # Timeouts on the server's side.

    async def test_replyTimeoutClosesWaitingClient(self):
        """
        A client nobody answers within --reply-timeout is closed (exit
        status 5) and the operator told; a later line is kept, not lost.
        """
        server, port = await startServer(self, "--reply-timeout", "0.5")
        ann = startClient(self, port, "--name", "Ann")
        await server.waitFor(asking("Ann"))
        self.assertExited(ann, await ann.ended, 5)
        await server.waitFor(
            rf'^"Ann" \({ADDRESS}\) waited too long for a reply and was closed\.$'
        )
        await server.waitFor(rf"{ADDRESS} gets no reply \(no reply within 0\.5 s\); closing")
        server.write(b"Late\n")
        await server.waitFor(r'^Nobody is waiting: "Late" will answer the next client')
        self.assertEqual(await self.stop(server), STOPPED)

    async def test_nameTimeoutClosesSilentPeer(self):
        """A peer that sends nothing within --name-timeout is closed, and logged."""
        server, port = await startServer(self, "--name-timeout", "0.3")
        await connectRefused(self, port)  # Closed, with nothing sent.
        await server.waitFor(rf"{ADDRESS} sent no name within 0\.3 s; closing")
        self.assertNotIn("is asking", server.out)
        self.assertEqual(await self.stop(server), STOPPED)

    # The end of the operator's input.

    async def test_stdinClosedClosesWaitingAndLaterClients(self):
        """
        At the end of the operator's input, every waiting client is closed at
        once (exit status 5), and so is every later client; the server keeps
        running until it is told to stop.
        """
        server, port = await startServer(self)
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await server.waitFor(asking("Ann"))
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await server.waitFor(waitingToo("Ben"))
        server.closeStdin()
        await server.waitFor(r"^Input closed: no more replies\. Closed 2 waiting clients\.$")
        statuses = await gatherResults([first.ended, second.ended])
        self.assertEqual(statuses, [5, 5], first.describe() + second.describe())
        for client in (first, second):
            self.assertEqual(client.out, "", client.describe())
            self.assertIn("closed the connection without answering", client.err)

        later = startClient(self, port, "--name", "Cat", label="Cat")
        self.assertExited(later, await later.ended, 5)
        self.assertEqual(later.out, "", later.describe())
        await server.waitFor(
            rf'^"Cat" \({ADDRESS}\) was closed: no more replies \(input closed\)\.$'
        )
        self.assertTrue(server.running, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, first, second, later)

    # Lines typed ahead.

    async def test_typedAheadLinesAnswerNextClients(self):
        """
        Lines piped in before any client came answer the next clients in
        order; once they are used up (the input having ended), the next
        client is closed.
        """
        server, port = await startServer(self, stdin=b"A\nB\n", closeStdin=True)
        await server.waitFor(r"^Input closed: no more replies\. Closed 0 waiting clients\.$")
        await server.waitFor(
            r"^2 typed-ahead lines will answer the next clients; later ones will be closed\.$"
        )
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await self.assertAnswered(first, "A")
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await self.assertAnswered(second, "B")
        third = startClient(self, port, "--name", "Cat", label="Cat")
        self.assertExited(third, await third.ended, 5)
        self.assertEqual(third.out, "", third.describe())
        await server.waitFor(rf'^"Ann" \({ADDRESS}\) was answered "A", typed ahead')
        await server.waitFor(rf'^"Ben" \({ADDRESS}\) was answered "B", typed ahead')
        await server.waitFor(rf'^"Cat" \({ADDRESS}\) was closed: no more replies')
        self.assertTrue(server.running, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)

    # Line endings: the server answers the way the client wrote.

    async def test_unterminatedNameGetsUnterminatedReply(self):
        """
        A peer written like the course's client sends its name with no line
        ending and keeps the connection open: after the quiet period it is a
        name, and the reply comes back with no line ending either, then the
        server closes.
        """
        server, port = await startServer(self, "--quiet-period", "0.1")
        peer = await connectRaw(self, port)
        peer.send(b"Alice")
        await server.waitFor(asking("Alice"))
        server.write(b"Server\n")
        self.assertEqual(await peer.whenClosed(), b"Server")
        await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertEqual(await self.stop(server), STOPPED)

    async def test_crlfNameGetsCrlfReply(self):
        """A telnet-like peer ending its name with CRLF gets CRLF back."""
        server, port = await startServer(self)
        peer = await connectRaw(self, port)
        peer.send(b"Alice\r\n")
        await server.waitFor(asking("Alice"))
        server.write(b"Server\n")
        self.assertEqual(await peer.whenClosed(), b"Server\r\n")
        self.assertEqual(await self.stop(server), STOPPED)

    # The client against a server like the course's.

    async def test_clientAgainstCourseStyleServer(self):
        """
        Against a server like the course's (answers with no line ending and
        never closes), the client takes the answer after its quiet period,
        prints it and exits 0.
        """
        course = CourseServerFactory(b"Bob")
        port = await withTimeout(
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(course),
            TIMEOUT,
            "listening",
        )
        self.addCleanup(port.stopListening)
        self.addCleanup(course.abortAll)
        client = startClient(self, port.getHost().port, "--name", "Alice", "--quiet-period", "0.1")
        await self.assertAnswered(client, "Bob")
        connection = course.connections[0]
        self.assertEqual(len(course.connections), 1)
        # The client closes once it has the answer: the server does not.
        await withTimeout(connection.whenClosed(), TIMEOUT, "the client to close")
        self.assertEqual(connection.received, b"Alice\n")

    # Chat mode.

    async def test_chat(self):
        """
        In chat mode each line the client sends is answered in turn, on one
        connection; the client ends at the end of its input.
        """
        server, port = await startServer(self, "--chat")
        client = startClient(self, port, "--chat")
        client.write(b"one\ntwo\n")
        client.closeStdin()
        first = await server.waitFor(asking("one"))
        server.write(b"1\n")
        second = await server.waitFor(asking("two"))
        self.assertEqual(first.group(1), second.group(1), "one connection for both turns")
        server.write(b"2\n")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "Server: 1\nServer: 2\n", client.describe())
        self.assertEqual(client.err, "", client.describe())
        await server.waitFor(exchangeLogged("one", "1"))
        await server.waitFor(exchangeLogged("two", "2"))
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, client)

    # Stopping.

    @skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
    async def test_sigtermClosesWaitingClients(self):
        """
        SIGTERM while clients wait: each is closed (exit status 5), and the
        server stops with exit status 0 and no traceback.
        """
        server, port = await startServer(self)
        first = startClient(self, port, "--name", "Ann", label="Ann")
        await server.waitFor(asking("Ann"))
        second = startClient(self, port, "--name", "Ben", label="Ben")
        await server.waitFor(waitingToo("Ben"))
        server.signal("TERM")
        statuses = await gatherResults([first.ended, second.ended, server.ended])
        self.assertEqual(
            statuses,
            [5, 5, 0],
            "\n".join(p.describe() for p in (first, second, server)),
        )
        self.assertIn("SIGTERM: stopping", server.out)
        self.assertIn("names-server: stopped.", server.out)
        self.assertEqual(server.err, "", server.describe())
        self.assertNoTraceback(server, first, second)

    # --name: no operator.

    async def test_fixedName(self):
        """With --name, every client is answered at once, concurrently."""
        server, port = await startServer(self, "--name", "Bob")
        clients = [
            startClient(self, port, "--name", name, label=name) for name in ("Ann", "Ben", "Cat")
        ]
        await gatherResults(
            [Deferred.fromCoroutine(self.assertAnswered(c, "Bob")) for c in clients]
        )
        for name in ("Ann", "Ben", "Cat"):
            await server.waitFor(exchangeLogged(name, "Bob"))
        self.assertNotIn("is asking", server.out)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)

    async def test_clientReadsNameFromStdin(self):
        """Without --name and with stdin not a terminal, the client reads one line."""
        server, port = await startServer(self, "--name", "Bob")
        client = startClient(self, port)
        client.write(b"Zed\n")
        client.closeStdin()
        await self.assertAnswered(client, "Bob")
        await server.waitFor(exchangeLogged("Zed", "Bob"))
        empty = startClient(self, port, label="empty")
        empty.closeStdin()
        self.assertExited(empty, await empty.ended, 2)
        self.assertIn("no name", empty.err)
        self.assertEqual(await self.stop(server), STOPPED)

    # Errors: one line, an exit status, no traceback.

    async def test_portInUse(self):
        """A port in use: one line on stderr saying so, exit status 1."""
        taken = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)
        number = taken.getHost().port
        server = spawnServer(self, port=number)
        status = await server.ended
        self.assertNotEqual(status, 0, server.describe())
        self.assertEqual(status, 1, server.describe())
        lines = server.lines("err")
        self.assertEqual(len(lines), 1, server.describe())
        self.assertIn("cannot listen", lines[0])
        self.assertIn(str(number), lines[0])
        self.assertIn("the port is in use", lines[0])
        self.assertNoTraceback(server)

    async def test_badOption(self):
        """A bad option value: one error line naming it, exit status 2."""
        server = spawn(
            self, "server", [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "banana"]
        )
        status = await server.ended
        self.assertNotEqual(status, 0, server.describe())
        self.assertEqual(status, 2, server.describe())
        errors = [line for line in server.lines("err") if "error" in line]
        self.assertEqual(len(errors), 1, server.describe())
        self.assertIn("--port", errors[0])
        self.assertIn("banana", errors[0])
        self.assertEqual(server.out, "", server.describe())
        self.assertNoTraceback(server)

    async def test_badEndpoint(self):
        """An endpoint string of no known kind: one error line, exit status 2."""
        server = spawn(
            self, "server", [*TWISTD, "-n", *PIDFILE, "names-server", "--endpoint", "banana:1"]
        )
        self.assertExited(server, await server.ended, 2)
        errors = [line for line in server.lines("err") if "error" in line]
        self.assertEqual(len(errors), 1, server.describe())
        self.assertIn("bad endpoint 'banana:1'", errors[0])
        self.assertNoTraceback(server)

    async def test_clientConnectionRefused(self):
        """Nothing listening: exit status 3, and the message says refused."""
        # A port bound but not listening refuses connections, and stays ours
        # until the test ends: no other program can start listening there.
        bound = socket.socket()
        self.addCleanup(bound.close)
        bound.bind(("127.0.0.1", 0))
        number = bound.getsockname()[1]
        client = startClient(self, number, "--name", "Alice")
        self.assertExited(client, await client.ended, 3)
        self.assertEqual(client.out, "", client.describe())
        self.assertIn("refused", client.err)
        self.assertEqual(len(client.lines("err")), 1, client.describe())
        self.assertNoTraceback(client)

    async def test_clientEmptyName(self):
        """An empty --name is a usage error: exit status 2, nothing sent."""
        client = startClient(self, 1, "--name", "")
        self.assertExited(client, await client.ended, 2)
        self.assertEqual(client.out, "", client.describe())
        self.assertIn("empty", client.err)
        self.assertNoTraceback(client)

    # The plugin.

    async def test_twistdListsPlugin(self):
        """C{twistd --help} lists names-server, so it can be run at all."""
        twistd = spawn(self, "twistd", [*TWISTD, "--help"])
        self.assertExited(twistd, await twistd.ended, 0)
        self.assertRegex(twistd.out, r"(?m)^\s+names-server\s")

    async def test_processesRunTheCheckout(self):
        """
        twistd and the client's interpreter import this checkout's
        C{twisted_names}, and twistd loads this checkout's plugin, even when
        another copy is installed: a test never passes on stale code.
        """
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        with open(os.path.join(directory, "report.tac"), "w") as tac:
            tac.write(REPORT_TAC)
        twistd = spawn(self, "twistd", [*TWISTD, "-n", *PIDFILE, "-y", "report.tac"], directory)
        self.assertExited(twistd, await twistd.ended, 0)
        package = os.path.join(CHECKOUT, "twisted_names", "__init__.py")
        self.assertIn(f"package: {package}\n", twistd.out, twistd.describe())
        plugin = os.path.join(pluginRoot(), "twisted", "plugins", "names_server.py")
        self.assertIn(f"plugin: {plugin}\n", twistd.out, twistd.describe())
        self.assertIn("makers: 1, the plugin's: True\n", twistd.out, twistd.describe())
        with (
            open(plugin, "rb") as linked,
            open(os.path.join(CHECKOUT, "twisted_plugins", "names_server.py"), "rb") as original,
        ):
            self.assertEqual(linked.read(), original.read())

        # The client: python -m twisted_names.client, from the same directory.
        client = spawn(
            self, "client", [PYTHON, "-c", "import twisted_names; print(twisted_names.__file__)"]
        )
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, f"{package}\n", client.describe())

    # Hostile peers.

    async def test_oversizedLineClosesOnlyThatConnection(self):
        """
        A line longer than --max-length closes that connection with no
        reply, and is logged; a client waiting at the same time is answered.
        """
        server, port = await startServer(self)
        alice = startClient(self, port, "--name", "Alice", label="Alice")
        await server.waitFor(asking("Alice"))
        flood = await connectRaw(self, port)
        flood.send(b"x" * 2000 + b"\n")
        self.assertEqual(await flood.whenClosed(), b"")
        await server.waitFor(rf"({ADDRESS}) sent a line longer than 1024 bytes")
        self.assertNotIn("xxxxxxxx", server.out)
        server.write(b"Server\n")
        await self.assertAnswered(alice, "Server")
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, alice)


class CourseConnection(Protocol):
    """
    One connection to L{CourseServerFactory}: like the course's server, it
    answers the first bytes received with its name, unterminated, and never
    closes.
    """

    factory: CourseServerFactory
    transport: Any  # a TCP transport, once connected

    def __init__(self) -> None:
        self.received = b""
        self.isClosed = False
        self._closed: list[Deferred[None]] = []

    def connectionMade(self) -> None:
        self.factory.connections.append(self)

    def dataReceived(self, data: bytes) -> None:
        if not self.received:
            self.transport.write(self.factory.name)
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.isClosed = True
        closed, self._closed = self._closed, []
        for d in closed:
            d.callback(None)

    def whenClosed(self) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        if self.isClosed:
            d.callback(None)
        else:
            self._closed.append(d)
        return d


class CourseServerFactory(Factory[CourseConnection]):
    """A server like the course's C{Servidor.py}, in the test's process."""

    noisy = False

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.connections: list[CourseConnection] = []

    protocol = CourseConnection

    def abortAll(self) -> Deferred[list[None]]:
        """Drop every connection still open; fire once all are gone."""
        waits = []
        for connection in self.connections:
            if not connection.isClosed:
                waits.append(connection.whenClosed())
                connection.transport.abortConnection()
        return gatherResults(waits)
