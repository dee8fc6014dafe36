"""
The Windows console for the operator's editor: the thin adapter that
C{rawtty} is on POSIX (docs/design.md, "Windows").

C{twisted.internet.stdio.StandardIO} cannot serve a console on Windows (its
pipe reader's C{PeekNamedPipe} fails on a console handle and is taken as end
of input: twisted#2157, twisted#7058).  Instead the console is asked for the
same VT key sequences a POSIX terminal sends (C{ENABLE_VIRTUAL_TERMINAL_INPUT},
line input, echo and Ctrl-C processing off) and to interpret the same VT
output (C{ENABLE_VIRTUAL_TERMINAL_PROCESSING}), so that the one
L{OperatorEditor} behind C{insults.ServerProtocol} serves both.

Two threads do the blocking console calls, so that the reactor never waits
on the console (a selection in a QuickEdit console stops its output):

  - L{ConsoleReader}: C{ReadConsoleW}, chosen over C{msvcrt.getwch} because
    C{getwch} reads key events itself and gives arrows and Delete as
    C{"\\xe0"}-prefixed scan codes, not the console's VT sequences; the
    UTF-16 text read is handed to the reactor as UTF-8 bytes with
    C{reactor.callFromThread(protocol.dataReceived, data)};
  - L{ConsoleWriter}: C{WriteConsoleW}, fed by L{ConsoleTransport}, its
    buffer bounded (the editor is paused past L{HIGH_WATER}).

All Windows calls go through the small L{Console} interface, so that
everything here runs on Linux against a fake console (tests/test_wincon.py);
only L{WindowsConsole} (ctypes, defined on win32 only) touches Windows.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IPushProducer
from twisted.python.failure import Failure

from twisted_names.console.editor import KeepScreenServerProtocol, OperatorEditor
from twisted_names.i18n import _

Which = Literal["input", "output"]

# Console modes (wincon.h).
ENABLE_PROCESSED_INPUT = 0x0001
ENABLE_LINE_INPUT = 0x0002
ENABLE_ECHO_INPUT = 0x0004
ENABLE_VIRTUAL_TERMINAL_INPUT = 0x0200
ENABLE_PROCESSED_OUTPUT = 0x0001
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004
#: UTF-8, the code page set while the console is ours.
CP_UTF8 = 65001

#: How long a read waits before the reader looks whether it should stop.
POLL_SECONDS = 0.1
#: Characters buffered for the console before the editor is paused ...
HIGH_WATER = 64 * 1024
#: ... and below which it is resumed.
LOW_WATER = 16 * 1024


class Console(Protocol):
    """
    What the adapter needs of a Windows console: L{WindowsConsole} on
    Windows, a fake in the tests.
    """

    def getMode(self, which: Which) -> int:
        """C{GetConsoleMode} of the input or output handle."""

    def setMode(self, which: Which, mode: int) -> None:
        """C{SetConsoleMode}; raises C{OSError} if the console refuses it."""

    def getCP(self, which: Which) -> int:
        """C{GetConsoleCP} (input) or C{GetConsoleOutputCP} (output)."""

    def setCP(self, which: Which, codePage: int) -> None:
        """C{SetConsoleCP} or C{SetConsoleOutputCP}."""

    def read(self, timeout: float) -> str | None:
        """
        Typed text, waiting at most C{timeout} seconds: C{None} if nothing
        came, C{""} at the end of input; C{OSError} if the console fails.
        """

    def write(self, text: str) -> None:
        """Write all of C{text} (it may block, as a console does)."""

    def size(self) -> tuple[int, int]:
        """The window's columns and rows."""


class ConsoleUnsupported(OSError):
    """The console does not take VT sequences (before Windows 10 1511)."""


class ConsoleTerminal:
    """
    The console's modes and code pages as they were, and the means to put
    them back: the Windows counterpart of L{twisted_names.console.rawtty.RawTerminal}
    (C{restore}, C{reclaim}) for the process service.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.saved = (
            console.getMode("input"),
            console.getMode("output"),
            console.getCP("input"),
            console.getCP("output"),
        )

    def enter(self) -> None:
        """VT keys in (no line input, echo or Ctrl-C processing), VT out, UTF-8."""
        inMode, outMode, _inCP, _outCP = self.saved
        c = self.console
        try:
            c.setMode(
                "input",
                (inMode | ENABLE_VIRTUAL_TERMINAL_INPUT)
                & ~(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT),
            )
            c.setMode(
                "output",
                outMode | ENABLE_PROCESSED_OUTPUT | ENABLE_VIRTUAL_TERMINAL_PROCESSING,
            )
        except OSError as e:
            self.restore()
            raise ConsoleUnsupported(
                _(
                    "this console does not take VT sequences (Windows 10 or later needed): {error}"
                ).format(error=e)
            ) from e
        c.setCP("input", CP_UTF8)
        c.setCP("output", CP_UTF8)

    def restore(self) -> None:
        """The console as it was when this object was made."""
        inMode, outMode, inCP, outCP = self.saved
        c = self.console
        with contextlib.suppress(OSError):
            c.setMode("input", inMode)
        with contextlib.suppress(OSError):
            c.setMode("output", outMode)
        with contextlib.suppress(OSError):
            c.setCP("input", inCP)
        with contextlib.suppress(OSError):
            c.setCP("output", outCP)

    def reclaim(self) -> None:
        """Take the console again as the editor needs it."""
        with contextlib.suppress(OSError):
            self.enter()


def utf8(pending: str, text: str) -> tuple[bytes, str]:
    """
    C{pending + text} as UTF-8, but for a last high surrogate, kept (as the
    second value) for the next read: C{ReadConsoleW} may split an emoji's
    UTF-16 pair between two reads.  A lone surrogate becomes U+FFFD.
    """
    text = pending + text
    keep = ""
    if text and "\ud800" <= text[-1] <= "\udbff":
        text, keep = text[:-1], text[-1]
    fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return fixed.encode("utf-8"), keep


class ConsoleReader:
    """
    Reads the console in its own thread and hands what was typed to the
    reactor's thread: C{onData(bytes)}, C{onResize(columns, rows)} when the
    window's size changes, and once C{onEnd(Failure)} at the end of input or
    on an error.

    L{step} is one read, so that the tests drive it without a thread.
    """

    def __init__(
        self,
        console: Console,
        callFromThread: Callable[..., object],
        onData: Callable[[bytes], object],
        onEnd: Callable[[Failure], object],
        onResize: Callable[[int, int], object],
    ) -> None:
        self.console = console
        self.callFromThread = callFromThread
        self.onData, self.onEnd, self.onResize = onData, onEnd, onResize
        self._stopping = threading.Event()
        self._pending = ""
        self._size = console.size()

    def stop(self) -> None:
        """Read no more: the thread ends within L{POLL_SECONDS}; nothing more is handed on."""
        self._stopping.set()

    def step(self) -> bool:
        """Read once and hand on what came; C{False} once reading is over."""
        if self._stopping.is_set():
            return False
        try:
            text = self.console.read(POLL_SECONDS)
            size = self.console.size()
        except OSError as e:
            return self._end(ConnectionLost(f"the console could not be read: {e}"))
        if self._stopping.is_set():
            return False
        if size != self._size:
            self._size = size
            self.callFromThread(self.onResize, *size)
        if text is None:
            return True
        if text == "":
            return self._end(ConnectionDone("end of console input"))
        data, self._pending = utf8(self._pending, text)
        if data:
            self.callFromThread(self.onData, data)
        return True

    def _end(self, reason: Exception) -> bool:
        self._stopping.set()
        self.callFromThread(self.onEnd, Failure(reason))
        return False

    def run(self) -> None:
        """The thread's loop."""
        while self.step():
            pass


class ConsoleWriter:
    """
    Writes to the console in its own thread what the reactor's thread
    queued (L{write}); at L{close}, once all is written, C{onClosed()} is
    called in the reactor's thread.  A producer (the editor) is paused while
    more than L{HIGH_WATER} characters wait, and resumed below L{LOW_WATER}.

    L{flush} writes what is queued, so that the tests drive it without a thread.
    """

    producer: IPushProducer | None = None

    def __init__(
        self,
        console: Console,
        callFromThread: Callable[..., object],
        onClosed: Callable[[Failure], object],
    ) -> None:
        self.console = console
        self.callFromThread = callFromThread
        self.onClosed = onClosed
        self._chunks: deque[str] = deque()
        self._queued = 0
        self._paused = False
        self._closing: Failure | None = None
        self._done = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._ready = threading.Condition()

    def write(self, data: bytes) -> None:
        """Queue C{data} (UTF-8) for the console; reactor thread."""
        text = self._decoder.decode(data)
        if not text or self._closing is not None:
            return
        with self._ready:
            self._chunks.append(text)
            self._queued += len(text)
            pause = self._queued > HIGH_WATER and not self._paused
            self._paused = self._paused or pause
            self._ready.notify()
        if pause and self.producer is not None:
            self.producer.pauseProducing()

    def close(self, reason: Failure) -> None:
        """Write what is queued, then say C{onClosed(reason)}; reactor thread."""
        with self._ready:
            if self._closing is None:
                self._closing = reason
            self._ready.notify()

    def flush(self) -> bool:
        """Write everything queued; C{False} once closed and all written."""
        while True:
            with self._ready:
                if not self._chunks:
                    break
                text = self._chunks.popleft()
            # A console gone: what is left is dropped, as output to a closed tty.
            with contextlib.suppress(OSError):
                self.console.write(text)
            with self._ready:
                self._queued -= len(text)
                resume = self._paused and self._queued < LOW_WATER
                if resume:
                    self._paused = False
            if resume:
                self.callFromThread(self._resume)
        with self._ready:
            reason = self._closing
            if reason is None or self._chunks or self._done:
                return not self._done
            self._done = True
        self.callFromThread(self.onClosed, reason)
        return False

    def _resume(self) -> None:
        if self.producer is not None:
            self.producer.resumeProducing()

    def run(self) -> None:
        """The thread's loop."""
        while True:
            with self._ready:
                while not self._chunks and self._closing is None:
                    self._ready.wait()
            if not self.flush():
                return


class _ConsoleAddress:
    """The address of the other end: the person at the console."""


class ConsoleTransport:
    """
    The transport C{insults.ServerProtocol} writes to and closes: output
    through the L{ConsoleWriter}, input from the L{ConsoleReader}, and the
    protocol's C{connectionLost} once, after all output is written.
    """

    disconnecting = False

    def __init__(
        self,
        protocol: Any,
        console: Console,
        callFromThread: Callable[..., object],
    ) -> None:
        self.protocol = protocol
        self.writer = ConsoleWriter(console, callFromThread, self._closed)
        self.reader = ConsoleReader(
            console, callFromThread, self._received, self._inputEnded, self._resized
        )
        self._lost = False
        #: Called with the new columns and rows when the window is resized.
        self.onResize: Callable[[int, int], object] | None = None

    def _received(self, data: bytes) -> None:
        if not self._lost:
            self.protocol.dataReceived(data)

    def _inputEnded(self, reason: Failure) -> None:
        self.loseConnection(reason)

    def _resized(self, columns: int, rows: int) -> None:
        if self.onResize is not None and not self._lost:
            self.onResize(columns, rows)

    def _closed(self, reason: Failure) -> None:
        if self._lost:
            return
        self._lost = True
        self.protocol.connectionLost(reason)

    def write(self, data: bytes) -> None:
        if not self.disconnecting:
            self.writer.write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self, reason: Failure | None = None) -> None:
        """Stop reading; write what is queued; then C{connectionLost}."""
        if self.disconnecting:
            return
        self.disconnecting = True
        self.reader.stop()
        self.writer.close(reason or Failure(ConnectionDone("the console was closed")))

    def getPeer(self) -> _ConsoleAddress:
        return _ConsoleAddress()

    def getHost(self) -> _ConsoleAddress:
        return _ConsoleAddress()

    def registerProducer(self, producer: IPushProducer, streaming: bool) -> None:
        self.writer.producer = producer

    def unregisterProducer(self) -> None:
        self.writer.producer = None


def connectEditor(
    editor: OperatorEditor,
    console: Console,
    callFromThread: Callable[..., object],
    startThread: Callable[[Callable[[], None]], object] | None = None,
) -> tuple[ConsoleTransport, ConsoleTerminal]:
    """
    Take C{console} as the editor needs it and connect C{editor} to it
    through C{insults.ServerProtocol}; start the reader and writer threads
    (C{startThread}; the tests give one that does not).

    The caller puts the console back with L{ConsoleTerminal.restore} once
    the transport is closed (however the program stops).
    """
    terminal = ConsoleTerminal(console)
    terminal.enter()
    editor.width, editor.height = console.size()
    protocol = KeepScreenServerProtocol(lambda: editor)
    transport = ConsoleTransport(protocol, console, callFromThread)
    transport.onResize = editor.terminalSize
    protocol.makeConnection(transport)
    start = startThread or _daemonThread
    start(transport.writer.run)
    start(transport.reader.run)
    return transport, terminal


def _daemonThread(run: Callable[[], None]) -> threading.Thread:
    """
    A daemon thread: one blocked in a console call never keeps the process
    from exiting.
    """
    thread = threading.Thread(target=run, name="names-console", daemon=True)
    thread.start()
    return thread


def consoleFds(
    fds: tuple[int | None, int | None], isConsole: Callable[[int], bool]
) -> tuple[int, int] | None:
    """
    stdin and stdout if both are the console, else C{None}.  C{os.isatty}
    is not enough on Windows: it is true of C{NUL} too.
    """
    stdin, stdout = fds
    if stdin is None or stdout is None or not (isConsole(stdin) and isConsole(stdout)):
        return None
    return stdin, stdout


if sys.platform == "win32":
    import ctypes
    import msvcrt
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _WAIT_OBJECT_0 = 0
    _WAIT_TIMEOUT = 0x102
    _KEY_EVENT = 0x0001

    class _CharUnion(ctypes.Union):
        _fields_ = [("UnicodeChar", wintypes.WCHAR), ("AsciiChar", wintypes.CHAR)]

    class _KeyEventRecord(ctypes.Structure):
        _fields_ = [
            ("bKeyDown", wintypes.BOOL),
            ("wRepeatCount", wintypes.WORD),
            ("wVirtualKeyCode", wintypes.WORD),
            ("wVirtualScanCode", wintypes.WORD),
            ("uChar", _CharUnion),
            ("dwControlKeyState", wintypes.DWORD),
        ]

    class _EventUnion(ctypes.Union):
        # KEY_EVENT_RECORD is the largest of the event records (16 bytes).
        _fields_ = [("KeyEvent", _KeyEventRecord)]

    class _InputRecord(ctypes.Structure):
        _fields_ = [("EventType", wintypes.WORD), ("Event", _EventUnion)]

    class _ScreenBufferInfo(ctypes.Structure):
        _fields_ = [
            ("dwSize", wintypes._COORD),
            ("dwCursorPosition", wintypes._COORD),
            ("wAttributes", wintypes.WORD),
            ("srWindow", wintypes.SMALL_RECT),
            ("dwMaximumWindowSize", wintypes._COORD),
        ]

    def _check(ok: int) -> None:
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error())

    class WindowsConsole:
        """The real console, through kernel32 (never run here: see the README)."""

        #: How many UTF-16 units one read takes at most.
        READ_UNITS = 1024

        def __init__(self, stdin: int = 0, stdout: int = 1) -> None:
            self._handles = {
                "input": wintypes.HANDLE(msvcrt.get_osfhandle(stdin)),
                "output": wintypes.HANDLE(msvcrt.get_osfhandle(stdout)),
            }

        def getMode(self, which: Which) -> int:
            mode = wintypes.DWORD()
            _check(_kernel32.GetConsoleMode(self._handles[which], ctypes.byref(mode)))
            return int(mode.value)

        def setMode(self, which: Which, mode: int) -> None:
            _check(_kernel32.SetConsoleMode(self._handles[which], wintypes.DWORD(mode)))

        def getCP(self, which: Which) -> int:
            get = _kernel32.GetConsoleCP if which == "input" else _kernel32.GetConsoleOutputCP
            codePage = int(get())
            _check(codePage)
            return codePage

        def setCP(self, which: Which, codePage: int) -> None:
            set = _kernel32.SetConsoleCP if which == "input" else _kernel32.SetConsoleOutputCP
            _check(set(wintypes.UINT(codePage)))

        def read(self, timeout: float) -> str | None:
            handle = self._handles["input"]
            waited = _kernel32.WaitForSingleObject(handle, wintypes.DWORD(int(timeout * 1000)))
            if waited == _WAIT_TIMEOUT:
                return None
            if waited != _WAIT_OBJECT_0:
                raise ctypes.WinError(ctypes.get_last_error())
            if not self._keyWaiting(handle):
                return None
            buffer = ctypes.create_unicode_buffer(self.READ_UNITS)
            count = wintypes.DWORD()
            _check(
                _kernel32.ReadConsoleW(handle, buffer, self.READ_UNITS, ctypes.byref(count), None)
            )
            return ctypes.wstring_at(buffer, count.value)

        def _keyWaiting(self, handle: Any) -> bool:
            """
            Whether a key with a character waits: C{ReadConsoleW} would
            block on focus, mouse or size events alone, which are dropped
            here instead.
            """
            records = (_InputRecord * 64)()
            count = wintypes.DWORD()
            _check(_kernel32.PeekConsoleInputW(handle, records, 64, ctypes.byref(count)))
            for record in records[: count.value]:
                key = record.Event.KeyEvent
                if record.EventType == _KEY_EVENT and key.bKeyDown and key.uChar.UnicodeChar:
                    return True
            # Only the records peeked, so that no key arriving meanwhile is lost.
            _check(_kernel32.ReadConsoleInputW(handle, records, count, ctypes.byref(count)))
            return False

        def write(self, text: str) -> None:
            handle = self._handles["output"]
            data = text.encode("utf-16-le")
            while data:
                units = min(len(data) // 2, 8192)
                written = wintypes.DWORD()
                _check(
                    _kernel32.WriteConsoleW(
                        handle, data[: units * 2], units, ctypes.byref(written), None
                    )
                )
                data = data[written.value * 2 :]

        def size(self) -> tuple[int, int]:
            info = _ScreenBufferInfo()
            if not _kernel32.GetConsoleScreenBufferInfo(
                self._handles["output"], ctypes.byref(info)
            ):
                return 80, 24
            window = info.srWindow
            return window.Right - window.Left + 1, window.Bottom - window.Top + 1

    def attachEditor(
        editor: OperatorEditor, reactor: Any, stdin: int = 0, stdout: int = 1
    ) -> tuple[ConsoleTransport, ConsoleTerminal]:
        """
        L{twisted_names.console.rawtty.attachEditor}'s contract on Windows: the
        console taken for C{editor}, its transport and saved state returned.
        """
        return connectEditor(editor, WindowsConsole(stdin, stdout), reactor.callFromThread)
