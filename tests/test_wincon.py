"""
The Windows console adapter (twisted_names/console/wincon.py) on a fake console:
keys in through the reader into a real OperatorEditor and Operator, the
bytes written out, the console's modes and code pages put back exactly.
Nothing here touches Windows.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IPushProducer
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from twisted_names.console import wincon
from twisted_names.console.editor import OperatorEditor
from twisted_names.console.model import Operator
from twisted_names.console.wincon import (
    CP_UTF8,
    ENABLE_ECHO_INPUT,
    ENABLE_LINE_INPUT,
    ENABLE_PROCESSED_INPUT,
    ENABLE_PROCESSED_OUTPUT,
    ENABLE_VIRTUAL_TERMINAL_INPUT,
    ENABLE_VIRTUAL_TERMINAL_PROCESSING,
    ConsoleTerminal,
    ConsoleUnsupported,
    ConsoleWriter,
    Which,
    connectEditor,
    consoleFds,
    utf8,
)
from twisted_names.replies import ReplyQueue

#: conhost's defaults: processed, line, echo, window, mouse, insert, quick edit, extended.
DEFAULT_INPUT_MODE = 0x1F7
DEFAULT_OUTPUT_MODE = ENABLE_PROCESSED_OUTPUT | 0x2  # ENABLE_WRAP_AT_EOL_OUTPUT
LEFT = "\x1b[D"


class FakeConsole:
    """A console whose keys are queued by the test and whose output is kept."""

    def __init__(self) -> None:
        self.modes: dict[Which, int] = {"input": DEFAULT_INPUT_MODE, "output": DEFAULT_OUTPUT_MODE}
        self.codePages: dict[Which, int] = {"input": 850, "output": 437}
        self.keys: deque[str | Exception | None] = deque()
        self.written: list[str] = []
        self.columns, self.rows = 80, 24
        self.refuseVT = False

    def getMode(self, which: Which) -> int:
        return self.modes[which]

    def setMode(self, which: Which, mode: int) -> None:
        if self.refuseVT and mode & (
            ENABLE_VIRTUAL_TERMINAL_INPUT
            if which == "input"
            else ENABLE_VIRTUAL_TERMINAL_PROCESSING
        ):
            raise OSError(87, "The parameter is incorrect")
        self.modes[which] = mode

    def getCP(self, which: Which) -> int:
        return self.codePages[which]

    def setCP(self, which: Which, codePage: int) -> None:
        self.codePages[which] = codePage

    def read(self, timeout: float) -> str | None:
        if not self.keys:
            return None
        key = self.keys.popleft()
        if isinstance(key, Exception):
            raise key
        return key

    def write(self, text: str) -> None:
        self.written.append(text)

    def size(self) -> tuple[int, int]:
        return self.columns, self.rows

    def screenText(self) -> str:
        return "".join(self.written)


class Calls:
    """A fake C{reactor.callFromThread}: calls kept until L{run}."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[..., object], tuple[Any, ...]]] = []

    def __call__(self, f: Callable[..., object], *args: Any) -> None:
        self.pending.append((f, args))

    def run(self) -> None:
        while self.pending:
            f, args = self.pending.pop(0)
            f(*args)


class ConsoleTerminalTests(SynchronousTestCase):
    def test_enterAndRestore(self) -> None:
        """VT in and out, no line input, echo or Ctrl-C processing, UTF-8; restored exactly."""
        console = FakeConsole()
        terminal = ConsoleTerminal(console)
        terminal.enter()
        self.assertEqual(
            console.modes,
            {
                "input": (DEFAULT_INPUT_MODE | ENABLE_VIRTUAL_TERMINAL_INPUT)
                & ~(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT),
                "output": DEFAULT_OUTPUT_MODE | ENABLE_VIRTUAL_TERMINAL_PROCESSING,
            },
        )
        self.assertEqual(console.codePages, {"input": CP_UTF8, "output": CP_UTF8})
        terminal.restore()
        self.assertEqual(
            console.modes, {"input": DEFAULT_INPUT_MODE, "output": DEFAULT_OUTPUT_MODE}
        )
        self.assertEqual(console.codePages, {"input": 850, "output": 437})

    def test_reclaim(self) -> None:
        """After something else changed the console, reclaim takes it again."""
        console = FakeConsole()
        terminal = ConsoleTerminal(console)
        terminal.enter()
        taken = dict(console.modes), dict(console.codePages)
        console.modes["input"] = DEFAULT_INPUT_MODE
        console.codePages["output"] = 437
        terminal.reclaim()
        self.assertEqual((console.modes, console.codePages), taken)

    def test_noVT(self) -> None:
        """A console without VT sequences: a clear error, and the console left as it was."""
        console = FakeConsole()
        console.refuseVT = True
        terminal = ConsoleTerminal(console)
        e = self.assertRaises(ConsoleUnsupported, terminal.enter)
        self.assertIn("does not take VT sequences", str(e))
        self.assertEqual(
            console.modes, {"input": DEFAULT_INPUT_MODE, "output": DEFAULT_OUTPUT_MODE}
        )
        self.assertEqual(console.codePages, {"input": 850, "output": 437})


class UTF8Tests(SynchronousTestCase):
    def test_accents(self) -> None:
        self.assertEqual(utf8("", "Zoé"), ("Zoé".encode(), ""))

    def test_splitPair(self) -> None:
        """An emoji's UTF-16 pair split between two reads becomes one character."""
        pair = "😀".encode("utf-16-le").decode("utf-16-le", "surrogatepass")
        high, low = "\ud83d", "\ude00"
        data, pending = utf8("", "a" + high)
        self.assertEqual((data, pending), (b"a", high))
        self.assertEqual(utf8(pending, low + "b"), ("😀b".encode(), ""))
        self.assertEqual(pair, "😀")

    def test_loneSurrogate(self) -> None:
        """A low surrogate alone is a replacement character, not an error."""
        self.assertEqual(utf8("", "\ude00x"), ("\ufffdx".encode(), ""))


class EditorOnAFakeConsole(SynchronousTestCase):
    """The real editor and operator, fed through the reader from a fake console."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.queue = ReplyQueue(self.clock, timeout=300)
        self.console = FakeConsole()
        self.calls = Calls()
        self.interrupted = 0
        self.closed = 0
        self.editor = OperatorEditor(onInterrupt=self.interrupt)
        self.editor.onClosed = self.onClosed
        self.editor.operator = Operator(
            self.queue, self.editor, self.clock, 100, stop=lambda: None
        )
        self.threads: list[Callable[[], None]] = []
        self.transport, self.terminal = connectEditor(
            self.editor, self.console, self.calls, self.threads.append
        )

    def interrupt(self) -> None:
        self.interrupted += 1

    def onClosed(self) -> None:
        self.closed += 1

    def type(self, *keys: str | Exception | None) -> list[bool]:
        """Queue C{keys} on the console; read them all through the reader."""
        self.console.keys.extend(keys)
        steps = [self.transport.reader.step() for _ in keys]
        self.calls.run()
        self.transport.writer.flush()
        self.calls.run()
        return steps

    def test_threads(self) -> None:
        """A writer and a reader thread are started; the console is taken."""
        self.assertEqual(self.threads, [self.transport.writer.run, self.transport.reader.run])
        self.assertEqual(self.console.codePages, {"input": CP_UTF8, "output": CP_UTF8})

    def test_replyWithAccents(self) -> None:
        """A name with accents shown, a reply with accents typed and sent, as UTF-8."""
        d = self.queue.ask("Zoë", "127.0.0.1:42652")
        self.type("José", "\r")
        self.assertEqual(self.successResultOf(d), "José")
        screen = self.console.screenText()
        self.assertIn('→ "Zoë" 127.0.0.1:42652 · 1 waiting > ', screen)
        self.assertIn("José", screen)
        self.assertTrue(screen.endswith("nobody waiting > \x1b[K\r\x1b[17C"), screen[-80:])

    def test_editingKeys(self) -> None:
        """The console's VT sequences are keys: left arrow, Backspace (DEL), Ctrl-U."""
        d = self.queue.ask("Caio", "127.0.0.1:7")
        self.type("abdd", "\x7f", LEFT, "c", "\r")
        self.assertEqual(self.successResultOf(d), "abcd")
        d = self.queue.ask("Edu", "127.0.0.1:8")
        self.type("junk\x15ok\r")
        self.assertEqual(self.successResultOf(d), "ok")

    def test_emojiSplitBetweenReads(self) -> None:
        """A surrogate pair split by ReadConsoleW is one character on the line."""
        d = self.queue.ask("Caio", "127.0.0.1:7")
        self.type("a\ud83d", "\ude00", "\r")
        self.assertEqual(self.successResultOf(d), "a😀")

    def test_ctrlC(self) -> None:
        """Ctrl-C arrives as a key (processed input is off) and stops."""
        self.type("\x03")
        self.assertEqual(self.interrupted, 1)

    def test_nothingTyped(self) -> None:
        """A read that times out hands nothing on and reading goes on."""
        self.transport.writer.flush()
        written = len(self.console.written)
        self.assertEqual(self.type(None), [True])
        self.assertEqual(self.calls.pending, [])
        self.assertEqual(len(self.console.written), written)

    def test_endOfInput(self) -> None:
        """End of console input: the operator's input closes, the editor is closed once."""
        d = self.queue.ask("Caio", "127.0.0.1:7")
        self.assertEqual(self.type(""), [False])
        self.assertTrue(self.editor.ended)
        self.failureResultOf(d)
        self.assertEqual(self.closed, 1)
        self.assertFalse(self.transport.reader.step())
        self.assertFalse(self.transport.writer.flush())
        self.calls.run()
        self.assertEqual(self.closed, 1)

    def test_readError(self) -> None:
        """A console that fails to read is a lost connection, said once."""
        lost: list[Failure] = []
        protocol = self.transport.protocol
        original = protocol.connectionLost

        def spy(reason: Failure) -> None:
            lost.append(reason)
            original(reason)

        protocol.connectionLost = spy
        self.assertEqual(self.type(OSError(6, "The handle is invalid")), [False])
        self.assertEqual(len(lost), 1)
        lost[0].trap(ConnectionLost)
        self.assertIn("The handle is invalid", str(lost[0].value))
        self.assertTrue(self.editor.ended)
        self.assertEqual(self.closed, 1)

    def test_close(self) -> None:
        """Closing writes the farewell, then says closed; later keys and writes are dropped."""
        self.editor.close("names-server: stopped.")
        self.assertEqual(self.closed, 0)  # Not before the output is written.
        self.assertFalse(self.transport.writer.flush())
        self.calls.run()
        self.assertEqual(self.closed, 1)
        self.assertTrue(
            self.console.screenText().rstrip("\r\n").endswith("names-server: stopped.")
        )
        written = len(self.console.written)
        self.assertFalse(self.transport.reader.step())
        self.transport.write(b"late")
        self.transport.writer.flush()
        self.assertEqual(len(self.console.written), written)
        self.terminal.restore()
        self.assertEqual(
            self.console.modes, {"input": DEFAULT_INPUT_MODE, "output": DEFAULT_OUTPUT_MODE}
        )
        self.assertEqual(self.console.codePages, {"input": 850, "output": 437})

    def test_resize(self) -> None:
        """A resized window is seen by the reader and the line drawn for the new width."""
        self.console.columns, self.console.rows = 40, 10
        self.type(None)
        self.assertEqual((self.editor.width, self.editor.height), (40, 10))


@implementer(IPushProducer)
class Producer:
    paused = resumed = 0

    def pauseProducing(self) -> None:
        self.paused += 1

    def resumeProducing(self) -> None:
        self.resumed += 1

    def stopProducing(self) -> None:
        pass


class WriterTests(SynchronousTestCase):
    def test_bounded(self) -> None:
        """Past HIGH_WATER queued, the producer is paused; once written, resumed."""
        console, calls = FakeConsole(), Calls()
        writer = ConsoleWriter(console, calls, lambda reason: None)
        producer = Producer()
        writer.producer = producer
        writer.write(b"x" * wincon.HIGH_WATER)
        self.assertEqual(producer.paused, 0)
        writer.write(b"y")
        writer.write(b"z")
        self.assertEqual(producer.paused, 1)
        self.assertTrue(writer.flush())
        calls.run()
        self.assertEqual(producer.resumed, 1)
        self.assertEqual(console.screenText(), "x" * wincon.HIGH_WATER + "yz")

    def test_splitUTF8(self) -> None:
        """A character split between two writes is written whole."""
        console = FakeConsole()
        writer = ConsoleWriter(console, Calls(), lambda reason: None)
        writer.write("é".encode()[:1])
        writer.write("é".encode()[1:])
        writer.flush()
        self.assertEqual(console.screenText(), "é")

    def test_consoleGone(self) -> None:
        """A console that cannot be written: output dropped, closing still said."""
        console, calls = FakeConsole(), Calls()
        closed: list[Failure] = []
        writer = ConsoleWriter(console, calls, closed.append)

        def fail(text: str) -> None:
            raise OSError(232, "The pipe is being closed")

        console.write = fail  # type: ignore[method-assign]
        writer.write(b"lost")
        writer.close(Failure(ConnectionDone()))
        self.assertFalse(writer.flush())
        calls.run()
        self.assertEqual(len(closed), 1)


class ThreadTests(SynchronousTestCase):
    def test_realThreads(self) -> None:
        """
        With real threads, keys reach the editor through callFromThread, and
        closing ends both threads.
        """
        clock = task.Clock()
        replies = ReplyQueue(clock, timeout=300)
        console = FakeConsole()
        console.keys.extend(["hi", "\r"])
        fromThreads: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]] = queue.Queue()
        editor = OperatorEditor(onInterrupt=lambda: None)
        editor.operator = Operator(replies, editor, clock, 100, stop=lambda: None)
        d = replies.ask("Caio", "127.0.0.1:7")
        threads: list[threading.Thread] = []

        def start(run: Callable[[], None]) -> None:
            threads.append(wincon._daemonThread(run))

        closed: Deferred[None] = Deferred()
        editor.onClosed = lambda: closed.callback(None)
        connectEditor(editor, console, lambda f, *a: fromThreads.put((f, a)), start)
        while not d.called:
            f, args = fromThreads.get(timeout=30)
            f(*args)
        self.assertEqual(self.successResultOf(d), "hi")
        editor.close("bye")
        while not closed.called:
            f, args = fromThreads.get(timeout=30)
            f(*args)
        for thread in threads:
            thread.join(timeout=30)
            self.assertFalse(thread.is_alive())
        self.assertTrue(console.screenText().rstrip("\r\n").endswith("bye"))


class ConsoleFdsTests(SynchronousTestCase):
    def test_both(self) -> None:
        self.assertEqual(consoleFds((0, 1), lambda fd: True), (0, 1))

    def test_notBoth(self) -> None:
        """A redirected stdin or stdout (or NUL, which isatty calls a tty) gets plain lines."""
        self.assertIsNone(consoleFds((0, 1), lambda fd: fd == 0))
        self.assertIsNone(consoleFds((0, 1), lambda fd: fd == 1))
        self.assertIsNone(consoleFds((None, 1), lambda fd: True))
        self.assertIsNone(consoleFds((0, None), lambda fd: True))
