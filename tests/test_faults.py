"""
End-to-end tests of faults, transports and interoperability: the real
server under C{twistd -n} on IPv6, a UNIX socket and TLS; killed, restarted
and signalled; with an operator's stdout that is not read or is closed; with
peers written like the course's blocking scripts and with C{nc}; and flooded
past its connection limits.

As in L{tests.test_endtoend}, tests synchronise on what the server prints and
every wait is bounded (see L{tests.processes}).
"""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
from functools import cache
from typing import Any
from unittest import skipIf

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import UNIXClientEndpoint
from twisted.internet.error import ConnectError
from twisted.internet.task import deferLater
from twisted.trial.unittest import SkipTest

from tests.certs import makeCertificates
from tests.pipes import Pipe, until
from tests.processes import (
    CLIENT,
    KILLED,
    LISTENING,
    PIDFILE,
    PYTHON,
    STOPPED,
    TIMEOUT,
    TWISTD,
    ProgramTestCase,
    RawPeer,
    WatchedProcess,
    connectRaw,
    connectRawTo,
    connectRefused,
    reactor,
    spawn,
    spawnServer,
    startClient,
    startServer,
)
from tests.skips import NO_CHILD_FDS, NO_CTRL_C_TO_CHILD, NO_POSIX_SIGNALS, NO_TLS, NO_UNIX_SOCKETS

#: A client's address on 127.0.0.1 as the server shows it.
ADDRESS = r"127\.0\.0\.1:\d+"


def asking(name: str, address: str = ADDRESS) -> str:
    """The console line for the client the next line answers, on arrival."""
    return rf'^"{re.escape(name)}" \(({address})\) is asking for your name\.$'


def waitingToo(name: str, address: str = ADDRESS) -> str:
    """The console line for a client that arrives while another waits."""
    return rf'^"{re.escape(name)}" \(({address})\) is waiting too\.$'


def exchangeLogged(name: str, reply: str, address: str = ADDRESS) -> str:
    """twistd's log line for one exchange."""
    return (
        rf"\[names#info\] ({address}) {re.escape(repr(name))} answered"
        rf" {re.escape(repr(reply))} in \d+\.\d{{3}} s$"
    )


#: What the terminal says once a stdout that was not read drains.
NOT_SHOWN = r"^\((\d+) lines not shown: the output was not being read\)$"

#: What a client says when the server went away without answering.
NO_ANSWER = (
    r"^error: (.* closed the connection without answering"
    r"|the connection was lost before an answer \(.*\))$"
)


def serverArgv(*options: str) -> list[str]:
    """The server's command line, on a port the system chooses."""
    return [*TWISTD, "-n", *PIDFILE, "names-server", "--port", "0", *options]


def spawnServerWritingTo(testCase: Any, stdoutFd: int, argv: list[str]) -> WatchedProcess:
    """
    The server with stdout the test's own pipe (C{stdoutFd}, its write end):
    Twisted neither reads nor writes it, so the test decides who reads it.
    """
    return spawn(
        testCase,
        "server",
        argv,
        path=scratchDirectory(testCase),
        childFDs={0: "w", 1: stdoutFd, 2: "r"},
    )


def startEndpointClient(
    testCase: Any, endpoint: str, *options: str, label: str = "client"
) -> WatchedProcess:
    """Start C{python -m twisted_names.client --endpoint ENDPOINT OPTIONS}."""
    return spawn(testCase, label, [*CLIENT, "--endpoint", endpoint, *options])


def pipeIsFull(writeFd: int) -> bool:
    """Whether a write to the pipe C{writeFd} would block (POSIX C{select})."""
    _, writable, _ = select.select([], [writeFd], [], 0)
    return not writable


def scratchDirectory(testCase: Any) -> str:
    path = os.path.abspath(str(testCase.mktemp()))
    os.makedirs(path)
    return path


def socketPath(testCase: Any) -> str:
    """A path for a UNIX socket, in a new directory (short: a socket's path has a limit)."""
    directory = tempfile.mkdtemp()
    testCase.addCleanup(shutil.rmtree, directory, True)
    return os.path.join(directory, "names.sock")


async def connectWhenListening(testCase: Any, path: str) -> RawPeer:
    """
    Connect a raw peer to the UNIX socket C{path} as soon as something
    listens there, trying every 20 ms for at most L{TIMEOUT} seconds: for a
    server whose console cannot say that it listens.  (A path of our own,
    unlike a TCP port found free, cannot be taken by another program
    meanwhile.)
    """
    deadline = reactor.seconds() + TIMEOUT
    while True:
        try:
            return await connectRawTo(testCase, UNIXClientEndpoint(reactor, path), path)
        except ConnectError:  # No socket file yet, or not listening yet.
            if reactor.seconds() > deadline:
                raise AssertionError(f"nothing listening on {path} after {TIMEOUT:g} s") from None
            await deferLater(reactor, 0.02)


@cache
def openbsdNetcat() -> str | None:
    """C{nc}'s path if it is OpenBSD's netcat (whose C{-N} we use), else C{None}."""
    nc = shutil.which("nc")
    if nc is None:
        return None
    try:
        usage = subprocess.run([nc, "-h"], capture_output=True, timeout=5, text=True)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return nc if "OpenBSD netcat" in usage.stdout + usage.stderr else None


#: A client written like the course's: the name with no line ending, one recv.
COURSE_CLIENT = """\
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.send(b"Alice")
print(repr(s.recv(1024)))
s.close()
"""

#: The course's chat client: a line with no ending, one recv, turn after turn.
COURSE_CHAT_CLIENT = """\
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.send(b"one")
print(repr(s.recv(1024)))
s.send(b"two")
print(repr(s.recv(1024)))
s.close()
"""

#: A server written like the course's: one recv, the name with no line
#: ending, and the connection kept open until the process is killed.
COURSE_SERVER = """\
import socket, sys
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
connection, _ = server.accept()
received = connection.recv(1024)
connection.send(b"Bob")
print(repr(received), flush=True)
sys.stdin.read()
"""


class FaultTests(ProgramTestCase):
    """The programs on other transports, under faults, and with other peers."""

    async def assertNoAnswer(self, client: WatchedProcess) -> None:
        """The client exited 5 with one line saying the server went away."""
        self.assertExited(client, await client.ended, 5)
        self.assertEqual(client.out, "", client.describe())
        self.assertRegex(client.err, re.compile(NO_ANSWER + r"\n\Z", re.M))
        self.assertNoTraceback(client)

    async def stop(self, server: WatchedProcess) -> int:
        """SIGTERM the server and return its exit status."""
        server.signal("TERM")
        return await server.ended

    # Transports.

    async def test_ipv6(self):
        """
        On --interface ::1 the console says [::1]:PORT, and a client given
        --host ::1 gets the operator's answer.
        """
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError as e:
            raise SkipTest(f"cannot bind ::1 on this machine: {e}") from None
        server = spawnServer(self, "--interface", "::1")
        port = int((await server.waitFor(r"^names-server: listening on \[::1\]:(\d+)\.$"))[1])
        client = startClient(self, port, "--host", "::1", "--name", "Alice")
        await server.waitFor(asking("Alice", r"\[::1\]:\d+"))
        server.write(b"Server\n")
        await self.assertAnswered(client, "Server")
        await server.waitFor(exchangeLogged("Alice", "Server", r"\[::1\]:\d+"))
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)

    @skipIf(NO_UNIX_SOCKETS is not None, NO_UNIX_SOCKETS or "")
    async def test_unixSocket(self):
        """--endpoint unix:PATH on the server, unix:path=PATH on the client."""
        path = socketPath(self)
        server = spawnServer(self, "--endpoint", f"unix:{path}")
        await server.waitFor(rf"^names-server: listening on unix:{re.escape(path)}\.$")
        client = startEndpointClient(self, f"unix:path={path}", "--name", "Alice")
        await server.waitFor(asking("Alice", "unix"))
        server.write(b"Server\n")
        await self.assertAnswered(client, "Server")
        await server.waitFor(exchangeLogged("Alice", "Server", "unix"))
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)

    @skipIf(NO_TLS is not None, NO_TLS or "")
    async def test_tls(self):
        """
        An ssl: server says its port as a TCP one does; a client trusting
        its authority gets the answer, one trusting another exits 7 saying
        why, and the server goes on serving.
        """
        paths = makeCertificates(scratchDirectory(self))
        server, port = await startServer(
            self,
            "--endpoint",
            f"ssl:0:interface=127.0.0.1:privateKey={paths['server-key']}"
            f":certKey={paths['server']}",
        )
        await server.waitFor(rf"^names-server: listening on 127\.0\.0\.1:{port}\.$")
        stranger = startEndpointClient(
            self,
            f"tls:localhost:{port}:trustRoots={paths['other-ca-dir']}",
            "--name",
            "Mallory",
            label="stranger",
        )
        self.assertExited(stranger, await stranger.ended, 7)
        self.assertEqual(stranger.out, "", stranger.describe())
        self.assertEqual(len(stranger.lines("err")), 1, stranger.describe())
        self.assertIn("certificate verify failed", stranger.err)
        self.assertNoTraceback(stranger)
        client = startEndpointClient(
            self,
            f"tls:localhost:{port}:trustRoots={paths['ca-dir']}",
            "--name",
            "Alice",
        )
        await server.waitFor(asking("Alice"))
        server.write(b"Server\n")
        await self.assertAnswered(client, "Server")
        await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertNotIn("Mallory", server.out)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)

    # The server killed, and started again.

    async def test_killedServerRestartsOnSamePort(self):
        """
        SIGKILL while a client waits: the client exits 5 at once, no
        traceback; a server started again on the same port serves.
        """
        server, port = await startServer(self)
        alice = startClient(self, port, "--name", "Alice", label="Alice")
        await server.waitFor(asking("Alice"))
        server.signal("KILL")
        self.assertEqual(await server.ended, KILLED, server.describe())
        # At once: her own --timeout is minutes, the wait's guard seconds.
        await self.assertNoAnswer(alice)
        again = spawnServer(self, port=port)
        self.assertEqual(int((await again.waitFor(LISTENING))[1]), port, again.describe())
        bob = startClient(self, port, "--name", "Bob", label="Bob")
        await again.waitFor(asking("Bob"))
        again.write(b"Again\n")
        await self.assertAnswered(bob, "Again")
        self.assertEqual(await self.stop(again), STOPPED)
        self.assertNoTraceback(again)

    # The operator's stdout not read, or closed.

    async def startWithUnreadStdout(self) -> tuple[WatchedProcess, Pipe, int]:
        """
        Start the server with stdout a pipe of ours that Twisted does not
        read; read only its greeting, for the port.
        """
        stdout = Pipe(self)
        server = spawnServerWritingTo(self, stdout.writeFd, serverArgv())
        # Our write end stays open, to tell when the pipe is full.
        greeting = await stdout.readUntil(b"Ctrl-C: stop.\n", timeout=TIMEOUT)
        port = int(re.findall(rb"listening on 127\.0\.0\.1:(\d+)\.", greeting)[0])
        return server, stdout, port

    async def fillStdout(self, server: WatchedProcess, stdout: Pipe) -> list[str]:
        """
        Type 300 replies ahead; the server shows each back in a line of over
        1 kB, some 320 kB in all: five times what the pipe and Twisted's
        buffer hold.  Return once the pipe is full.
        """
        replies = [f"{i:03d}" + "r" * 997 for i in range(300)]
        server.write("".join(f"{reply}\n" for reply in replies).encode())
        await until(lambda: pipeIsFull(stdout.writeFd), timeout=TIMEOUT)
        stdout.closeWriteEnd()  # Reading now ends when the server's stdout closes.
        return replies

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_unreadStdoutDoesNotStopTheServer(self):
        """
        A stdout nobody reads fills up; the server goes on answering
        clients, drops what it cannot show and, once read again, says how
        many lines it dropped.
        """
        server, stdout, port = await self.startWithUnreadStdout()
        replies = await self.fillStdout(server, stdout)
        names = [f"{i}" + "n" * 999 for i in range(4)]
        clients = [
            startClient(self, port, "--name", name, label=f"client {i}")
            for i, name in enumerate(names)
        ]
        for client in clients:
            self.assertExited(client, await client.ended, 0)
            self.assertEqual(client.err, "", client.describe())
        answers = sorted(client.out for client in clients)
        self.assertEqual(answers, [f"Server: {reply}\n" for reply in replies[:4]])
        self.assertTrue(server.running, server.describe())
        output = (await stdout.readUntil(b"the output was not being read)\n")).decode()
        dropped = re.findall(NOT_SHOWN, output, re.M)
        self.assertTrue(dropped and int(dropped[0]) > 0, output[-2000:])
        kept = re.findall(
            r'^Nobody is waiting: "\d{3}r+" will answer the next client.*$', output, re.M
        )
        self.assertLess(len(kept), len(replies), "some lines were dropped")
        for line in kept:  # Lines are dropped whole, never cut.
            self.assertRegex(line, r"\(\d+ typed ahead\)\.$")
        self.assertEqual(await self.stop(server), STOPPED)
        output = stdout.drain().decode()
        self.assertIn("names-server: stopped.\n", output)
        for trouble in ("Traceback", "BlockingIOError", "Broken pipe", "EPIPE", "EAGAIN"):
            self.assertNotIn(trouble, output)
        self.assertEqual(server.err, "", server.describe())

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_sigtermWithUnreadStdout(self):
        """
        SIGTERM while stdout is full and still not read (a paused C{less},
        Ctrl-S): the server exits 0 after its flush timeout (2 s), as the
        README promises that a terminal that stops reading never blocks it.
        """
        server, stdout, _ = await self.startWithUnreadStdout()
        await self.fillStdout(server, stdout)
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_fixedNameWithUnreadStdout(self):
        """
        With --name, the log lines go to stdout: one nobody reads (C{| less},
        paused) does not stop the server answering, nor stopping.
        """
        stdout = Pipe(self)
        server = spawnServerWritingTo(self, stdout.writeFd, serverArgv("--name", "Bob"))
        port = int((await stdout.readMatch(rb"listening on 127\.0\.0\.1:(\d+)\n"))[1])

        async def exchange() -> None:
            peer = await connectRaw(self, port)
            peer.send(b"n" * 1000 + b"\n")  # Each exchange logs a line of over 1 kB.
            self.assertEqual(await peer.whenClosed(), b"Bob\n")

        # Until the pipe is full (some 64 kB: 60-odd exchanges; the server
        # writes its log in batches, so it fills when it fills), and then some.
        for _ in range(1000):
            if pipeIsFull(stdout.writeFd):
                break
            await exchange()
        else:
            self.fail("the pipe is not full after 1000 exchanges")
        for _ in range(100):  # Some 100 kB more: what Twisted buffers, and more.
            await exchange()
        self.assertTrue(pipeIsFull(stdout.writeFd))
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdoutClosedAfterStart(self):
        """
        stdout's reader gone once the server listens: it still answers from
        typed-ahead lines and the operator's lines, and exits 0 on SIGTERM.
        """
        stdout = Pipe(self)
        server = spawnServerWritingTo(self, stdout.writeFd, serverArgv())
        stdout.closeWriteEnd()
        greeting = await stdout.readUntil(b"Ctrl-C: stop.\n", timeout=TIMEOUT)
        port = int(re.findall(rb"listening on 127\.0\.0\.1:(\d+)\.", greeting)[0])
        stdout.closeReadEnd()
        server.write(b"Ahead\n")
        ann = startClient(self, port, "--name", "Ann", label="Ann")
        await self.assertAnswered(ann, "Ahead")
        ben = startClient(self, port, "--name", "Ben", label="Ben")
        server.write(b"Typed\n")
        await self.assertAnswered(ben, "Typed")
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertEqual(server.err, "", server.describe())

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdoutClosedBeforeStart(self):
        """
        stdout's reader gone before the server starts (it cannot even say
        it listens): it answers from typed-ahead lines and the operator's
        lines, and exits 0 on SIGTERM.
        """
        stdout = Pipe(self)
        stdout.closeReadEnd()
        path = socketPath(self)
        server = spawnServerWritingTo(
            self,
            stdout.writeFd,
            [*TWISTD, "-n", *PIDFILE, "names-server", "--endpoint", f"unix:{path}"],
        )
        stdout.closeWriteEnd()
        server.write(b"Ahead\n")
        peer = await connectWhenListening(self, path)
        peer.send(b"Ann\n")
        self.assertEqual(await peer.whenClosed(), b"Ahead\n")
        ben = startEndpointClient(self, f"unix:path={path}", "--name", "Ben", label="Ben")
        server.write(b"Typed\n")
        await self.assertAnswered(ben, "Typed")
        self.assertTrue(server.running, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertEqual(server.err, "", server.describe())

    # Stop signals (SIGTERM: see tests.test_endtoend).

    async def assertSignalStops(self, signal: str) -> None:
        server, port = await startServer(self)
        ann = startClient(self, port, "--name", "Ann", label="Ann")
        await server.waitFor(asking("Ann"))
        ben = startClient(self, port, "--name", "Ben", label="Ben")
        await server.waitFor(waitingToo("Ben"))
        server.signal(signal)
        self.assertExited(server, await server.ended, 0)
        await gatherResults(
            [Deferred.fromCoroutine(self.assertNoAnswer(client)) for client in (ann, ben)]
        )
        self.assertIn(f"SIG{signal}: stopping", server.out)
        self.assertIn("Stopping: closed 2 connections.\n", server.out)
        self.assertIn("names-server: stopped.\n", server.out)
        self.assertEqual(server.err, "", server.describe())
        self.assertNoTraceback(server)

    @skipIf(NO_POSIX_SIGNALS is not None, NO_POSIX_SIGNALS or "")
    async def test_sighupClosesWaitingClients(self):
        """SIGHUP with two clients waiting: each exits 5, the server 0."""
        await self.assertSignalStops("HUP")

    @skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
    async def test_sigintClosesWaitingClients(self):
        """SIGINT (Ctrl-C) with two clients waiting: each exits 5, the server 0."""
        await self.assertSignalStops("INT")

    # Peers written like the course's, with the socket module.

    async def test_courseStyleClient(self):
        """
        A client that sends its name with no line ending and reads once gets
        the operator's reply with no line ending.
        """
        server, port = await startServer(self)
        course = spawn(self, "course client", [PYTHON, "-c", COURSE_CLIENT, str(port)])
        await server.waitFor(asking("Alice"))
        server.write(b"Server\n")
        self.assertExited(course, await course.ended, 0)
        self.assertEqual(course.out, "b'Server'\n", course.describe())
        await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, course)

    async def test_courseStyleChatClient(self):
        """The course's chat client, turn after turn, answers unterminated."""
        server, port = await startServer(self, "--chat")
        course = spawn(self, "course chat", [PYTHON, "-c", COURSE_CHAT_CLIENT, str(port)])
        first = await server.waitFor(asking("one"))
        server.write(b"1\n")
        second = await server.waitFor(asking("two"))
        self.assertEqual(first[1], second[1], "one connection for both turns")
        server.write(b"2\n")
        self.assertExited(course, await course.ended, 0)
        self.assertEqual(course.out, "b'1'\nb'2'\n", course.describe())
        await server.waitFor(exchangeLogged("two", "2"))
        self.assertNotIn("left before your reply", server.out)
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server, course)

    async def test_clientAgainstCourseStyleServerScript(self):
        """
        The client against the course's server script (an unterminated
        answer, a connection never closed) prints the answer and exits 0;
        the script received the name as one line.
        """
        course = spawn(self, "course server", [PYTHON, "-c", COURSE_SERVER])
        port = int((await course.waitFor(r"^(\d+)$"))[1])
        client = startClient(self, port, "--name", "Alice")
        await self.assertAnswered(client, "Bob")
        received = await course.waitFor(r"^(b.*)$", count=1)
        self.assertEqual(received[1], "b'Alice\\n'")
        self.assertTrue(course.running, "the course's server keeps its connection")

    # nc.

    def needNetcat(self) -> str:
        nc = openbsdNetcat()
        if nc is None:
            raise SkipTest("no OpenBSD netcat (nc) on PATH")
        return nc

    async def test_netcatGetsOperatorReply(self):
        """
        C{nc HOST PORT} (no -N: it keeps its side open after its input ends,
        and exits when the server closes) gets the operator's reply.
        """
        nc = self.needNetcat()
        server, port = await startServer(self)
        client = spawn(self, "nc", [nc, "127.0.0.1", str(port)])
        client.write(b"Alice\n")
        client.closeStdin()
        await server.waitFor(asking("Alice"))
        server.write(b"Server\n")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "Server\n", client.describe())
        await server.waitFor(exchangeLogged("Alice", "Server"))
        self.assertEqual(await self.stop(server), STOPPED)

    async def test_netcatHalfClosingGetsFixedName(self):
        """With --name, even C{nc -N} (a FIN after the name) is answered."""
        nc = self.needNetcat()
        server, port = await startServer(self, "--name", "Bob")
        client = spawn(self, "nc", [nc, "-N", "127.0.0.1", str(port)])
        client.write(b"Alice\n")
        client.closeStdin()
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "Bob\n", client.describe())
        await server.waitFor(exchangeLogged("Alice", "Bob"))
        self.assertEqual(await self.stop(server), STOPPED)

    # Floods.

    async def test_maxClients(self):
        """
        With --max-clients 3, of 5 connections the last 2 are closed at
        once with no data, logged once; the 3 others are answered, and then
        a new client is accepted.
        """
        server, port = await startServer(self, "--max-clients", "3")
        # One at a time: the server accepts them in this order.
        peers = [await connectRaw(self, port) for _ in range(3)]
        for _ in range(2):
            await connectRefused(self, port)
        await server.waitFor(r"refusing 127\.0\.0\.1:\d+: 3 clients connected, the limit")
        for peer, name in zip(peers, ["Ann", "Ben", "Cat"], strict=True):
            peer.send(f"{name}\n".encode())
            await server.waitFor(rf'^"{name}" \({ADDRESS}\) is (asking for your name|waiting too)')
        self.assertEqual([peer.isClosed for peer in peers], [False, False, False])
        server.write(b"One\nTwo\nThree\n")
        self.assertEqual(
            await gatherResults([peer.whenClosed() for peer in peers]),
            [b"One\n", b"Two\n", b"Three\n"],
        )
        dan = startClient(self, port, "--name", "Dan", label="Dan")
        await server.waitFor(asking("Dan"))
        server.write(b"Four\n")
        await self.assertAnswered(dan, "Four")
        await server.waitFor(r"refused 2 connections while over a limit")
        self.assertEqual(server.out.count("refusing"), 1, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)

    async def test_maxPerAddress(self):
        """
        With --max-per-address 2, a third connection from 127.0.0.1 is
        closed at once; the first two are answered.
        """
        server, port = await startServer(self, "--max-per-address", "2")
        peers = [await connectRaw(self, port) for _ in range(2)]
        await connectRefused(self, port)
        await server.waitFor(
            r"refusing 127\.0\.0\.1:\d+: 2 connections from 127\.0\.0\.1, the limit"
            r" \(--max-per-address\)"
        )
        peers[0].send(b"Ann\n")
        await server.waitFor(asking("Ann"))
        peers[1].send(b"Ben\n")
        await server.waitFor(waitingToo("Ben"))
        server.write(b"One\nTwo\n")
        self.assertEqual(
            await gatherResults([peer.whenClosed() for peer in peers]), [b"One\n", b"Two\n"]
        )
        self.assertEqual(server.out.count("refusing"), 1, server.describe())
        self.assertEqual(await self.stop(server), STOPPED)
        self.assertNoTraceback(server)
