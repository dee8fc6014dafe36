"""
End-to-end tests of the server as a process: started with stdin or stdout
closed, fed from a pipe, signalled, stopped with Ctrl-Z, its terminal given
back as it was found; its logs under a connection flood at the descriptor
limit and on a file that cannot grow.

The terminal is a pipe or a pseudo-terminal the test owns: a descriptor
passed to the child is the same open file as the test's, so its file status
flags (C{O_NONBLOCK}) are read on the test's own end.  Every wait is bounded
(see L{tests.processes}).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from typing import Any
from unittest import skipIf

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater

from tests.pipes import Pipe
from tests.processes import (
    ADOPTED,
    LISTENING,
    PYTHON,
    TIMEOUT,
    TWISTD,
    TWISTD_ADOPTING,
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    heldListener,
    reactor,
    saidPort,
    spawn,
    startClient,
)
from tests.skips import NO_CHILD_FDS, NO_POSIX_SIGNALS, NO_RLIMIT
from twisted_names.logs.limit import LIMIT

#: twistd names-server with an endpoint that listens asynchronously and
#: fails a moment later (as an onion service or an ACME one may).
FAILS_LATER = """\
import errno, sys
from twisted.internet import defer, error
import twisted_names.app.tap as tap

class FailsLater:
    def __init__(self, reactor):
        self.reactor = reactor

    def listen(self, factory):
        d = defer.Deferred()
        failure = error.CannotListenError("", 0, OSError(errno.EADDRINUSE, "Address in use"))
        self.reactor.callLater(0.1, d.errback, failure)
        return d

tap.serverFromString = lambda reactor, description: FailsLater(reactor)
from twisted.scripts.twistd import run
pidfile = [] if sys.platform == "win32" else ["--pidfile="]
sys.argv = ["twistd", "-n", *pidfile, "names-server", *sys.argv[1:]]
run()
"""


class ListeningTests(ProgramTestCase):
    async def test_endpointFailingLater(self) -> None:
        """
        An endpoint that listens asynchronously is no longer refused; if it
        then fails, it is the same one line as a port in use, and exit
        status 1.
        """
        server = spawn(self, "server", [PYTHON, "-c", FAILS_LATER, "--port", "7"])
        self.assertExited(server, await server.ended, 1)
        self.assertEqual(
            server.err,
            "names-server: cannot listen on 127.0.0.1:7: the port is in use: another server"
            " listens there, or a previous one's connections are still closing (wait a"
            " minute, or choose another port with --port)\n",
        )
        self.assertIn("cannot listen: stopping", server.out)
        self.assertNoTraceback(server)


#: Log lines to C{names-server.json}, for a server whose stdout is closed.
JSON_LOG = "--logger=twisted_names.logs.jsonFile"


@skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
class ClosedStandardStreamsTests(ProgramTestCase):
    """
    Started with stdin, stdout or both closed (C{<&-}, C{>&-}), as daemons
    and CI may start it: the descriptors 0 and 1 then belong to the reactor,
    and the server must neither use them as a terminal nor crash.
    """

    async def serve(self, childFDs: dict[int, int | str], *options: str) -> WatchedProcess:
        """
        The server with C{childFDs}; one client served.  With stdout closed
        it cannot say where it listens: it adopts a listening socket of the
        test's (L{heldListener}), whose port is known before it starts.
        """
        held = heldListener(self)
        twistdOptions = [o for o in options if o.startswith("--logger")]
        serverOptions = [o for o in options if not o.startswith("--logger")]
        argv = [
            *TWISTD_ADOPTING, "-n", "--pidfile=", *twistdOptions,
            "names-server", "--endpoint", ADOPTED, *serverOptions,
        ]  # fmt: skip
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        server = spawn(self, "server", argv, path=path, childFDs={**childFDs, 3: held.fileno()})
        peer = await connectRaw(self, held.getsockname()[1])
        peer.send(b"Ann\n")
        received = await peer.whenClosed()
        if "--name" in options:
            self.assertEqual(received, b"Bob\n", server.describe())
        elif 0 in childFDs:  # The operator's line typed ahead answers.
            self.assertEqual(received, b"Typed\n", server.describe())
        else:  # No input: every client is closed unanswered, as documented.
            self.assertEqual(received, b"", server.describe())
        self.assertTrue(server.running, server.describe())
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)
        self.assertEqual(server.err, "", server.describe())
        if any(option.startswith("--logger") for option in options):
            with open(os.path.join(path, "names-server.json"), encoding="utf-8") as f:
                log = f.read()
            self.assertIn("names-server listening on", log)
            for trouble in ("Traceback", "Unhandled", "log_failure"):
                self.assertNotIn(trouble, log)
        return server

    async def test_stdinClosed(self) -> None:
        server = await self.serve({1: "r", 2: "r"})
        self.assertIn("Input closed: no more replies.", server.out)
        self.assertIn("names-server: stopped.\n", server.out)

    async def test_stdinClosedFixedName(self) -> None:
        server = await self.serve({1: "r", 2: "r"}, "--name", "Bob")
        self.assertIn("names-server: stopped.\n", server.out)

    async def test_stdoutClosed(self) -> None:
        stdin = Pipe(self)
        stdin.write(b"Typed\n")
        stdin.closeWriteEnd()
        await self.serve({0: stdin.readFd, 2: "r"}, JSON_LOG)

    async def test_stdoutClosedFixedName(self) -> None:
        await self.serve({0: "w", 2: "r"}, "--name", "Bob")

    async def test_bothClosed(self) -> None:
        await self.serve({2: "r"}, JSON_LOG)

    async def test_bothClosedFixedName(self) -> None:
        await self.serve({2: "r"}, "--name", "Bob")


#: Runs its arguments as a shell runs a job: in a process group of its own in
#: this session (so that SIGTSTP stops it, as it would not an orphaned
#: group's), saying its pid on stderr, and exiting with its status (128 + N
#: for signal N).
JOB = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.execv(sys.argv[1], sys.argv[1:])
try:
    os.setpgid(pid, pid)
except OSError:
    pass
os.write(2, b"job %d\\n" % pid)
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
"""


class PseudoTerminal:
    """
    A pseudo-terminal: the server gets its slave end as stdin and stdout,
    the test reads the master end (what the operator would see) and looks
    at the slave's flags, which are the server's too (one open file).
    """

    def __init__(self, testCase: Any) -> None:
        self.master, self.slave = os.openpty()
        os.set_blocking(self.master, False)
        testCase.addCleanup(os.close, self.master)
        testCase.addCleanup(os.close, self.slave)
        self.received = b""

    @property
    def blocking(self) -> bool:
        return os.get_blocking(self.slave)

    def setBlocking(self, blocking: bool) -> None:
        """What a shell does to the terminal it shares with its jobs."""
        os.set_blocking(self.slave, blocking)

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def drain(self) -> bytes:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            self.received += chunk
        return self.received

    async def readUntil(self, pattern: bytes) -> re.Match[bytes]:
        """Read until C{pattern} (a regular expression) was shown (bounded)."""
        regex = re.compile(pattern)
        deadline = reactor.seconds() + TIMEOUT
        while True:
            match = regex.search(self.drain())
            if match is not None:
                return match
            if reactor.seconds() > deadline:
                raise AssertionError(f"{pattern!r} not shown in {self.received[-2000:]!r}")
            await deferLater(reactor, 0.01)


async def bounded(condition: Any, what: str) -> None:
    """Wait until C{condition()} (at most L{TIMEOUT} seconds)."""
    deadline = reactor.seconds() + TIMEOUT
    while not condition():
        if reactor.seconds() > deadline:
            raise AssertionError(f"not within {TIMEOUT:g} s: {what}")
        await deferLater(reactor, 0.01)


def stopped(pid: int) -> bool:
    """Whether process C{pid} is stopped (Linux's /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")


@skipIf(NO_POSIX_SIGNALS is not None, NO_POSIX_SIGNALS or "")
class SignalTests(ProgramTestCase):
    """
    Signals to a server whose terminal is a pseudo-terminal: the terminal is
    always given back with its flags as they were, and the server never
    blocks on it.
    """

    async def startOnTerminal(
        self, *options: str
    ) -> tuple[WatchedProcess, int, PseudoTerminal, int]:
        """
        The server as a shell's job on a pseudo-terminal; return its watched
        job, its pid, the terminal, and its port once it listens.
        """
        terminal = PseudoTerminal(self)
        self.assertTrue(terminal.blocking)
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        argv = [*TWISTD, "-n", "--pidfile=", "names-server", "--port", "0", *options]
        job = spawn(
            self,
            "server",
            [PYTHON, "-c", JOB, *argv],
            path=path,
            childFDs={0: terminal.slave, 1: terminal.slave, 2: "r"},
        )
        pid = int((await job.waitFor(r"^job (\d+)$", stream="err")).group(1))

        def kill() -> None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

        self.addCleanup(kill)
        match = await terminal.readUntil(LISTENING.encode())
        await bounded(lambda: not terminal.blocking, "the server makes its terminal non-blocking")
        return job, pid, terminal, int(match[1])

    async def assertEndsBy(self, name: str) -> None:
        """C{name} ends the server as usual, its terminal given back first."""
        job, pid, terminal, _ = await self.startOnTerminal()
        number = getattr(signal, name)
        os.kill(pid, number)
        self.assertExited(job, await job.ended, 128 + number)
        self.assertTrue(terminal.blocking, "the terminal was left non-blocking")

    async def test_sigquit(self) -> None:
        await self.assertEndsBy("SIGQUIT")

    async def test_sigusr2(self) -> None:
        await self.assertEndsBy("SIGUSR2")

    async def test_sigalrm(self) -> None:
        await self.assertEndsBy("SIGALRM")

    async def test_sigusr1WithoutLogFile(self) -> None:
        """SIGUSR1 with no log file to rotate: said, and ignored."""
        job, pid, terminal, port = await self.startOnTerminal("--name", "Bob")
        os.kill(pid, signal.SIGUSR1)
        await terminal.readUntil(rb"SIGUSR1: no log file to rotate \(ignored\)")
        peer = await connectRaw(self, port)
        peer.send(b"Ann\n")
        self.assertEqual(await peer.whenClosed(), b"Bob\n")
        os.kill(pid, signal.SIGTERM)
        self.assertExited(job, await job.ended, 0)
        self.assertTrue(terminal.blocking)

    async def test_ctrlZThenFg(self) -> None:
        """
        Ctrl-Z: the terminal is given back, blocking, and the server stops;
        C{fg} after the shell made the terminal blocking: the server takes
        it again, non-blocking, and goes on with its operator.
        """
        job, pid, terminal, port = await self.startOnTerminal()
        os.kill(pid, signal.SIGTSTP)
        await bounded(lambda: stopped(pid), "stopped by SIGTSTP")
        self.assertTrue(terminal.blocking, "stopped with its terminal non-blocking")
        os.kill(pid, signal.SIGCONT)
        await bounded(lambda: not terminal.blocking, "the terminal taken again after SIGCONT")
        client = startClient(self, port, "--name", "Ann", label="Ann")
        await terminal.readUntil(rb'"Ann" \(127\.0\.0\.1:\d+\) is asking for your name\.')
        terminal.type(b"Bob\n")
        await self.assertAnswered(client, "Bob")
        os.kill(pid, signal.SIGTERM)
        self.assertExited(job, await job.ended, 0)
        self.assertTrue(terminal.blocking)

    async def assertNeverBlocks(self, terminal: PseudoTerminal, port: int) -> None:
        """
        Nobody reads the terminal (Ctrl-S, a paused pager) while 100 clients
        come and go, each logging a 1 kB line, far more than a terminal
        holds (some 15 kB): each is answered at once.  Once the terminal is
        read again, it says how many lines it could not show.
        """
        for _ in range(100):
            peer = await connectRaw(self, port)
            peer.send(b"n" * 1000 + b"\n")
            self.assertEqual(await peer.whenClosed(), b"Bob\n")
        await terminal.readUntil(rb"\(\d+ lines not shown: the output was not being read\)")

    async def test_stalledTerminalAfterStopAndContinue(self) -> None:
        """
        Stopped (SIGSTOP, which no handler sees) and continued after the
        shell made the terminal blocking: a stalled terminal does not block
        the server.
        """
        job, pid, terminal, port = await self.startOnTerminal("--name", "Bob")
        os.kill(pid, signal.SIGSTOP)
        await bounded(lambda: stopped(pid), "stopped by SIGSTOP")
        terminal.setBlocking(True)
        os.kill(pid, signal.SIGCONT)
        await self.assertNeverBlocks(terminal, port)
        os.kill(pid, signal.SIGTERM)
        self.assertExited(job, await job.ended, 0)

    async def test_stalledTerminalMadeBlockingWhileRunning(self) -> None:
        """
        The shell makes the shared terminal blocking while the server runs
        (bash does, for a job in the background): a stalled terminal still
        does not block the server.
        """
        job, pid, terminal, port = await self.startOnTerminal("--name", "Bob")
        terminal.setBlocking(True)
        await self.assertNeverBlocks(terminal, port)
        os.kill(pid, signal.SIGTERM)
        self.assertExited(job, await job.ended, 0)


#: Runs its arguments with a resource limit: C{python -c LIMITED NAME
#: VALUE argv...} (C{RLIMIT_NOFILE 64}, C{RLIMIT_FSIZE 6000}).
LIMITED = """\
import os, resource, sys
limit = getattr(resource, sys.argv[1])
resource.setrlimit(limit, (int(sys.argv[2]), int(sys.argv[2])))
os.execv(sys.argv[3], sys.argv[3:])
"""

#: A log line as twistd writes it: a time stamp, [namespace#level], text.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[[^\]]+\] ")


@skipIf(NO_RLIMIT is not None, NO_RLIMIT or "")
class LogTests(ProgramTestCase):
    """The server's logs under floods, file descriptor limits and a full disk."""

    def spawnLimited(self, limit: str, value: int, *args: str) -> WatchedProcess:
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        self.directory = path
        argv = [PYTHON, "-c", LIMITED, limit, str(value), *TWISTD, "-n", "--pidfile=", *args]
        return spawn(self, "server", argv, path=path)

    async def test_floodAtTheDescriptorLimit(self) -> None:
        """
        With 64 descriptors and --max-clients 100: a warning at start, and
        the flood of connections the system refuses is logged at most ten
        lines of each kind a second, with how many were left out.
        """
        server = self.spawnLimited(
            "RLIMIT_NOFILE", 64, "names-server", "--port", "0", "--name", "Bob",
            "--max-clients", "100",
        )  # fmt: skip
        port = await server.listeningPort()
        self.assertIn(
            "[names#warn] --max-clients 100 needs about 132 open files, but the limit is 64"
            " (ulimit -n)",
            server.out,
        )
        for _ in range(6):  # 300 connections, 50 at a time, held open.
            await gatherResults(
                [Deferred.fromCoroutine(connectRaw(self, port)) for _ in range(50)]
            )
        await server.waitFor(r"more log events like this were left out in 1 s: .*EMFILE")
        perSecond: dict[tuple[str, str], int] = {}
        for line in server.lines():
            if "EMFILE" in line and "left out" not in line:
                kind = (line[:25], re.sub(r"\(.*\)", "", line[25:]))
                perSecond[kind] = perSecond.get(kind, 0) + 1
        self.assertTrue(perSecond, server.describe())
        # A second of the limiter may straddle two of the clock's.
        self.assertLessEqual(max(perSecond.values()), 2 * LIMIT, server.describe())
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)

    async def test_fileSizeLimitThenRotation(self) -> None:
        """
        A log file that cannot grow (a full disk; here C{ulimit -f}): the
        server goes on; no line is left cut in two or glued to another; every
        exchange is either in the log or counted in a line saying how many
        could not be written, once writing works again (SIGUSR1 rotated the
        file).
        """
        server = self.spawnLimited(
            "RLIMIT_FSIZE", 6000, "--logfile=names.log", "names-server", "--port", "0",
            "--name", "Bob",
        )  # fmt: skip
        log = os.path.join(self.directory, "names.log")

        def logged() -> str:
            with open(log, encoding="utf-8") as f:
                return f.read()

        await bounded(lambda: os.path.exists(log) and "listening on" in logged(), "listening")
        port = saidPort(logged())
        assert port is not None, logged()
        for i in range(30):  # Some 17 kB of log lines: they cannot all be written.
            peer = await connectRaw(self, port)
            peer.send(b"%03d" % i + b"n" * 500 + b"\n")
            self.assertEqual(await peer.whenClosed(), b"Bob\n")
        self.assertLess(len(logged()), 6000)
        os.kill(server.transport.pid, signal.SIGUSR1)
        await bounded(lambda: os.path.exists(log + ".1"), "rotated by SIGUSR1")
        peer = await connectRaw(self, port)
        peer.send(b"after\n")
        self.assertEqual(await peer.whenClosed(), b"Bob\n")
        server.signal("TERM")
        self.assertExited(server, await server.ended, 0)
        with open(log + ".1", encoding="utf-8") as f:
            rotated = f.read()
        text = rotated + logged()
        self.assertTrue(rotated.endswith("\n"))
        for line in text.splitlines():  # Whole lines only: none cut, none glued.
            self.assertRegex(line, LOG_LINE)
        self.assertIn("'after' answered 'Bob'", logged())
        # Each exchange was either written or counted.
        exchanged = len(re.findall(r"'\d{3}n+' answered 'Bob' in ", text))
        lost = re.findall(
            r"\[names#warn\] (\d+) log events could not be written \(File too large\)$", text, re.M
        )
        self.assertTrue(lost, text)
        self.assertLess(exchanged, 30)
        self.assertEqual(exchanged + sum(map(int, lost)), 30, text)
