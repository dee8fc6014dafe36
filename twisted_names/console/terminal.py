"""
A person's terminal over L{twisted.internet.stdio}: lines typed in, lines
shown out, and the server never blocked by either.

C{StandardIO} makes stdin and stdout non-blocking (Twisted issue 3442), so
everything shown goes through its transport, which buffers what the terminal
cannot take yet.  When that buffer is full (a stopped terminal, C{| sleep 60})
further lines are dropped and counted instead of piling up in memory, and a
closed stdout is simply stopped being written to.  The terminal's flags are
kept (L{BlockingModeKeeper}) so that the shell gets it back as it was, and a
stdin or stdout the process was started without is told apart from the
descriptors that took its number (L{startedWith}).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHalfCloseableProtocol, IPushProducer
from twisted.internet.protocol import connectionDone
from twisted.internet.stdio import StandardIO
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.i18n import _, ngettext

if sys.platform != "win32":
    import fcntl

#: The longest line read from the terminal; longer ones are reported and dropped.
MAX_INPUT_LINE = 64 * 1024


class FlowTarget(Protocol):
    """What an L{OutputFlow} tells: a terminal, or the operator's editor."""

    outputPaused: bool

    def outputResumed(self) -> None:
        """The writer's buffer drained: show again (and what was dropped)."""

    def outputStopped(self) -> None:
        """The writer is gone: show nothing more."""


@implementer(IPushProducer)
class OutputFlow:
    """
    Registered with a stdout writer as its producer: told when the writer's
    buffer is full, when it drained, and when it is gone, and tells C{target}.
    """

    def __init__(self, target: FlowTarget) -> None:
        self._target = target

    def pauseProducing(self) -> None:
        self._target.outputPaused = True

    def resumeProducing(self) -> None:
        self._target.outputResumed()

    def stopProducing(self) -> None:
        self._target.outputStopped()


@implementer(IHalfCloseableProtocol)
class Terminal(LineReceiver):
    """
    Lines from stdin go to C{onLine}, its end to C{onEnd}; L{show} writes
    to stdout.

    @ivar dropped: lines not shown because stdout was not being read.
    """

    delimiter = b"\n"
    MAX_LENGTH = MAX_INPUT_LINE
    _discarding = False
    _afterTooLong = b""
    outputPaused = False
    outputClosed = False
    inputClosed = False
    transport: Any  # StandardIO: a consumer and a producer
    #: Called once both stdin and stdout are closed.
    onClosed: Callable[[], object] | None = None
    #: Called before each line is written (to keep stdout non-blocking).
    beforeWrite: Callable[[], object] | None = None

    def __init__(self, onLine: Callable[[str], None], onEnd: Callable[[], None]) -> None:
        self.onLine = onLine
        self.onEnd = onEnd
        self.dropped = 0

    def connectionMade(self) -> None:
        self.transport.registerProducer(OutputFlow(self), True)

    def lineReceived(self, line: bytes) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        self.onLine(line.decode("utf-8", "replace"))

    def dataReceived(self, data: bytes) -> None:
        """
        Lines, except one that is too long: all of it is dropped, up to its
        line ending, and the lines after it are read as usual.
        """
        while data:
            if self._discarding:
                end = data.find(b"\n")
                if end == -1:
                    return
                self._discarding, data = False, data[end + 1 :]
                continue
            super().dataReceived(data)
            data, self._afterTooLong = self._afterTooLong, b""

    def lineLengthExceeded(self, line: bytes) -> None:
        self.show(_("(a line of over {limit} bytes was ignored)").format(limit=MAX_INPUT_LINE))
        end = line.find(b"\n")
        if end == -1:
            self._discarding = True  # The rest of it is still to come.
        else:
            self._afterTooLong = line[end + 1 :]

    def show(self, text: str, end: str = "\n") -> None:
        """Write C{text} (and C{end}) unless stdout is closed or not being read."""
        if self.outputClosed:
            return
        if self.outputPaused:
            self.dropped += 1
            return
        if self.beforeWrite is not None:
            self.beforeWrite()
        self.transport.write((text + end).encode("utf-8", "replace"))

    def outputResumed(self) -> None:
        self.outputPaused = False
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            self.show(
                ngettext(
                    "({count} line not shown: the output was not being read)",
                    "({count} lines not shown: the output was not being read)",
                    dropped,
                ).format(count=dropped)
            )

    def outputStopped(self) -> None:
        self.outputClosed = True

    def readConnectionLost(self) -> None:
        """
        The end of stdin (Ctrl-D, the end of a file or pipe): a last line
        with no line ending (C{printf 'Leo\\nMia' |}) is a line too, as it
        is for C{cat} or C{read}.
        """
        if self.inputClosed:
            return
        rest = self.clearLineBuffer()
        if rest and not self._discarding:
            self.lineReceived(rest)
        self._inputEnded()

    def _inputEnded(self) -> None:
        if not self.inputClosed:
            self.inputClosed = True
            self.onEnd()

    def writeConnectionLost(self) -> None:
        self.outputClosed = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        Both ends closed, by us at shutdown as a rule: what was typed without
        Enter is not a reply (a terminal would not even have delivered it).
        """
        self.outputClosed = True
        self._inputEnded()
        if self.onClosed is not None:
            self.onClosed()


def usableFd(fd: int) -> bool:
    """Whether C{fd} is open at all (see L{startedWith} for stdin and stdout)."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


#: The kinds of file a stdin or stdout can be: a terminal or another
#: character device (C{/dev/null}), a pipe, a socket, a regular file or a
#: block device.  An epoll, eventfd or signalfd descriptor is an "anonymous
#: inode", none of these.
_STREAM_KINDS = (stat.S_IFCHR, stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFREG, stat.S_IFBLK)


def startedWith(fd: int, stream: object) -> bool:
    """
    Whether C{fd} (0 or 1) is still the stdin or stdout the process was
    started with, C{stream} being C{sys.__stdin__} or C{sys.__stdout__}.

    A process started with stdin or stdout closed (C{<&-}, C{>&-}: daemons
    and CI do it) has a hole at 0 or 1, and the first descriptor it opens
    fills it: under twistd, the reactor's epoll descriptor or its waker's
    pipe, made before any of our code runs.  So an open descriptor proves
    nothing (C{os.fstat} works on both), and neither does its kind (a
    waker's pipe is a pipe).  What does: Python looked at 0, 1 and 2 as it
    started, before anything could fill a hole, and left C{sys.__stdin__}
    or C{sys.__stdout__} C{None} for one that was closed.  That stream must
    also still be on C{fd}, and C{fd} still open and of a kind a terminal,
    pipe, socket or file has (not an anonymous inode such as epoll's), in
    case something closed and reused it since.
    """
    if stream is None:
        return False
    try:
        if stream.fileno() != fd:  # type: ignore[attr-defined]
            return False
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):  # No fileno(), or a closed one.
        return False
    return sys.platform == "win32" or kind in _STREAM_KINDS


class BlockingModeKeeper:
    """
    The file status flags of the terminal's descriptors (stdin and stdout):
    remembered before C{StandardIO} makes them non-blocking, given back
    whenever the terminal goes back to the shell, and taken again when it
    comes back, so that neither the shell is left with a non-blocking
    terminal nor the server with a blocking one.

    A terminal's descriptors usually share one open file with the shell, so
    their flags are the shell's too: a shell that finds its terminal
    non-blocking (bash does, after Ctrl-Z or while a job runs in the
    background) makes it blocking again, and a write to a stalled terminal
    (Ctrl-S) would then freeze the whole server.  Hence L{reclaim} on
    C{SIGCONT}, and L{keepNonBlocking} before each line written.
    """

    def __init__(self, fds: tuple[int, ...] = (0, 1)) -> None:
        self._saved: dict[int, int] = {}
        if sys.platform != "win32":
            for fd in fds:
                with contextlib.suppress(OSError):
                    self._saved[fd] = fcntl.fcntl(fd, fcntl.F_GETFL)

    def restore(self) -> None:
        """Put the flags back as they were (before a stop or an exit)."""
        if sys.platform != "win32":
            for fd, flags in self._saved.items():
                with contextlib.suppress(OSError):
                    fcntl.fcntl(fd, fcntl.F_SETFL, flags)

    def reclaim(self) -> None:
        """Make the descriptors non-blocking again (after C{SIGCONT})."""
        for fd in self._saved:
            self.keepNonBlocking(fd)

    def keepNonBlocking(self, fd: int) -> None:
        """
        Make C{fd} non-blocking again if something made it blocking while it
        is ours (one C{fcntl} call, 0.4 us, when nothing did).
        """
        if sys.platform != "win32" and fd in self._saved:
            with contextlib.suppress(OSError):
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                if not flags & os.O_NONBLOCK:
                    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)

    def giveBack(self) -> None:
        """L{restore}, for good: the terminal is closed, later calls do nothing."""
        self.restore()
        self._saved.clear()


#: Whether stdin and stdout are Windows' (tests set it to try that path on Linux).
WINDOWS = sys.platform == "win32"


def attachStdio(terminal: Terminal, stdin: int, stdout: int, reactor: Any) -> Any:
    """
    Connect C{terminal} to the given file descriptors: with C{StandardIO}
    on POSIX; on Windows, whose C{StandardIO} takes no descriptors, reads
    a console as the end of input and closes the real stdout (twisted#7058,
    twisted#2157), with the threads of L{twisted_names.console.winstdio}.

    Tests pass pipes; the programs pass 0 and 1.
    """
    if WINDOWS:
        from twisted_names.console import winstdio

        return winstdio.attach(terminal, stdin, stdout, reactor)
    return StandardIO(terminal, stdin=stdin, stdout=stdout, reactor=reactor)  # type: ignore[call-arg]


def closeTerminal(
    terminal: Terminal, stdio: Any, clock: Any, timeout: float = 2.0
) -> Deferred[bool]:
    """
    Close C{stdio} once the terminal has taken what is still to be shown, or
    after C{timeout} seconds if it takes nothing (a stopped terminal).

    @return: fires with C{True} if everything was shown (or stdout was
        already gone), C{False} if the terminal took nothing in time.
    """
    flushed: Deferred[bool] = Deferred()

    def closed() -> None:
        if not flushed.called:
            flushed.callback(True)

    terminal.onClosed = closed
    stdio.loseConnection()
    if terminal.outputClosed:
        closed()  # Nothing can be shown any more: nothing to wait for.
    flushed.addTimeout(timeout, clock)
    return flushed.addErrback(lambda _: False)
