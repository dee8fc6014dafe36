"""
stdin and stdout as plain lines on Windows: what C{StandardIO} does for
L{twisted_names.console.terminal.Terminal} on POSIX, done with two threads.

Twisted's Windows C{StandardIO} cannot be used (twisted#7058, twisted#2157):
it takes no C{stdin}/C{stdout} arguments; its pipe reader calls
C{PeekNamedPipe}, which fails on a console handle (and, under Wine, on a
Unix pipe) and is taken as the end of input; and closing it closes the
process's real stdout, so that twistd's last lines are lost.  Here:

  - L{InputReader}, in a daemon thread, reads stdin with blocking reads: a
    pipe or a file with C{os.read}, the console with C{ReadConsoleW} in its
    own line mode (the operator's typing is echoed and edited by the
    console; Ctrl-Z then Enter is the end of input), handed on as UTF-8;
  - L{OutputWriter}, in a second daemon thread, writes what the reactor
    queued: to a pipe or a file as UTF-8 bytes, to the console as text with
    C{WriteConsoleW}, whatever its code page (UTF-8 bytes written to a
    console in the OEM code page 850 show C{João} as C{Jo├úo}).  Its buffer
    is bounded: past L{HIGH_WATER} bytes the protocol's producer is paused,
    as when a POSIX stdout is full; a reader that left (a broken pipe) is
    C{writeConnectionLost}, as on POSIX;
  - L{ThreadedStdio.loseConnection} stops reading, writes what is queued,
    then calls C{connectionLost}; it never closes stdin or stdout.

Each source and sink is a small object (L{Source}, L{Sink}), so that the
tests run all of it on Linux over pipes and a fake console.
"""

from __future__ import annotations

import codecs
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IPushProducer
from twisted.python.failure import Failure

#: Bytes queued for stdout before the producer is paused ...
HIGH_WATER = 64 * 1024
#: ... and below which it is resumed.
LOW_WATER = 16 * 1024
#: Ctrl-Z, which a console line starting with is the end of input (as for
#: C{type CON} or Python's own console input).
CTRL_Z = "\x1a"


class Source(Protocol):
    def read(self) -> bytes:
        """Block until some input came: C{b""} at its end; C{OSError} on failure."""


class Sink(Protocol):
    def write(self, data: bytes) -> None:
        """Write all of C{data} (UTF-8), blocking; C{OSError} on failure."""


class FdSource:
    """A pipe or a file: C{os.read}."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> bytes:
        try:
            return os.read(self.fd, 65536)
        except BrokenPipeError:  # Windows: the writer closed its end.
            return b""


class FdSink:
    """A pipe or a file: C{os.write}, the bytes as they are (UTF-8)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.fd, data) :]


class ConsoleText(Protocol):
    """The console, read and written as text (C{ReadConsoleW}, C{WriteConsoleW})."""

    def readLine(self) -> str:
        """One line as the console's line mode gives it (with its CR LF)."""

    def writeText(self, text: str) -> None:
        """Write C{text}, whatever the console's code page."""


class ConsoleSource:
    """The console in its line mode, as UTF-8; a line starting with Ctrl-Z ends it."""

    def __init__(self, console: ConsoleText) -> None:
        self.console = console
        self._ended = False

    def read(self) -> bytes:
        if self._ended:
            return b""
        text = self.console.readLine()
        if not text or text.startswith(CTRL_Z):
            self._ended = True
            return b""
        return text.encode("utf-8", "replace")


class ConsoleSink:
    """The console: UTF-8 decoded (across writes) and written as text."""

    def __init__(self, console: ConsoleText) -> None:
        self.console = console
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if text:
            self.console.writeText(text)


class InputReader:
    """
    Reads C{source} and hands the data to the reactor's thread
    (C{onData(bytes)}), then once C{onEnd(Failure)}.  L{step} is one read.
    """

    def __init__(
        self,
        source: Source,
        callFromThread: Callable[..., object],
        onData: Callable[[bytes], object],
        onEnd: Callable[[Failure], object],
    ) -> None:
        self.source = source
        self.callFromThread = callFromThread
        self.onData, self.onEnd = onData, onEnd
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Hand nothing more on (a read under way is left to finish: a daemon thread)."""
        self._stopping.set()

    def step(self) -> bool:
        try:
            data = self.source.read()
        except OSError as e:
            return self._end(ConnectionLost(f"stdin could not be read: {e}"))
        if self._stopping.is_set():
            return False
        if not data:
            return self._end(ConnectionDone("end of input"))
        self.callFromThread(self.onData, data)
        return True

    def _end(self, reason: Exception) -> bool:
        if not self._stopping.is_set():
            self._stopping.set()
            self.callFromThread(self.onEnd, Failure(reason))
        return False

    def run(self) -> None:
        while self.step():
            pass


class OutputWriter:
    """
    Writes to C{sink}, in its own thread, what the reactor's thread queued;
    a producer is paused past L{HIGH_WATER} bytes and resumed below
    L{LOW_WATER}.  A sink that fails (its reader left) calls C{onGone()}
    once, and everything after is dropped; at L{close}, once all is written
    (or dropped), C{onClosed()}.  L{flush} is the thread's work, once.
    """

    producer: IPushProducer | None = None

    def __init__(
        self,
        sink: Sink,
        callFromThread: Callable[..., object],
        onGone: Callable[[], object],
        onClosed: Callable[[], object],
    ) -> None:
        self.sink = sink
        self.callFromThread = callFromThread
        self.onGone, self.onClosed = onGone, onClosed
        self._chunks: deque[bytes] = deque()
        self._queued = 0
        self._paused = False
        self._closing = False
        self._gone = False
        self._done = False
        self._ready = threading.Condition()

    def write(self, data: bytes) -> None:
        """Queue C{data}; reactor thread."""
        if not data or self._closing or self._gone:
            return
        with self._ready:
            self._chunks.append(data)
            self._queued += len(data)
            pause = self._queued > HIGH_WATER and not self._paused
            self._paused = self._paused or pause
            self._ready.notify()
        if pause and self.producer is not None:
            self.producer.pauseProducing()

    def close(self) -> None:
        """Write what is queued, then C{onClosed()}; reactor thread."""
        with self._ready:
            self._closing = True
            self._ready.notify()

    def flush(self) -> bool:
        """Write everything queued; C{False} once closed and all written."""
        while True:
            with self._ready:
                if not self._chunks:
                    break
                data = self._chunks.popleft()
                gone = self._gone
            if not gone:
                try:
                    self.sink.write(data)
                except OSError:
                    with self._ready:
                        self._gone = True
                        self._chunks.clear()
                        self._queued = 0
                    self.callFromThread(self.onGone)
                    continue
            with self._ready:
                self._queued -= len(data)
                resume = self._paused and self._queued < LOW_WATER
                if resume:
                    self._paused = False
            if resume:
                self.callFromThread(self._resume)
        with self._ready:
            if not self._closing or self._chunks or self._done:
                return not self._done
            self._done = True
        self.callFromThread(self.onClosed)
        return False

    def _resume(self) -> None:
        if self.producer is not None and not self._gone:
            self.producer.resumeProducing()

    def run(self) -> None:
        while True:
            with self._ready:
                while not self._chunks and not self._closing:
                    self._ready.wait()
            if not self.flush():
                return


class ThreadedStdio:
    """
    The transport a L{twisted_names.console.terminal.Terminal} (an
    C{IHalfCloseableProtocol}) gets on Windows in place of C{StandardIO}:
    C{write}, C{registerProducer}, C{loseConnection}; the protocol is told
    C{dataReceived}, C{readConnectionLost}, C{writeConnectionLost} and, once,
    C{connectionLost}.
    """

    disconnecting = False

    def __init__(
        self,
        protocol: Any,
        source: Source,
        sink: Sink,
        callFromThread: Callable[..., object],
        startThread: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        self.protocol = protocol
        self.reader = InputReader(source, callFromThread, self._received, self._inputEnded)
        self.writer = OutputWriter(sink, callFromThread, self._outputGone, self._closed)
        self._lost = False
        protocol.makeConnection(self)
        start = startThread or _daemonThread
        start(self.writer.run)
        start(self.reader.run)

    def _received(self, data: bytes) -> None:
        if not self._lost and not self.disconnecting:
            self.protocol.dataReceived(data)

    def _inputEnded(self, reason: Failure) -> None:
        if not self._lost and not self.disconnecting:
            self.protocol.readConnectionLost()

    def _outputGone(self) -> None:
        producer = self.writer.producer
        if producer is not None:
            producer.stopProducing()
        if not self._lost:
            self.protocol.writeConnectionLost()

    def _closed(self) -> None:
        if self._lost:
            return
        self._lost = True
        self.protocol.connectionLost(Failure(ConnectionDone("stdio closed")))

    def write(self, data: bytes) -> None:
        if not self.disconnecting:
            self.writer.write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Stop reading; write what is queued; then C{connectionLost}; close no descriptor."""
        if self.disconnecting:
            return
        self.disconnecting = True
        self.reader.stop()
        self.writer.close()

    def registerProducer(self, producer: IPushProducer, streaming: bool) -> None:
        self.writer.producer = producer

    def unregisterProducer(self) -> None:
        self.writer.producer = None

    def getPeer(self) -> str:
        return "stdio"

    def getHost(self) -> str:
        return "stdio"


def _daemonThread(run: Callable[[], None]) -> threading.Thread:
    """A daemon thread: one blocked in a read never keeps the process from exiting."""
    thread = threading.Thread(target=run, name="names-stdio", daemon=True)
    thread.start()
    return thread


def attach(
    protocol: Any,
    stdin: int,
    stdout: int,
    reactor: Any,
    isConsole: Callable[[int], bool] | None = None,
    console: Callable[[int], ConsoleText] | None = None,
) -> ThreadedStdio:
    """
    C{protocol} on C{stdin} and C{stdout}, each read or written as what it
    is: the console (C{isConsole}) as text, anything else as bytes.
    """
    if isConsole is None or console is None:
        isConsole, console = _platformConsole()
    source: Source = ConsoleSource(console(stdin)) if isConsole(stdin) else FdSource(stdin)
    sink: Sink = ConsoleSink(console(stdout)) if isConsole(stdout) else FdSink(stdout)
    return ThreadedStdio(protocol, source, sink, reactor.callFromThread)


def utf8Streams(
    streams: list[Any] | None = None, isConsole: Callable[[int], bool] | None = None
) -> None:
    """
    On Windows, a stdout or stderr that is not the console (a pipe, a file)
    is written in UTF-8, as on Linux and as the server's plain lines are,
    not in the ANSI code page, which has no letter for most names (the
    console itself gets Unicode from Python).  By default: C{sys.stdout}
    and C{sys.stderr}, on Windows.
    """
    if streams is None or isConsole is None:
        if sys.platform != "win32":
            return
        streams, isConsole = [sys.stdout, sys.stderr], _platformConsole()[0]
    for stream in streams:
        try:
            if stream is not None and not isConsole(stream.fileno()):
                stream.reconfigure(encoding="utf-8")
        except (AttributeError, OSError, ValueError):
            pass


def _platformConsole() -> tuple[Callable[[int], bool], Callable[[int], ConsoleText]]:
    if sys.platform == "win32":
        return isConsole, WindowsConsoleText
    return (lambda fd: False), _noConsole


def _noConsole(fd: int) -> ConsoleText:
    raise OSError("no Windows console here")


if sys.platform == "win32":
    import ctypes
    import msvcrt
    from ctypes import wintypes

    from twisted_names.ttys import isConsole

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    class WindowsConsoleText:
        """A console handle, read with C{ReadConsoleW} and written with C{WriteConsoleW}."""

        READ_UNITS = 4096

        def __init__(self, fd: int) -> None:
            self._handle = wintypes.HANDLE(msvcrt.get_osfhandle(fd))

        def readLine(self) -> str:
            buffer = ctypes.create_unicode_buffer(self.READ_UNITS)
            count = wintypes.DWORD()
            if not _kernel32.ReadConsoleW(
                self._handle, buffer, self.READ_UNITS, ctypes.byref(count), None
            ):
                raise ctypes.WinError(ctypes.get_last_error())
            return ctypes.wstring_at(buffer, count.value)

        def writeText(self, text: str) -> None:
            data = text.encode("utf-16-le", "surrogatepass")
            while data:
                units = min(len(data) // 2, 8192)
                written = wintypes.DWORD()
                if not _kernel32.WriteConsoleW(
                    self._handle, data[: units * 2], units, ctypes.byref(written), None
                ):
                    raise ctypes.WinError(ctypes.get_last_error())
                data = data[written.value * 2 :]
