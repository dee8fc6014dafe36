"""
C{--trace-file}: the trace as a Markdown file of Mermaid diagrams
(L{TraceFile}), bounded and written as connections end; and the wiring of
both trace options (L{checkTraceFile} for C{postOptions}, L{makeTracer}).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import IO, Any

from twisted.logger import Logger

from twisted_names.display import quoted
from twisted_names.i18n import N_, _
from twisted_names.traceevents import Connected, Role, TraceEvent
from twisted_names.tracemermaid import Diagram, fileHeading, skippedNote, truncatedNote
from twisted_names.traceview import Ladder
from twisted_names.tracing import LiveTrace, Tracer, TraceSink

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
                    path=quoted(str(getattr(self.file, "name", "?"))),
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


def checkTraceFile(options: Any) -> None:
    """
    For C{postOptions}: C{--trace-file} names a file that can be written
    (opened for appending, so nothing is lost if the program stops here).

    @raise usage.UsageError: if it cannot.
    """
    from twisted.python import usage

    path = options["trace-file"]
    if path is None:
        return
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as e:
        raise usage.UsageError(
            _("--trace-file: cannot write {path}: {why}").format(
                path=quoted(path), why=e.strerror or e
            )
        ) from None


def makeTracer(
    role: Role,
    reactor: Any,
    show: Callable[[str], object] | None,
    colour: bool,
    path: str | None,
) -> Tracer:
    """
    The tracer of C{--trace} (lines through C{show}, if given) and
    C{--trace-file} (a L{TraceFile} at C{path}, if given, overwritten; the
    connections still open are written when the reactor has shut down).
    """
    sinks: list[TraceSink] = []
    if show is not None:
        sinks.append(LiveTrace(Ladder(role, colour), show))
    if path is not None:
        # Closed by TraceFile.finish, after the reactor has shut down.
        traceFile = TraceFile(role, open(path, "w", encoding="utf-8"))  # noqa: SIM115
        sinks.append(traceFile)
    tracer = Tracer(role, reactor, sinks)
    if path is not None:
        reactor.addSystemEventTrigger("after", "shutdown", tracer.finish)
    return tracer
