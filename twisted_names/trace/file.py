"""
C{--trace-file}: the trace as a Markdown file of Mermaid diagrams
(L{TraceFile}), bounded and written as connections end; and the wiring of
both trace options (L{checkTraceFile} for C{postOptions}, L{makeTracer}).
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Callable
from typing import IO, Any

from twisted.logger import Logger

from twisted_names.display import quotedPath
from twisted_names.i18n import N_, _
from twisted_names.oserrors import describe
from twisted_names.trace.events import Connected, Role, TraceEvent
from twisted_names.trace.ladder import Ladder
from twisted_names.trace.mermaid import Diagram, fileHeading, skippedNote, truncatedNote
from twisted_names.trace.wrapper import LiveTrace, Tracer, TraceSink

log = Logger(namespace="names")

#: Said once when the trace file cannot be written any more.
CANNOT_WRITE = N_("--trace-file: cannot write {path} ({why}); no more connections are written")

#: The largest trace file, in bytes (of UTF-8); later connections are not written.
MAX_FILE_SIZE = 4 * 1024 * 1024
#: The most connections whose diagrams are kept while they are open; more
#: are traced live but not drawn in the file.
MAX_OPEN_DIAGRAMS = 1000


class TraceFile:
    """
    A Markdown file of Mermaid diagrams, one per connection, each written
    (and flushed) when its connection ends, so that a crash loses only the
    connections still open.  Bounded: at most L{MAX_OPEN_DIAGRAMS} diagrams
    held at once (the connections beyond are counted, and the count written
    at the end), each bounded by L{Diagram}, and L{MAX_FILE_SIZE}
    bytes in all, after which one line says the file is full.
    """

    def __init__(
        self,
        role: Role,
        file: IO[str],
        maxSize: int = MAX_FILE_SIZE,
        maxArrows: int | None = None,
        maxOpen: int = MAX_OPEN_DIAGRAMS,
    ) -> None:
        self.role = role
        self.maxOpen = maxOpen
        #: Connections not drawn: more than C{maxOpen} were open at once.
        self.skipped = 0
        self.file = file
        self.maxSize = maxSize
        self.maxArrows = maxArrows
        self.diagrams: dict[int, Diagram] = {}
        self.written = 0
        self.size = 0
        self.full = False
        self._write(fileHeading(role))

    def _write(self, text: str) -> None:
        try:
            self.file.write(text)
            self.file.flush()
        except (OSError, ValueError) as e:
            # A full disk, a closed file: stop writing, and say so once (the
            # operator would otherwise find a file that just stops).
            if not self.full:
                log.warn(
                    CANNOT_WRITE,
                    path=quotedPath(str(getattr(self.file, "name", "?"))),
                    # A log event's fields stay English (the log file is).
                    why=getattr(e, "strerror", None) or str(e),
                )
            self.full = True
        self.size += len(text.encode("utf-8"))

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
        text = diagram.markdown()
        if self.size + len(text.encode("utf-8")) > self.maxSize:
            self.full = True
            self.diagrams.clear()
            self._write(truncatedNote(self.written))
            return
        self._write(text)
        self.written += 1

    def finish(self) -> None:
        """Write the connections still open, then close the file."""
        for connection in sorted(self.diagrams):
            self.ended(connection)
        if self.skipped and not self.full:
            self._write(skippedNote(self.skipped, self.maxOpen))
        with contextlib.suppress(OSError):
            self.file.close()


#: Why a trace file cannot be used: another program holds its lock.
IN_USE = N_("--trace-file: {path} is being written by another program; choose another file")


def lockFile(file: IO[str]) -> bool:
    """
    Take an exclusive lock on C{file} without waiting (C{flock}; on Windows
    C{msvcrt.locking} of its first byte), held until it is closed.

    @return: C{False} if another program (or another open file in this
        one) holds it; C{True} if this one does now, or if the file system
        has no locks (the file is then used unlocked).
    """
    try:
        if sys.platform == "win32":
            import msvcrt

            position = file.tell()
            file.seek(0)
            try:
                msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
            finally:
                file.seek(position)
        else:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        return e.errno not in _LOCKED
    return True


#: What a lock held by another gives; on Windows under Wine, whose C
#: library leaves errno unset when the byte is locked, 0.
_LOCKED = frozenset(
    {errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK, errno.EDEADLK}
    | ({0} if sys.platform == "win32" else set())
)


def openTraceFile(path: str) -> IO[str]:
    """
    C{path} opened to be written from its start, locked (L{lockFile}):
    two programs given the same C{--trace-file} would write over each
    other's diagrams.  Emptied only once the lock is held.

    @raise usage.UsageError: if it cannot be opened, or another program
        holds its lock.
    """
    from twisted.python import usage

    try:
        file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (returned)
    except OSError as e:
        raise usage.UsageError(
            _("--trace-file: cannot write {path}: {why}").format(
                path=quotedPath(path), why=describe(e)
            )
        ) from None
    if not lockFile(file):
        file.close()
        raise usage.UsageError(_(IN_USE).format(path=quotedPath(path)))
    file.seek(0)
    file.truncate()
    return file


def checkTraceFile(options: Any) -> None:
    """
    For C{postOptions}: C{--trace-file} names a file that can be written
    and that no other program is writing (opened for appending and
    unlocked at once, so nothing is lost if the program stops here).

    @raise usage.UsageError: if it cannot.
    """
    path = options["trace-file"]
    if path is None:
        return
    from twisted.python import usage

    try:
        with open(path, "a", encoding="utf-8") as file:
            locked = not lockFile(file)
    except OSError as e:
        raise usage.UsageError(
            _("--trace-file: cannot write {path}: {why}").format(
                path=quotedPath(path), why=describe(e)
            )
        ) from None
    if locked:
        raise usage.UsageError(_(IN_USE).format(path=quotedPath(path)))


def makeTracer(
    role: Role,
    reactor: Any,
    show: Callable[[str], object] | None,
    colour: bool,
    path: str | None,
) -> Tracer:
    """
    The tracer of C{--trace} (lines through C{show}, if given) and
    C{--trace-file} (a L{TraceFile} at C{path}, if given, overwritten and
    locked while this program runs (L{openTraceFile}); the connections
    still open are written when the reactor has shut down).

    @raise usage.UsageError: if the file cannot be used after all (another
        program took it since L{checkTraceFile}).
    """
    sinks: list[TraceSink] = []
    if show is not None:
        sinks.append(LiveTrace(Ladder(role, colour), show))
    if path is not None:
        # Closed by TraceFile.finish, after the reactor has shut down.
        sinks.append(TraceFile(role, openTraceFile(path)))
    tracer = Tracer(role, reactor, sinks)
    if path is not None:
        reactor.addSystemEventTrigger("after", "shutdown", tracer.finish)
    return tracer
