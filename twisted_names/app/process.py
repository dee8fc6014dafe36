"""
What only the names-server as a whole process may do, under twistd: catch
signals, tune the garbage collector, see to its file descriptor limit, and
set its exit status.  Tests of the other services never start this one: it
would take their signals over.

What each signal does (README.md has the same table):

  - SIGINT, SIGTERM, SIGHUP: stop cleanly (clients closed, the terminal
    given back as it was), exit status 0.
  - SIGUSR1: rotate the log file, as twistd does; without one, logged and
    ignored.
  - SIGTSTP (Ctrl-Z), SIGTTIN, SIGTTOU: give the terminal back as it was,
    then stop as usual; SIGCONT (C{fg}, C{bg}): take it again, non-blocking.
  - SIGQUIT (Ctrl-\\), SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU: end
    the process as usual (by that signal, with a core dump where that is
    the default), but with the terminal given back first.
  - SIGXFSZ: ignored, so that a log file over the size limit (C{ulimit -f})
    makes its writes fail, counted, rather than kill the server.
  - SIGPIPE: ignored, as Python always does: a closed pipe or connection is
    an error on that write only.
  - SIGKILL, SIGSTOP: cannot be caught; after SIGKILL the terminal may be
    left non-blocking.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from twisted.application.service import Service
from twisted.logger import Logger

from twisted_names.i18n import N_

log = Logger(namespace="names")

#: Signals that stop the server cleanly, with exit status 0.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
#: Signals that stop (suspend) the process once the terminal is given back.
SUSPEND_SIGNALS = ("SIGTSTP", "SIGTTIN", "SIGTTOU")
#: Signals whose default is to end the process: it still ends, with the
#: terminal given back first.
FATAL_SIGNALS = ("SIGQUIT", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGXCPU")


class TerminalModes(Protocol):
    """A terminal's saved state: L{BlockingModeKeeper}, or a raw terminal's."""

    def restore(self) -> None:
        """Give the terminal back as it was found."""

    def reclaim(self) -> None:
        """Take it again, as the server needs it (after C{SIGCONT})."""


class HasTerminalModes(Protocol):
    """
    What holds the terminal's state (L{twisted_names.app.services.TerminalService},
    L{twisted_names.app.services.EditorService}).
    """

    @property
    def modes(self) -> TerminalModes | None:
        """The terminal's saved state while it is ours."""


class ProcessService(Service):
    """
    The process's signals, garbage collector and exit status, for twistd's
    process.

    @ivar terminal: whose terminal flags to give back and take again.
    @ivar rotateLog: what SIGUSR1 does, if there is a log file.
    @ivar maxClients: the clients the process must have descriptors for.
    """

    _stopping = False
    #: Called when SIGINT stops the process (Ctrl-C at a terminal in its
    #: usual mode, which echoed C{^C} where the cursor was), before anything
    #: else is shown: the terminal's service ends that line.
    onInterrupt: Callable[[], object] | None = None

    def __init__(
        self,
        reactor: Any,
        terminal: HasTerminalModes | None = None,
        rotateLog: Callable[[], object] | None = None,
        maxClients: int | None = None,
    ) -> None:
        self.reactor = reactor
        self.terminal = terminal
        self.rotateLog = rotateLog
        self.maxClients = maxClients

    def startService(self) -> None:
        super().startService()
        # Before the terminal is taken, so that no signal finds it taken and
        # unguarded; the stop signals again once the reactor runs, as
        # Twisted installs its own SIGINT and SIGTERM handlers as it starts.
        self._handleSignals()
        self.reactor.callWhenRunning(self._handleSignals, STOP_SIGNALS)
        # Whatever way the interpreter exits (a traceback included), the
        # terminal is given back.
        atexit.register(self._giveTerminalBack)
        if self.maxClients is not None:
            _openFilesFor(self.maxClients)
        # What start-up made (Twisted's modules and the like: some 100,000
        # objects) lives as long as the process.  Out of the collector's
        # sight, it is no longer scanned by every full collection a busy
        # server triggers: p99 latency at 500 clients fell from about 33 ms
        # to 24 ms, and CPU per exchange by about 3 us (docs/performance.md).
        gc.freeze()

    def _handleSignals(self, only: tuple[str, ...] | None = None) -> None:
        """Install the handlers of the table in the module's docstring (or C{only} some)."""
        handlers: list[tuple[tuple[str, ...], Any]] = [
            (STOP_SIGNALS, self._stopSignalled),
            (("SIGUSR1",), self._usr1),
            (SUSPEND_SIGNALS, self._suspend),
            (("SIGCONT",), self._continued),
            (FATAL_SIGNALS, self._endBySignal),
            (("SIGXFSZ",), signal.SIG_IGN),
        ]
        for names, handler in handlers:
            for name in names:
                number = getattr(signal, name, None)
                if number is not None and (only is None or name in only):
                    signal.signal(number, handler)

    # Signal handlers.  Those that act on the terminal's flags do so at once,
    # not through the reactor: the process stops or ends right after.

    def _stopSignalled(self, number: int, frame: FrameType | None) -> None:
        self.reactor.callFromThread(self._stopForSignal, signal.Signals(number).name)

    def _stopForSignal(self, name: str) -> None:
        if name == "SIGINT" and not self._stopping and self.onInterrupt is not None:
            self.onInterrupt()
        self.stopFor(name)

    def _usr1(self, number: int, frame: FrameType | None) -> None:
        self.reactor.callFromThread(self._rotate)

    def _suspend(self, number: int, frame: FrameType | None) -> None:
        self._giveTerminalBack()
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)  # Stopped here until SIGCONT.
        signal.signal(number, self._suspend)
        self._takeTerminalAgain()

    def _continued(self, number: int, frame: FrameType | None) -> None:
        self._takeTerminalAgain()

    def _endBySignal(self, number: int, frame: FrameType | None) -> None:
        self._giveTerminalBack()
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)

    def _giveTerminalBack(self) -> None:
        modes = self.terminal.modes if self.terminal is not None else None
        if modes is not None:
            modes.restore()

    def _takeTerminalAgain(self) -> None:
        modes = self.terminal.modes if self.terminal is not None else None
        if modes is not None:
            modes.reclaim()

    def _rotate(self) -> None:
        if self.rotateLog is None:
            log.info(N_("SIGUSR1: no log file to rotate (ignored)"))
        else:
            self.rotateLog()

    def stopFor(self, why: str, status: int = 0, form: str = N_("{why}: stopping")) -> None:
        """
        Stop the reactor (and so the server), once, saying C{why} (in the
        log format C{form}, marked for the console); the process exits with
        C{status}.
        """
        if self._stopping or not self.reactor.running:
            return  # Already stopping: Ctrl-C twice is not an error.
        self._stopping = True
        log.info(form, why=why)
        if status:
            _exitStatusAtExit(status)
        self.reactor.stop()


#: Descriptors the server needs besides one a client: stdin, stdout, stderr,
#: the reactor's, the listening socket, log files, Twisted's reserve for
#: EMFILE, a rotation's new file, ...
FD_MARGIN = 32


def fileLimitFor(
    maxClients: int, soft: int, hard: int, infinity: int
) -> tuple[int | None, dict[str, int] | None]:
    """
    What to do about the limit of open files (C{ulimit -n}) for
    C{maxClients} clients: the soft limit to raise it to (C{None}: none),
    and, if even that is too low, the fields of the L{TOO_FEW_FILES}
    warning (else C{None}).

    Raising the soft limit up to the hard one needs no privilege; it is
    raised only as far as needed.
    """
    needed = maxClients + FD_MARGIN
    if soft == infinity or soft >= needed:
        return None, None
    possible = needed if hard == infinity else min(needed, hard)
    raiseTo = possible if possible > soft else None
    if possible >= needed:
        return raiseTo, None
    tooFew = {
        "clients": maxClients,
        "needed": needed,
        "possible": possible,
        "usable": max(possible - FD_MARGIN, 0),
    }
    return raiseTo, tooFew


#: The warning when even the hard limit of open files is too low, marked for
#: the console (the log says it in English).
TOO_FEW_FILES = N_(
    "--max-clients {clients} needs about {needed} open files, but the limit is"
    " {possible} (ulimit -n): past about {usable} clients the system, not"
    " --max-clients, will refuse connections"
)


def _openFilesFor(maxClients: int) -> None:
    """Raise the soft limit of open files as far as needed; warn if it stays too low."""
    if sys.platform == "win32":
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raiseTo, tooFew = fileLimitFor(maxClients, soft, hard, resource.RLIM_INFINITY)
    if raiseTo is not None:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raiseTo, hard))
        except (OSError, ValueError) as e:
            if tooFew is None:
                log.warn(
                    N_("could not raise the limit of open files to {limit}: {error}"),
                    limit=raiseTo,
                    error=str(e),
                )
        else:
            log.info(
                N_("open files limit raised from {soft} to {limit} for --max-clients {clients}"),
                soft=soft,
                limit=raiseTo,
                clients=maxClients,
            )
    if tooFew is not None:
        log.warn(TOO_FEW_FILES, **tooFew)


def _exitStatusAtExit(status: int) -> None:
    """
    Make the process exit with C{status} once twistd is done.

    twistd exits 0 whenever its reactor stopped, and nothing raised in the
    reactor reaches its caller; so the last word is an C{atexit} handler,
    run after twistd has stopped the services, logged its last lines and
    removed its pid file: it flushes the standard streams and ends the
    process with C{status}, skipping only the exit handlers registered
    before it (Python's own, for a process that has nothing left to do).
    """

    def exit() -> None:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        os._exit(status)

    atexit.register(exit)
