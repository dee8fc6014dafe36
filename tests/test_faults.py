"""
End-to-end tests of faults, transports and interoperability: the real
server under C{twistd -n} on IPv6, a UNIX socket and TLS; killed, restarted
and signalled; with an operator's stdout that is not read or is closed; with
the course's blocking server script and with C{nc}.

As in L{tests.test_endtoend}, tests synchronise on what the server prints and
every wait is bounded (see L{tests.processes}).  The limits (C{--max-clients},
C{--max-per-address}) and the course-style clients are exchanges in memory,
in L{tests.test_exchanges}.
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
from twisted.trial.unittest import SkipTest

from tests.certs import makeCertificates
from tests.pipes import Pipe, until
from tests.processes import (
    ADOPTED,
    CLIENT,
    KILLED,
    PIDFILE,
    PYTHON,
    STOPPED,
    TIMEOUT,
    TWISTD,
    TWISTD_ADOPTING,
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    heldListener,
    saidPort,
    scratchDirectory,
    spawn,
    spawnServer,
    startClient,
    startServer,
)
from tests.said import asking, exchangeLogged, waitingToo
from tests.skips import NO_CHILD_FDS, NO_CTRL_C_TO_CHILD, NO_POSIX_SIGNALS, NO_TLS, NO_UNIX_SOCKETS

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


def socketPath(testCase: Any) -> str:
    """A path for a UNIX socket, in a new directory (short: a socket's path has a limit)."""
    directory = tempfile.mkdtemp()
    testCase.addCleanup(shutil.rmtree, directory, True)
    return os.path.join(directory, "names.sock")


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
        self.assertEqual(await again.listeningPort(), port, again.describe())
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
        port = saidPort(greeting)
        assert port is not None, greeting
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
        port = saidPort((await stdout.readMatch(rb"listening on 127\.0\.0\.1:\d+\n"))[0])
        assert port is not None

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
        port = saidPort(greeting)
        assert port is not None, greeting
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
        # It listens on a socket the test holds: it cannot say where it listens.
        held = heldListener(self)
        server = spawn(
            self,
            "server",
            [*TWISTD_ADOPTING, "-n", *PIDFILE, "names-server", "--endpoint", ADOPTED],
            path=scratchDirectory(self),
            childFDs={0: "w", 1: stdout.writeFd, 2: "r", 3: held.fileno()},
        )
        stdout.closeWriteEnd()
        server.write(b"Ahead\n")
        port = held.getsockname()[1]
        peer = await connectRaw(self, port)
        peer.send(b"Ann\n")
        self.assertEqual(await peer.whenClosed(), b"Ahead\n")
        ben = startClient(self, port, "--name", "Ben", label="Ben")
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
