"""Tests for L{twisted_names.console.terminal}, on fake transports and through real pipes."""

from __future__ import annotations

import os
import select
from typing import Any
from unittest import skipIf

from twisted.internet.testing import StringTransport
from twisted.python import runtime
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from tests.pipes import TIMEOUT, Pipe, reactor, until
from tests.skips import NO_FCNTL
from twisted_names.console import terminal as terminalModule
from twisted_names.console import winstdio
from twisted_names.console.terminal import (
    MAX_INPUT_LINE,
    BlockingModeKeeper,
    Terminal,
    attachStdio,
    closeTerminal,
    startedWith,
    usableFd,
)


class Recorded:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ends = 0

    def terminal(self) -> Terminal:
        return Terminal(self.lines.append, self.end)

    def end(self) -> None:
        self.ends += 1


class TerminalTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.recorded = Recorded()
        self.terminal = self.recorded.terminal()
        self.transport = StringTransport()
        self.terminal.makeConnection(self.transport)

    def test_lines(self) -> None:
        self.terminal.dataReceived(b"Ana\r\nZo\xc3\xab\nbad \xff\n")
        self.assertEqual(self.recorded.lines, ["Ana", "Zoë", "bad \ufffd"])

    def test_show(self) -> None:
        self.terminal.show("hello")
        self.terminal.show("You: ", end="")
        self.assertEqual(self.transport.value(), b"hello\nYou: ")

    def test_pausedOutputIsDroppedAndCounted(self) -> None:
        """When stdout is not being read, lines are dropped, counted, then reported."""
        self.terminal.show("one")
        producer = self.transport.producer
        assert producer is not None
        producer.pauseProducing()
        self.terminal.show("two")
        self.terminal.show("three")
        self.assertEqual(self.terminal.dropped, 2)
        producer.resumeProducing()
        self.terminal.show("four")
        self.assertEqual(
            self.transport.value(),
            b"one\n(2 lines not shown: the output was not being read)\nfour\n",
        )

    def test_closedOutputIgnored(self) -> None:
        self.terminal.writeConnectionLost()
        self.terminal.show("nobody reads this")
        self.assertEqual(self.transport.value(), b"")
        self.terminal.dataReceived(b"still typing\n")
        self.assertEqual(self.recorded.lines, ["still typing"])

    def test_endOnce(self) -> None:
        self.terminal.readConnectionLost()
        self.terminal.readConnectionLost()
        self.terminal.connectionLost()
        self.assertEqual(self.recorded.ends, 1)

    def test_tooLongLine(self) -> None:
        """A too-long line is dropped whole, its tail too; the lines around it are read."""
        self.terminal.dataReceived(b"before\n" + b"x" * (MAX_INPUT_LINE + 2))
        self.terminal.dataReceived(b"tail of it\nAna\n")
        self.terminal.dataReceived(b"y" * (MAX_INPUT_LINE + 2) + b"\nBea\nCid\n")
        self.assertEqual(self.recorded.lines, ["before", "Ana", "Bea", "Cid"])
        self.assertEqual(self.transport.value().count(b"was ignored"), 2)
        self.assertFalse(self.transport.disconnecting)

    def test_usableFd(self) -> None:
        r, w = os.pipe()
        os.close(w)
        self.assertTrue(usableFd(r))
        os.close(r)
        self.assertFalse(usableFd(r))


@skipIf(
    runtime.platform.isWindows(),
    "Twisted's StandardIO on Windows takes no descriptors and cannot read a console"
    " (twisted#7058, twisted#2157): Windows uses the threads of ThreadedStdioTests",
)
class StandardIOTests(TestCase):
    """The terminal on C{StandardIO}, with pipes for stdin and stdout."""

    def setUp(self) -> None:
        self.stdin, self.stdout = Pipe(self), Pipe(self)
        self.recorded = Recorded()
        self.terminal = self.recorded.terminal()
        self.modes = BlockingModeKeeper((self.stdin.readFd, self.stdout.writeFd))
        os.set_blocking(self.stdin.readFd, True)
        self.stdio = attachStdio(self.terminal, self.stdin.readFd, self.stdout.writeFd, reactor)
        self.addCleanup(self.closeStdio)

    async def closeStdio(self) -> None:
        # Each test leaves nothing the pipe cannot take, so this waits for a
        # flush that always comes: the timeout only guards against a hang.
        # (Were it to expire, the pipes would be closed under StandardIO.)
        flushed = await closeTerminal(self.terminal, self.stdio, reactor, timeout=TIMEOUT)
        self.assertTrue(flushed, "StandardIO did not close")
        self.modes.restore()

    async def test_linesAndEnd(self) -> None:
        self.stdin.write(b"Ana\nBea\n")
        await until(lambda: len(self.recorded.lines) == 2)
        self.stdin.closeWriteEnd()
        await until(lambda: self.recorded.ends == 1)
        self.assertEqual(self.recorded.lines, ["Ana", "Bea"])
        self.terminal.show("still showing after stdin ended")
        await self.stdout.readUntil(b"still showing after stdin ended\n")

    async def test_slowReaderDoesNotBlockOrGrow(self) -> None:
        """
        A stdout nobody reads (C{| sleep 60}, a stopped terminal) never blocks
        and never holds more than about one buffer; what was dropped is said.
        """
        line = "x" * 99
        for _ in range(5000):
            self.terminal.show(line)
        self.assertTrue(self.terminal.outputPaused)
        self.assertGreater(self.terminal.dropped, 3000)
        writer = self.stdio._writer
        buffered = len(writer.dataBuffer) - writer.offset + writer._tempDataLen
        self.assertLess(buffered, 2 * writer.bufferSize)
        await self.stdout.readUntil(b"lines not shown: the output was not being read)\n")

    async def test_closedReaderStopsOutputOnly(self) -> None:
        """stdout's reader gone (EPIPE): showing stops, reading stdin goes on."""
        self.stdout.closeReadEnd()
        self.terminal.show("into the void")
        await until(lambda: self.terminal.outputClosed)
        self.terminal.show("no error either")
        self.stdin.write(b"Ana\n")
        await until(lambda: self.recorded.lines == ["Ana"])

    def test_blockingModeRestored(self) -> None:
        self.assertFalse(os.get_blocking(self.stdout.writeFd))
        self.modes.restore()
        self.assertTrue(os.get_blocking(self.stdout.writeFd))


class WindowsSignatureStandardIO:
    """C{StandardIO} as Windows' is: no C{stdin} or C{stdout} arguments."""

    def __init__(self, proto: Any, reactor: Any = None) -> None:
        raise AssertionError("Windows' StandardIO closes the real stdout: not to be used")


class ThreadedStdioTests(TestCase):
    """
    The terminal as Windows connects it (L{winstdio}: a thread reading
    stdin, one writing stdout), with pipes for stdin and stdout: on Linux
    by taking the Windows path, on Windows as it is.
    """

    def setUp(self) -> None:
        self.patch(terminalModule, "WINDOWS", True)
        self.patch(terminalModule, "StandardIO", WindowsSignatureStandardIO)
        self.stdin, self.stdout = Pipe(self), Pipe(self)
        os.set_blocking(self.stdin.readFd, True)
        self.recorded = Recorded()
        self.terminal = self.recorded.terminal()
        self.stdio = attachStdio(self.terminal, self.stdin.readFd, self.stdout.writeFd, reactor)
        self.addCleanup(self.closeStdio)

    async def closeStdio(self) -> None:
        flushed = await closeTerminal(self.terminal, self.stdio, reactor, timeout=TIMEOUT)
        self.assertTrue(flushed, "the threads did not close")

    async def test_linesAndEnd(self) -> None:
        """
        Bug 1 of issue 14: C{attachStdio} gave Windows' C{StandardIO} the
        C{stdin} and C{stdout} arguments it does not take (C{TypeError}).
        """
        self.assertIsInstance(self.stdio, winstdio.ThreadedStdio)
        self.stdin.write("Ana\nJoão\r\n".encode())
        await until(lambda: len(self.recorded.lines) == 2)
        self.stdin.closeWriteEnd()
        await until(lambda: self.recorded.ends == 1)
        self.assertEqual(self.recorded.lines, ["Ana", "João"])
        self.terminal.show("still showing after stdin ended: é")
        await self.stdout.readUntil("still showing after stdin ended: é\n".encode())

    async def test_stdoutStaysOpen(self) -> None:
        """Closing the terminal closes neither stdout nor stdin (twistd writes after it)."""
        self.terminal.show("last")
        flushed = await closeTerminal(self.terminal, self.stdio, reactor, timeout=TIMEOUT)
        self.assertTrue(flushed)
        self.assertTrue(usableFd(self.stdout.writeFd))
        self.assertTrue(usableFd(self.stdin.readFd))
        os.write(self.stdout.writeFd, b"after\n")
        await self.stdout.readUntil(b"last\nafter\n")

    async def test_slowReaderDoesNotBlockOrGrow(self) -> None:
        """A stdout nobody reads: the queue stays bounded, what was dropped is said."""
        line = "x" * 99
        for _ in range(5000):
            self.terminal.show(line)
        self.assertTrue(self.terminal.outputPaused)
        self.assertGreater(self.terminal.dropped, 3000)
        self.assertLess(self.stdio.writer._queued, 2 * winstdio.HIGH_WATER)
        await self.stdout.readUntil(b"lines not shown: the output was not being read)\n")

    async def test_closedReaderStopsOutputOnly(self) -> None:
        """stdout's reader gone: showing stops, reading stdin goes on."""
        self.stdout.closeReadEnd()
        self.terminal.show("into the void")
        await until(lambda: self.terminal.outputClosed)
        self.terminal.show("no error either")
        self.stdin.write(b"Ana\n")
        await until(lambda: self.recorded.lines == ["Ana"])


class FakeConsole:
    """A console as L{winstdio} reads and writes it: lines in, text out."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.written: list[str] = []

    def readLine(self) -> str:
        return self.lines.pop(0) if self.lines else ""

    def writeText(self, text: str) -> None:
        self.written.append(text)


class ConsoleStdioTests(SynchronousTestCase):
    """The console in L{winstdio}: text both ways, whatever its code page."""

    def test_writtenAsText(self) -> None:
        """
        Bug 3 of issue 14: UTF-8 bytes written to a console in the OEM code
        page showed C{João} as C{Jo├úo}; the console is given text.  A
        character split between two writes is whole.
        """
        console = FakeConsole([])
        sink = winstdio.ConsoleSink(console)
        data = "João 😀\n".encode()
        sink.write(data[:3])
        sink.write(data[3:])
        self.assertEqual("".join(console.written), "João 😀\n")

    def test_consoleChosenForTheConsoleOnly(self) -> None:
        consoles: dict[int, FakeConsole] = {}

        def console(fd: int) -> FakeConsole:
            return consoles.setdefault(fd, FakeConsole(["Zoë\r\n", "\x1a\r\n", "after"]))

        started: list[object] = []
        self.patch(winstdio, "_daemonThread", started.append)
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        recorded = Recorded()
        stdio = winstdio.attach(
            recorded.terminal(), 7, w, _Immediate(), isConsole=lambda fd: fd == 7, console=console
        )
        self.assertIsInstance(stdio.reader.source, winstdio.ConsoleSource)
        self.assertIsInstance(stdio.writer.sink, winstdio.FdSink)
        while stdio.reader.step():
            pass
        self.assertEqual((recorded.lines, recorded.ends), (["Zoë"], 1))
        self.assertEqual(len(started), 2)


class _Immediate:
    """A reactor whose C{callFromThread} calls at once (the tests' thread is the reactor's)."""

    def callFromThread(self, f: Any, *args: object) -> None:
        f(*args)


class EndOfInputTests(SynchronousTestCase):
    """The end of stdin, on a fake transport."""

    def setUp(self) -> None:
        self.recorded = Recorded()
        self.terminal = self.recorded.terminal()
        self.terminal.makeConnection(StringTransport())

    def test_lastLineWithoutLineEnding(self) -> None:
        """C{printf 'Leo\\nMia' |}: Mia is a line too, delivered before the end."""
        ends: list[list[str]] = []
        self.terminal.onEnd = lambda: ends.append(list(self.recorded.lines))
        self.terminal.dataReceived(b"Leo\nMi")
        self.terminal.dataReceived(b"a\r")
        self.terminal.readConnectionLost()
        self.assertEqual(ends, [["Leo", "Mia"]])

    def test_nothingAfterTheLastLineEnding(self) -> None:
        self.terminal.dataReceived(b"Leo\n")
        self.terminal.readConnectionLost()
        self.terminal.readConnectionLost()
        self.assertEqual((self.recorded.lines, self.recorded.ends), (["Leo"], 1))

    def test_tailOfATooLongLineIsNotALine(self) -> None:
        self.terminal.dataReceived(b"x" * (MAX_INPUT_LINE + 2))
        self.terminal.readConnectionLost()
        self.assertEqual((self.recorded.lines, self.recorded.ends), ([], 1))

    def test_closedByUsIsNotALine(self) -> None:
        """
        At shutdown we close stdin ourselves: text typed without Enter is not
        a reply.
        """
        self.terminal.dataReceived(b"half typ")
        self.terminal.connectionLost()
        self.assertEqual((self.recorded.lines, self.recorded.ends), ([], 1))


class OnDescriptor:
    """A stream on descriptor C{fd}, as far as C{fileno()} tells."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


class StartedWithTests(SynchronousTestCase):
    """L{startedWith}: is descriptor 0 or 1 still the process's own stdin or stdout?"""

    def pipe(self) -> tuple[int, int]:
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        return r, w

    def test_streamOnItsDescriptor(self) -> None:
        r, w = self.pipe()
        with open(w, "w", closefd=False) as stream:
            self.assertTrue(startedWith(w, stream))
        self.assertTrue(startedWith(r, OnDescriptor(r)))

    def test_closedAtStart(self) -> None:
        """Python found it closed as it started: whatever holds the number now is not it."""
        r, _ = self.pipe()
        self.assertFalse(startedWith(r, None))

    def test_streamElsewhere(self) -> None:
        r, w = self.pipe()
        with open(w, "w", closefd=False) as stream:
            self.assertFalse(startedWith(r, stream))

    def test_closedSince(self) -> None:
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        self.assertFalse(startedWith(w, OnDescriptor(w)))

    def test_reactorsOwnDescriptor(self) -> None:
        """An epoll descriptor (an anonymous inode) is never a terminal."""
        epoll = getattr(select, "epoll", None)
        if epoll is None:
            raise SkipTest("no epoll here")
        poller = epoll()
        self.addCleanup(poller.close)

        self.assertFalse(startedWith(poller.fileno(), OnDescriptor(poller.fileno())))


class BlockingModeKeeperTests(SynchronousTestCase):
    """Flags given back to the shell, and taken again from it."""

    def setUp(self) -> None:
        self.r, self.w = os.pipe()
        self.addCleanup(os.close, self.r)
        self.addCleanup(os.close, self.w)
        self.keeper = BlockingModeKeeper((self.r, self.w))
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)

    @skipIf(NO_FCNTL is not None, NO_FCNTL or "")
    def test_restoreThenReclaim(self) -> None:
        """Ctrl-Z gives the flags back; SIGCONT takes the terminal again."""
        self.keeper.restore()
        self.assertEqual((os.get_blocking(self.r), os.get_blocking(self.w)), (True, True))
        self.keeper.reclaim()
        self.assertEqual((os.get_blocking(self.r), os.get_blocking(self.w)), (False, False))

    @skipIf(NO_FCNTL is not None, NO_FCNTL or "")
    def test_keepNonBlocking(self) -> None:
        """A shell made stdout blocking behind our back: made non-blocking again."""
        os.set_blocking(self.w, True)
        self.keeper.keepNonBlocking(self.w)
        self.assertFalse(os.get_blocking(self.w))

    @skipIf(NO_FCNTL is not None, NO_FCNTL or "")
    def test_givenBackForGood(self) -> None:
        """Once the terminal is closed, nothing takes it again."""
        self.keeper.giveBack()
        self.assertTrue(os.get_blocking(self.w))
        self.keeper.reclaim()
        self.keeper.keepNonBlocking(self.w)
        self.keeper.restore()
        self.assertTrue(os.get_blocking(self.w))

    def test_beforeEachLine(self) -> None:
        """The terminal calls C{beforeWrite} before each line it writes."""
        calls: list[int] = []
        terminal = Terminal(lambda line: None, lambda: None)
        terminal.makeConnection(StringTransport())
        terminal.beforeWrite = lambda: calls.append(len(calls))
        terminal.show("one")
        terminal.show("two")
        self.assertEqual(calls, [0, 1])
