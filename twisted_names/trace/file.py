"""
C{--trace-file}: the trace as a Markdown file of Mermaid diagrams
(L{TraceFile}), bounded and written as connections end; and the wiring of
both trace options (L{checkTraceFile} for C{postOptions}, L{makeTracer}).

The file is added to, never emptied (issue 16): each run of a program
appends its diagrams under a heading with the date and time it started, so
restarting the server keeps the last class's diagrams.  A path is opened as
the shell's C{>>} opens it (a symbolic link is followed), without ever
waiting: a regular file, or a character device (C{/dev/null}, a terminal),
is written; anything else (a FIFO, C{/dev/stdout} on a pipe, a socket) is
refused with one line (L{openTraceFile}).
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import stat
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from twisted.logger import Logger

from twisted_names.display import quotedPath
from twisted_names.i18n import N_, _, decimal, ngettext, pgettext
from twisted_names.oserrors import describe
from twisted_names.trace.events import Connected, Role, TraceEvent
from twisted_names.trace.ladder import Ladder
from twisted_names.trace.mermaid import Diagram, fileHeading, skippedNote, truncatedNote
from twisted_names.trace.wrapper import LiveTrace, Tracer, TraceSink
from twisted_names.ttys import isConsole

log = Logger(namespace="names")

#: Said once when the trace file cannot be written (a full disk): what ends
#: meanwhile is counted, and each next diagram tried again.
CANNOT_WRITE = N_(
    "--trace-file: cannot write {path} ({why}); the connections that end meanwhile are left"
    " out, and the file will say how many once it can be written again"
)
#: Said once when the trace file can be written again.
WRITING_AGAIN = N_(
    "--trace-file: {path} can be written again (connections left out of it: {count})"
)

#: The most a trace file grows in one run of a program, in bytes (of UTF-8);
#: later connections are not written.  Per run: every run appends to the file.
MAX_FILE_SIZE = 4 * 1024 * 1024
#: The most connections whose diagrams are kept while they are open; more
#: are traced live but not drawn in the file.
MAX_OPEN_DIAGRAMS = 1000


class TextSink(Protocol):
    """What L{TraceFile} writes to: a L{TraceFileWriter}, or a text file or C{StringIO}."""

    def write(self, text: str, /) -> object:
        """Write C{text} whole, or raise L{OSError}."""

    def flush(self) -> None:
        """Write what is buffered."""

    def close(self) -> None:
        """Close it."""


class Writing(enum.Enum):
    """Where a L{TraceFile} is."""

    #: Each diagram is written as its connection ends.
    WRITING = "writing"
    #: The last write failed (a full disk): the diagrams that end meanwhile are
    #: counted as left out, and each is tried, so that writing resumes (with a
    #: line saying how many are missing) once the file can be written again.
    FAILING = "failing"
    #: This run wrote its L{MAX_FILE_SIZE}; one line said so; nothing more is written.
    FULL = "full"


class TraceFile:
    """
    A Markdown file of Mermaid diagrams, one per connection, each written
    (and flushed) when its connection ends, so that a crash loses only the
    connections still open.  Bounded: at most L{MAX_OPEN_DIAGRAMS} diagrams
    held at once (the connections beyond are counted, and the count written
    at the end), each bounded by L{Diagram}, and L{MAX_FILE_SIZE}
    bytes in all, after which one line says the file is full.

    A write that fails (a full disk) loses that diagram only: the file keeps
    whole diagrams (L{TraceFileWriter}), the next diagram is tried again, and
    the first write that works begins with a line saying how many are missing
    (L{lostNote}).

    @ivar state: a L{Writing}.
    """

    def __init__(
        self,
        role: Role,
        file: TextSink,
        maxSize: int = MAX_FILE_SIZE,
        maxArrows: int | None = None,
        maxOpen: int = MAX_OPEN_DIAGRAMS,
        heading: str | None = None,
    ) -> None:
        """
        @param heading: the text this run starts with (L{runHeading}); by
            default the file's title and what it holds (L{fileHeading}).
        """
        self.role = role
        self.maxOpen = maxOpen
        #: Connections not drawn: more than C{maxOpen} were open at once.
        self.skipped = 0
        self.file = file
        self.maxSize = maxSize
        self.maxArrows = maxArrows
        self.diagrams: dict[int, Diagram] = {}
        self.written = 0
        #: Bytes this run has written.
        self.size = 0
        self.state = Writing.WRITING
        #: Connections whose diagram a failed write left out, not yet said in the file.
        self.lost = 0
        #: Why the last write failed, in words.
        self.why = ""
        #: Text still to be written before the next diagram (a heading that
        #: could not be written).
        self.pending = ""
        start = fileHeading(role) if heading is None else heading
        if not self._write(start):
            self.pending = start

    @property
    def full(self) -> bool:
        """Whether this run's size bound was reached."""
        return self.state is Writing.FULL

    def _write(self, text: str) -> bool:
        """Write C{text}, whole or not at all; whether it was."""
        try:
            self.file.write(text)
            self.file.flush()
        except (OSError, ValueError) as e:
            # A full disk, a closed file: say so once (the operator would
            # otherwise find a file that just stops), and try again with the
            # next diagram.
            if self.state is Writing.WRITING:
                log.warn(
                    CANNOT_WRITE,
                    path=self._path(),
                    # A log event's fields stay English (the log file is).
                    why=getattr(e, "strerror", None) or str(e),
                )
                self.state = Writing.FAILING
            self.why = describe(e)
            return False
        self.size += len(text.encode("utf-8"))
        if self.state is Writing.FAILING:
            self.state = Writing.WRITING
            log.warn(WRITING_AGAIN, path=self._path(), count=self.lost)
        return True

    def _path(self) -> str:
        return quotedPath(str(getattr(self.file, "name", "?")))

    def _leading(self) -> str:
        """What must come before the next text written: a heading, the lost diagrams."""
        return self.pending + (lostNote(self.lost, self.why) if self.lost else "")

    def _wrote(self) -> None:
        self.pending, self.lost = "", 0

    def event(self, event: TraceEvent) -> None:
        if self.full:
            return
        diagram = self.diagrams.get(event.connection)
        if diagram is None:
            if not isinstance(event, Connected):
                return
            if len(self.diagrams) >= self.maxOpen:
                self.skipped += 1
                return
            diagram = self.diagrams[event.connection] = (
                Diagram(self.role, event.connection)
                if self.maxArrows is None
                else Diagram(self.role, event.connection, self.maxArrows)
            )
        diagram.add(event)

    def ended(self, connection: int) -> None:
        diagram = self.diagrams.pop(connection, None)
        if diagram is None or self.full:
            return
        text = self._leading() + diagram.markdown()
        if self.size + len(text.encode("utf-8")) > self.maxSize:
            self.state = Writing.FULL
            self.diagrams.clear()
            if self._write(self._leading() + truncatedNote(self.written)):
                self._wrote()
            return
        if self._write(text):
            self._wrote()
            self.written += 1
        else:
            self.lost += 1

    def finish(self) -> None:
        """Write the connections still open, then close the file."""
        for connection in sorted(self.diagrams):
            self.ended(connection)
        if not self.full:
            tail = self._leading()
            if self.skipped:
                tail += skippedNote(self.skipped, self.maxOpen)
            if tail and self._write(tail):
                self._wrote()
        with contextlib.suppress(OSError):
            self.file.close()


def lostNote(count: int, why: str) -> str:
    """The line that says, in the file, where diagrams are missing and why."""
    return (
        "\n"
        + ngettext(
            "{count} connection is missing here: the file could not be written ({why}).",
            "{count} connections are missing here: the file could not be written ({why}).",
            count,
        ).format(count=count, why=why)
        + "\n\n"
    )


def runHeading(role: Role, started: time.struct_time, appended: bool) -> str:
    """
    The start of one run's diagrams: a heading with the date and time the
    program started (every run appends to the file), then what the file holds.
    """
    day = pgettext("date", "{year}-{month}-{day}").format(
        year=f"{started.tm_year:04d}", month=f"{started.tm_mon:02d}", day=f"{started.tm_mday:02d}"
    )
    clock = time.strftime("%H:%M:%S", started)
    if role is Role.SERVER:
        title = _("names-server trace, started on {date} at {time}")
    elif role is Role.PROXY:
        title = _("names-proxy trace, started on {date} at {time}")
    else:
        title = _("names-client trace, started on {date} at {time}")
    intro = fileHeading(role).split("\n\n", 1)[1]
    return ("\n" if appended else "") + f"# {title.format(date=day, time=clock)}\n\n{intro}"


#: Why a trace file cannot be used: another program holds its lock.
IN_USE = N_("--trace-file: {path} is being written by another program; choose another file")
#: A FIFO (or C{/dev/stdout} on a pipe): a reader that stops would stop the program.
IS_A_PIPE = N_("--trace-file: {path} is a pipe, not a file: give the name of a file")
#: A socket, a block device: nothing a trace is written to.
NOT_A_FILE = N_("--trace-file: {path} is not a file or a device that can be written")
#: The server's terminal: the diagrams would be written into the operator's console.
IS_A_TERMINAL = N_(
    "--trace-file: {path} is a terminal, where the diagrams would be mixed with the console;"
    " --trace shows each connection there, and --trace-file FILE keeps the diagrams"
)


def lockFile(fd: int) -> bool:
    """
    Take an exclusive lock on the file open as C{fd} without waiting
    (C{flock}; on Windows C{msvcrt.locking} of its first byte), held until
    it is closed.

    @return: C{False} if another program (or another open file in this
        one) holds it; C{True} if this one does now, or if the file system
        has no locks (the file is then used unlocked).
    """
    try:
        if sys.platform == "win32":
            import msvcrt

            position = os.lseek(fd, 0, os.SEEK_CUR)
            os.lseek(fd, 0, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            finally:
                os.lseek(fd, position, os.SEEK_SET)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        return e.errno not in _LOCKED
    return True


#: What a lock held by another gives; on Windows under Wine, whose C
#: library leaves errno unset when the byte is locked, 0.
_LOCKED = frozenset(
    {errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK, errno.EDEADLK}
    | ({0} if sys.platform == "win32" else set())
)

#: How a trace file is opened: for appending, created if missing, never
#: waiting (a FIFO with no reader is refused at once instead of blocking
#: the program in C{open}), never becoming the controlling terminal.
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


class TraceFileWriter:
    """
    A trace file open for appending, written without buffering: each
    L{write} is all of its text or none of it.  A regular file that a write
    fills half-way (a full disk) is cut back to where that write began, so
    the file holds whole diagrams and the next write starts clean.  A
    character device (C{/dev/null}, a terminal) is written as it is, never
    waited for (a write it cannot take at once fails).

    @ivar earlier: the bytes the file held when it was opened (0 for a device).
    """

    def __init__(
        self,
        fd: int,
        name: str,
        regular: bool,
        earlier: int,
        osWrite: Callable[[int, memoryview], int] = os.write,
    ) -> None:
        """
        @param osWrite: C{os.write}, or what a test gives for a disk that fills.
        """
        self.fd: int | None = fd
        self.name = name
        self.regular = regular
        self.earlier = earlier
        self._osWrite = osWrite

    def write(self, text: str) -> int:
        if self.fd is None:
            raise ValueError("write to a closed trace file")
        data = memoryview(text.encode("utf-8"))
        start = os.lseek(self.fd, 0, os.SEEK_END) if self.regular else None
        try:
            while data:
                count = self._osWrite(self.fd, data)
                if count <= 0:
                    raise OSError(errno.EIO, os.strerror(errno.EIO))
                data = data[count:]
        except OSError:
            if start is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(self.fd, start)
            raise
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)


def openTraceFile(
    path: str, terminalAllowed: bool = True, streams: tuple[int, ...] = (1, 2)
) -> TraceFileWriter:
    """
    C{path} opened to be added to, as the shell's C{>>} does (a symbolic
    link is followed; nothing already in the file is lost), without ever
    waiting: a regular file, locked (L{lockFile}: two programs given the
    same C{--trace-file} would mix their diagrams), or a character device
    (C{/dev/null}, a terminal), not locked.  Anything else is refused: a
    FIFO (or C{/dev/stdout} on a pipe), whose reader could stop and with it
    the program; a socket; a block device.

    @param terminalAllowed: whether a terminal is a device the diagrams may
        be written to (the client's C{/dev/stdout}: yes; the server's, where
        the operator types: no).
    @param streams: this program's output streams' descriptors: a regular
        file that is one of theirs is written through it (L{_sharedWith}).
    @raise usage.UsageError: if it cannot be opened, is not one of those,
        or another program holds its lock.
    """
    from twisted.python import usage

    shown = quotedPath(path)
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o666)
    except OSError as e:
        if e.errno == errno.ENXIO:  # A FIFO with no reader, a socket.
            raise usage.UsageError(_(_refusal(path)).format(path=shown)) from None
        raise usage.UsageError(
            _("--trace-file: cannot write {path}: {why}").format(path=shown, why=describe(e))
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):
            raise usage.UsageError(
                _(IS_A_PIPE if stat.S_ISFIFO(mode) else NOT_A_FILE).format(path=shown)
            )
        if not terminalAllowed and _isTerminal(fd):
            raise usage.UsageError(_(IS_A_TERMINAL).format(path=shown))
        regular = stat.S_ISREG(mode)
        if regular:
            fd = _sharedWith(fd, streams)
        if regular and not lockFile(fd):
            raise usage.UsageError(_(IN_USE).format(path=shown))
        earlier = os.lseek(fd, 0, os.SEEK_END) if regular else 0
    except OSError as e:
        # A file that opens but cannot be added to (/proc/self/mem: lseek
        # refuses): one line, as for a file that cannot be opened.
        os.close(fd)
        raise usage.UsageError(
            _("--trace-file: cannot write {path}: {why}").format(path=shown, why=describe(e))
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return TraceFileWriter(fd, path, regular, earlier)


def _sharedWith(fd: int, streams: tuple[int, ...]) -> int:
    """
    C{fd}, a regular file; or, if it is the file one of C{streams} (stdout,
    stderr) writes to (C{--trace-file /dev/stdout > report.md}, or one name
    given to both), a duplicate of that stream's descriptor, C{fd} closed.
    Opened anew, the file has an offset of its own, and a stream the shell
    opened with C{>} (not appending) writes from its start over the
    diagrams; sharing the stream's offset, each write goes after the other's.
    """
    mine = os.fstat(fd)
    if not mine.st_ino:  # A file system with no file numbers: nothing to compare.
        return fd
    for stream in streams:
        try:
            theirs = os.fstat(stream)
        except OSError:
            continue
        if (theirs.st_dev, theirs.st_ino) == (mine.st_dev, mine.st_ino):
            shared = os.dup(stream)
            os.close(fd)
            return shared
    return fd


def _isTerminal(fd: int) -> bool:
    """
    Whether C{fd} is a terminal a person reads (on Windows, the console:
    C{os.isatty} is also true of C{NUL}, which is fine to write to).
    """
    return isConsole(fd)


def _refusal(path: str) -> str:
    """Which refusal fits C{path}, which could not be opened without waiting."""
    try:
        return IS_A_PIPE if stat.S_ISFIFO(os.stat(path).st_mode) else NOT_A_FILE
    except OSError:
        return NOT_A_FILE


def checkTraceFile(options: Any, terminalAllowed: bool = True) -> None:
    """
    For C{postOptions}: C{--trace-file} names a file that can be written
    and that no other program is writing (opened as L{openTraceFile} opens
    it, and closed at once: nothing is written, and a file that did not
    exist is left empty).

    @raise usage.UsageError: if it cannot.
    """
    path = options["trace-file"]
    if path is not None:
        openTraceFile(path, terminalAllowed).close()


#: Said when a program starts adding its diagrams to a file that holds earlier ones.
APPENDING = N_(
    "--trace-file: {path} already holds earlier diagrams ({size}); this run's are added at its"
    " end, under the heading of {started} (at most 4 MB)."
)


def makeTracer(
    role: Role,
    reactor: Any,
    show: Callable[[str], object] | None,
    colour: bool,
    path: str | None,
    say: Callable[[str], object] | None = None,
    now: Callable[[], time.struct_time] = time.localtime,
) -> Tracer:
    """
    The tracer of C{--trace} (lines through C{show}, if given) and
    C{--trace-file} (a L{TraceFile} at C{path}, if given, added to and
    locked while this program runs (L{openTraceFile}); the connections
    still open are written when the reactor has shut down).

    @param say: where to tell the person, once the reactor runs, that the
        file already held diagrams and that this run's go at its end (by
        default, a log event).
    @param now: the time of day, for the run's heading.
    @raise usage.UsageError: if the file cannot be used after all (another
        program took it since L{checkTraceFile}).
    """
    sinks: list[TraceSink] = []
    if show is not None:
        sinks.append(LiveTrace(Ladder(role, colour), show))
    if path is not None:
        # Closed by TraceFile.finish, after the reactor has shut down.
        file = openTraceFile(path, terminalAllowed=role is Role.CLIENT)
        started = now()
        sinks.append(TraceFile(role, file, heading=runHeading(role, started, file.earlier > 0)))
        if file.earlier:
            fields = {
                "path": quotedPath(path),
                "size": _size(file.earlier),
                "started": time.strftime("%H:%M:%S", started),
            }
            if say is None:
                log.info(APPENDING, **fields)
            else:
                reactor.callWhenRunning(say, _(APPENDING).format(**fields))
    tracer = Tracer(role, reactor, sinks)
    if path is not None:
        reactor.addSystemEventTrigger("after", "shutdown", tracer.finish)
    return tracer


def _size(count: int) -> str:
    """A file's size for a person: C{12.5 KB}, C{3.2 MB} (decimals as the language writes them)."""
    if count < 1024 * 1024:
        return f"{decimal(count / 1024)} KB"
    return f"{decimal(count / (1024 * 1024))} MB"
