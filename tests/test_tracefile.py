"""
Tests for the C{--trace-file} file itself (issue 16, items 3 to 5): special
files never block and never give a traceback; each run is added to the file
under a heading with its date and time; a full disk loses whole diagrams
only, the file says how many, and writing resumes.
"""

from __future__ import annotations

import errno
import gettext
import io
import os
import sys
import time
from collections.abc import Mapping, Sequence

from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import capturedLogs
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.processes import (
    ProgramTestCase,
    WatchedProcess,
    connectRaw,
    spawnServer,
    startClient,
    startServer,
)
from tests.test_cli import CLITestCase
from tests.test_i18n import portuguese
from tests.test_trace import Traced, checkStructure, english
from twisted_names import i18n
from twisted_names.replies import FixedReply
from twisted_names.trace.events import Role
from twisted_names.trace.file import (
    APPENDING,
    CANNOT_WRITE,
    WRITING_AGAIN,
    TraceFile,
    TraceFileWriter,
    Writing,
    checkTraceFile,
    makeTracer,
    openTraceFile,
    runHeading,
)

#: 2026-03-09 08:05:07, the start of a run in these tests.
STARTED = time.struct_time((2026, 3, 9, 8, 5, 7, 0, 68, 0))


def posixOnly() -> None:
    if sys.platform == "win32" or not os.path.exists("/dev/full"):
        raise SkipTest("POSIX special files (/dev/full, FIFOs) only: Windows has none")


class FillingDisk(io.StringIO):
    """A trace file on a disk that fills and is freed again: writes fail while C{full}."""

    name = "/disk/aula.md"
    full = False

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(text)

    def close(self) -> None:
        """Kept open, to be read."""


def fileEvents(events: Sequence[Mapping[str, object]]) -> list[object]:
    """The trace file's own log events (not the exchanges') among C{events}."""
    return [e["log_format"] for e in events if str(e["log_format"]).startswith("--trace-file")]


def exchange(t: Traced) -> None:
    """One whole exchange through C{t}: its connection ends."""
    protocol, _ = t.serve(FixedReply("Bob"))
    protocol.dataReceived(b"Ana\n")
    protocol.connectionLost(Failure(ConnectionDone()))


class FullDiskTests(SynchronousTestCase):
    """Item 5: the file says where diagrams are missing, and writing resumes."""

    def setUp(self) -> None:
        english(self)

    def traced(self, disk: FillingDisk) -> Traced:
        t = Traced(Role.SERVER)
        t.traceFile = TraceFile(Role.SERVER, disk)
        t.tracer.sinks = [t.traceFile]
        return t

    def test_resumesAndSaysHowManyWereLost(self) -> None:
        disk = FillingDisk()
        t = self.traced(disk)
        exchange(t)
        disk.full = True
        with capturedLogs() as events:
            exchange(t)
            exchange(t)
            self.assertIs(t.traceFile.state, Writing.FAILING)
            disk.full = False
            exchange(t)
        self.assertIs(t.traceFile.state, Writing.WRITING)
        text = disk.getvalue()
        self.assertEqual(checkStructure(self, text), 2)
        self.assertIn(
            "\n2 connections are missing here: the file could not be written"
            " (no space left on the disk).\n\n## Connection 4\n",
            text,
        )
        self.assertEqual(fileEvents(events), [CANNOT_WRITE, WRITING_AGAIN])
        self.assertEqual(events[-1]["count"], 2)

    def test_saidAtTheEnd(self) -> None:
        """Diagrams lost just before the program stops are said when it stops."""
        disk = FillingDisk()
        t = self.traced(disk)
        disk.full = True
        exchange(t)
        disk.full = False
        t.tracer.finish()
        text = disk.getvalue()
        self.assertEqual(checkStructure(self, text), 0)
        self.assertTrue(text.startswith("# names-server trace\n"), text)
        self.assertTrue(
            text.endswith(
                "\n1 connection is missing here: the file could not be written"
                " (no space left on the disk).\n\n"
            ),
            text,
        )

    def test_headingKept(self) -> None:
        """A heading the full disk refused is written before the next diagram."""
        disk = FillingDisk()
        disk.full = True
        t = self.traced(disk)
        disk.full = False
        exchange(t)
        text = disk.getvalue()
        self.assertTrue(text.startswith("# names-server trace\n"), text)
        self.assertEqual(checkStructure(self, text), 1)

    def test_portuguese(self) -> None:
        i18n.use(portuguese())
        disk = FillingDisk()
        t = self.traced(disk)
        disk.full = True
        exchange(t)
        disk.full = False
        exchange(t)
        self.assertIn(
            "\n1 conexão está faltando aqui: não foi possível escrever no arquivo"
            " (não há mais espaço no disco).\n\n",
            disk.getvalue(),
        )

    def test_halfWrittenIsCutBack(self) -> None:
        """
        A real file that a write fills half-way is cut back to where that write
        began: the file keeps whole diagrams, and the next write starts clean.
        """
        path = self.mktemp()
        disk = {"room": 10**6}

        def write(fd: int, data: memoryview) -> int:
            if disk["room"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            count = os.write(fd, data[: disk["room"]])
            disk["room"] -= count
            return count

        file = openTraceFile(path)
        writer = TraceFileWriter(file.fd or -1, path, True, 0, write)
        t = Traced(Role.SERVER)
        t.tracer.sinks = [TraceFile(Role.SERVER, writer)]
        exchange(t)
        disk["room"] = 100  # Less than a diagram.
        exchange(t)
        disk["room"] = 10**6
        exchange(t)
        t.tracer.finish()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(checkStructure(self, text), 2)
        self.assertIn("1 connection is missing here", text)
        self.assertEqual(text.count("```mermaid"), 2)


class AppendTests(SynchronousTestCase):
    """Item 4: every run is added to the file, under a heading with its date and time."""

    def setUp(self) -> None:
        english(self)

    def runOnce(
        self, path: str, role: Role = Role.SERVER, at: time.struct_time = STARTED
    ) -> list[str]:
        """One run of a program writing C{path}: one exchange; what it said."""
        said: list[str] = []
        reactor = MemoryReactorClock()
        reactor.run()  # callWhenRunning: at once.
        tracer = makeTracer(role, reactor, None, False, path, said.append, lambda: at)
        t = Traced(role)
        t.tracer = tracer
        t.tracer.clock = t.clock
        exchange(t)
        tracer.finish()
        return said

    def test_heading(self) -> None:
        self.assertEqual(
            runHeading(Role.SERVER, STARTED, False),
            "# names-server trace, started on 2026-03-09 at 08:05:07\n\n"
            "Each connection as a Mermaid sequence diagram (times in milliseconds since the"
            " connection began).\n\n",
        )
        self.assertTrue(
            runHeading(Role.CLIENT, STARTED, True).startswith(
                "\n# names-client trace, started on 2026-03-09 at 08:05:07\n\n"
            )
        )

    def test_headingPortuguese(self) -> None:
        i18n.use(portuguese())
        self.assertTrue(
            runHeading(Role.SERVER, STARTED, False).startswith(
                "# Rastreamento do names-server, iniciado em 09/03/2026 às 08:05:07\n\n"
                "Cada conexão como um diagrama"
            )
        )

    def test_restartKeepsTheLastRun(self) -> None:
        """
        A second run (the server restarted) adds its diagrams after the
        first run's, and says so once.
        """
        path = self.mktemp()
        self.assertEqual(self.runOnce(path), [])
        with open(path, encoding="utf-8") as f:
            first = f.read()
        later = time.struct_time((2026, 3, 9, 10, 0, 0, 0, 68, 0))
        said = self.runOnce(path, at=later)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith(first))
        self.assertEqual(checkStructure(self, text), 2)
        self.assertIn("\n\n# names-server trace, started on 2026-03-09 at 10:00:00\n", text)
        self.assertEqual(
            said,
            [
                f'--trace-file: "{path}" already holds earlier diagrams'
                f" ({len(first.encode()) / 1024:.1f} KB); this run's are added at its end,"
                " under the heading of 10:00:00 (at most 4 MB)."
            ],
        )

    def test_saidInTheLogWithoutAConsole(self) -> None:
        path = self.mktemp()
        self.runOnce(path)
        with capturedLogs() as events:
            tracer = makeTracer(Role.SERVER, MemoryReactorClock(), None, False, path)
            tracer.finish()
        self.assertEqual(fileEvents(events), [APPENDING])

    def test_boundPerRun(self) -> None:
        """
        The size bound is this run's: a file that already holds more than
        it is still added to.
        """
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write("x" * 5000 + "\n")
        t = Traced(Role.SERVER)
        t.tracer.sinks = [TraceFile(Role.SERVER, openTraceFile(path), maxSize=3000)]
        exchange(t)
        t.tracer.finish()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("## Connection 1", text)
        self.assertTrue(text.startswith("x" * 5000 + "\n# names-server trace\n"))

    def test_symbolicLinkFollowed(self) -> None:
        """A symbolic link is followed, as the shell's >> does: its target is added to."""
        if not hasattr(os, "symlink") or sys.platform == "win32":
            raise SkipTest("symbolic links need a privilege on Windows")
        target = self.mktemp()
        with open(target, "w", encoding="utf-8") as f:
            f.write("# the report\n")
        link = self.mktemp()
        os.symlink(os.path.abspath(target), link)
        self.runOnce(link)
        with open(target, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("# the report\n\n# names-server trace, started on"))
        self.assertTrue(os.path.islink(link))


class SpecialFileTests(SynchronousTestCase):
    """Item 3: special files, opened without ever waiting."""

    def setUp(self) -> None:
        posixOnly()
        english(self)

    def fifo(self) -> str:
        folder = self.mktemp()
        os.mkdir(folder)
        path = os.path.join(folder, "fifo")
        os.mkfifo(path)
        return path

    def test_devices(self) -> None:
        """/dev/null and /dev/zero are written: no lock, no seek, no truncation."""
        for path in ("/dev/null", "/dev/zero"):
            checkTraceFile({"trace-file": path})
            with capturedLogs() as events:
                self.assertEqual(self.runOnce(path), [])
            self.assertEqual(fileEvents(events), [], path)

    def test_devFull(self) -> None:
        """/dev/full takes nothing: said once, the program goes on."""
        with capturedLogs() as events:
            self.runOnce("/dev/full")
        self.assertEqual(fileEvents(events), [CANNOT_WRITE])

    def runOnce(self, path: str) -> list[str]:
        said: list[str] = []
        reactor = MemoryReactorClock()
        tracer = makeTracer(Role.SERVER, reactor, None, False, path, said.append)
        t = Traced(Role.SERVER)
        t.tracer = tracer
        t.tracer.clock = t.clock
        exchange(t)
        tracer.finish()
        return said

    def test_fifoWithoutReader(self) -> None:
        """A FIFO nobody reads: refused at once (opening it would wait forever)."""
        path = self.fifo()
        with self.assertRaises(usage.UsageError) as e:
            checkTraceFile({"trace-file": path})
        self.assertEqual(
            str(e.exception),
            f'--trace-file: "{path}" is a pipe, not a file: give the name of a file',
        )

    def test_fifoWithReader(self) -> None:
        """A FIFO being read: refused too (a reader that stops would stop the program)."""
        path = self.fifo()
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, reader)
        with self.assertRaises(usage.UsageError) as e:
            openTraceFile(path)
        self.assertIn("is a pipe, not a file", str(e.exception))

    def test_stdoutOnAPipe(self) -> None:
        """C{/dev/stdout} when stdout is a pipe: the same, as a pipe."""
        if not os.path.isdir("/dev/fd"):
            raise SkipTest("no /dev/fd")
        reading, writing = os.pipe()
        self.addCleanup(os.close, reading)
        self.addCleanup(os.close, writing)
        with self.assertRaises(usage.UsageError) as e:
            openTraceFile(f"/dev/fd/{writing}")
        self.assertIn("is a pipe, not a file", str(e.exception))

    def test_portuguese(self) -> None:
        i18n.use(portuguese())
        path = self.fifo()
        with self.assertRaises(usage.UsageError) as e:
            openTraceFile(path)
        self.assertEqual(
            str(e.exception),
            f'--trace-file: "{path}" é um pipe, não um arquivo: dê o nome de um arquivo',
        )

    def test_terminal(self) -> None:
        """
        A terminal: the client writes the diagrams there (C{/dev/stdout} on a
        terminal shows them); the server refuses it, the operator's console.
        """
        from twisted_names.app.cli import ClientOptions
        from twisted_names.app.tap import Options

        controller, terminal = os.openpty()
        self.addCleanup(os.close, controller)
        self.addCleanup(os.close, terminal)
        path = os.ttyname(terminal)
        ClientOptions().parseOptions(["--trace-file", path])
        openTraceFile(path).close()
        with self.assertRaises(usage.UsageError) as e:
            Options().parseOptions(["--trace-file", path])
        self.assertEqual(
            str(e.exception),
            f'--trace-file: "{path}" is a terminal, where the diagrams would be mixed with the'
            " console; --trace shows each connection there, and --trace-file FILE keeps the"
            " diagrams",
        )
        with self.assertRaises(usage.UsageError):
            makeTracer(Role.SERVER, MemoryReactorClock(), None, False, path)

    def test_optionsRefuseAFifo(self) -> None:
        """Both programs' options refuse it, before anything starts."""
        from twisted_names.app.cli import ClientOptions
        from twisted_names.app.tap import Options

        path = self.fifo()
        for options in (Options(), ClientOptions()):
            with self.assertRaises(usage.UsageError) as e:
                options.parseOptions(["--trace-file", path])
            self.assertIn("is a pipe, not a file", str(e.exception))


class ClientSpecialFileTests(CLITestCase):
    """Item 3, the client's command line: no 'unexpected OSError', no waiting."""

    def setUp(self) -> None:
        posixOnly()
        i18n.use(gettext.NullTranslations())
        self.addCleanup(i18n.use, None)

    async def test_devices(self) -> None:
        port = await self.serve()
        for path in ("/dev/null", "/dev/zero", "/dev/full"):
            status, out, err = await self.runClient(
                "-p", str(port), "-n", "Ana", "--trace-file", path
            )
            self.assertEqual((status, out, err), (0, "Server: Bob\n", ""), path)

    async def test_fifo(self) -> None:
        folder = self.mktemp()
        os.mkdir(folder)
        path = os.path.join(folder, "fifo")
        os.mkfifo(path)
        status, _out, err = await self.runClient("-p", "1", "-n", "Ana", "--trace-file", path)
        self.assertEqual(status, 2)
        self.assertEqual(
            err.splitlines()[0],
            f'error: --trace-file: "{path}" is a pipe, not a file: give the name of a file',
        )

    async def test_appendsAndSays(self) -> None:
        port = await self.serve()
        path = self.mktemp()
        earlier = runHeading(Role.CLIENT, STARTED, False)
        with open(path, "w", encoding="utf-8") as f:
            f.write(earlier)
        status, out, err = await self.runClient("-p", str(port), "-n", "Ana", "--trace-file", path)
        self.assertEqual((status, out), (0, "Server: Bob\n"))
        self.assertRegex(
            err, r'^--trace-file: ".*" already holds earlier diagrams \(0\.2 KB\); [^\n]*\n$'
        )
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith(earlier + "\n# names-client trace, started on "))
        self.assertEqual(checkStructure(self, text), 1)


class ServerProcessTests(ProgramTestCase):
    """Item 3 and 4 with the real twistd: a FIFO, /dev/full, a restart."""

    def setUp(self) -> None:
        posixOnly()

    async def test_fifoRefusedAtOnce(self) -> None:
        """
        A FIFO nobody reads: one line and exit status 2 (it used to block
        in open() forever, before listening, deaf to Ctrl-C).
        """
        folder = os.path.abspath(self.mktemp())
        os.mkdir(folder)
        path = os.path.join(folder, "fifo")
        os.mkfifo(path)
        server = spawnServer(self, "--name", "Bob", "--trace-file", path)
        self.assertExited(server, await server.waitForEnd(), 2)
        self.assertEqual(
            server.err.splitlines()[0],
            f'twistd names-server: error: --trace-file: "{path}" is a pipe, not a file:'
            " give the name of a file",
        )
        self.assertNoTraceback(server)

    async def test_stdoutOnAPipe(self) -> None:
        """
        C{--trace-file /dev/stdout} when stdout is a pipe (here, the test's):
        one line and exit status 2 on both sides (the server gave a
        traceback from C{truncate}, the client "unexpected OSError").
        """
        server = spawnServer(self, "--name", "Bob", "--trace-file", "/dev/stdout")
        client = startClient(self, 1, "-n", "Ana", "--trace-file", "/dev/stdout")
        self.assertExited(server, await server.waitForEnd(), 2)
        self.assertExited(client, await client.ended, 2)
        said = '--trace-file: "/dev/stdout" is a pipe, not a file: give the name of a file'
        self.assertEqual(server.err.splitlines()[0], f"twistd names-server: error: {said}")
        self.assertEqual(client.err.splitlines()[0], f"error: {said}")
        self.assertNoTraceback(server, client)

    async def exchangeThenStop(self, server: WatchedProcess, port: int) -> None:
        """
        One exchange with C{server} (so its reactor runs, and with it the
        signal handlers), then SIGTERM: it stops with exit status 0.
        """
        peer = await connectRaw(self, port)
        peer.send(b"Ana\n")
        self.assertEqual(await peer.whenClosed(), b"Bob\n")
        server.signal("TERM")
        self.assertExited(server, await server.waitForEnd(), 0)
        self.assertNoTraceback(server)

    async def test_devFullAndRestart(self) -> None:
        """
        /dev/full: the server listens and answers, warned once; a restart
        with the same file keeps the first run's diagrams and says so.
        """
        server, port = await startServer(self, "--name", "Bob", "--trace-file", "/dev/full")
        await self.exchangeThenStop(server, port)
        self.assertEqual(server.out.count("--trace-file: cannot write"), 1, server.describe())
        path = os.path.abspath(self.mktemp())
        for _run in range(2):
            server, port = await startServer(self, "--name", "Bob", "--trace-file", path)
            await self.exchangeThenStop(server, port)
        self.assertIn("already holds earlier diagrams", server.out)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count("# names-server trace, started on "), 2)
        self.assertEqual(checkStructure(self, text), 2)


class ClientProcessTests(ProgramTestCase):
    """Item 5 for the real client: a trace file the disk does not take is said, once."""

    def setUp(self) -> None:
        posixOnly()

    async def test_devFull(self) -> None:
        _server, port = await startServer(self, "--name", "Bob")
        client = startClient(self, port, "-n", "Ana", "--trace-file", "/dev/full")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "Server: Bob\n")
        self.assertEqual(
            client.err,
            'names-client: warning: --trace-file: cannot write "/dev/full" (No space left on'
            " device); the connections that end meanwhile are left out, and the file will say"
            " how many once it can be written again\n",
        )


class TraceFileHelpTests(SynchronousTestCase):
    """
    What C{--help} says of C{--trace-file}, in the three programs and both
    languages: the file is added to (issue 16, item 4), as the README says;
    it said "overwritten" after the file had stopped being emptied.
    """

    def helpTexts(self) -> list[str]:
        from twisted_names.app import proxytap, tap
        from twisted_names.app.cli import ClientOptions

        programs = (tap.Options(), proxytap.Options(), ClientOptions())
        return [" ".join(str(options).split()) for options in programs]

    def test_english(self) -> None:
        self.addCleanup(i18n.use, None)
        i18n.use(gettext.NullTranslations())
        for text in self.helpTexts():
            self.assertNotIn("overwritten", text)
            self.assertIn("each run under a heading with its date and time", text)

    def test_portuguese(self) -> None:
        self.addCleanup(i18n.use, None)
        i18n.use(portuguese())
        for text in self.helpTexts():
            self.assertNotIn("sobrescrito", text)
            self.assertIn("cada execução sob um título com a data e a hora", text)


class TraceFileIsStdoutTests(SynchronousTestCase):
    """
    C{--trace-file /dev/stdout > report.md} (or the same name given to
    C{--trace-file} and to the shell's C{>}): the shell's C{>} does not
    append, so the program's own output, written at its stream's offset
    from 0, went over the diagrams (the client's C{Server: Bob} over the
    run's heading).  The trace is written through the stream's own offset:
    each write after the other's.
    """

    def setUp(self) -> None:
        posixOnly()

    def test_sharesTheStreamsOffset(self) -> None:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as stdout:  # As the shell's > opens it.
            writer = openTraceFile(path, streams=(stdout.fileno(),))
            self.addCleanup(writer.close)
            writer.write("# heading\n")
            stdout.write("Server: Bob\n")
            stdout.flush()
            writer.write("diagram\n")
            stdout.write("more\n")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "# heading\nServer: Bob\ndiagram\nmore\n")

    def test_anotherFileHasItsOwn(self) -> None:
        """A trace file that is not the stream's is opened as before (appended to)."""
        path, other = self.mktemp(), self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write("earlier\n")
        with open(other, "w", encoding="utf-8") as stdout:
            writer = openTraceFile(path, streams=(stdout.fileno(),))
            self.addCleanup(writer.close)
            self.assertEqual(writer.earlier, len("earlier\n"))
            writer.write("diagram\n")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "earlier\ndiagram\n")

    def test_realStdout(self) -> None:
        """The real C{/dev/stdout} of a process whose stdout is a file opened with C{>}."""
        import subprocess

        from tests.processes import PYTHON, childEnvironment

        path = self.mktemp()
        program = (
            "from twisted_names.trace.file import openTraceFile\n"
            "w = openTraceFile('/dev/stdout')\n"
            "w.write('# heading\\n')\n"
            "print('Server: Bob', flush=True)\n"
            "w.write('diagram\\n')\n"
        )
        with open(path, "w", encoding="utf-8") as stdout:
            subprocess.run(
                [PYTHON, "-c", program],
                stdout=stdout,
                stdin=subprocess.DEVNULL,
                env=childEnvironment(),
                timeout=60,
                check=True,
            )
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "# heading\nServer: Bob\ndiagram\n")
