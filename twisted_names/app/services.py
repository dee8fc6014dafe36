"""
The names-server as services, each with one job, composed by
L{twisted_names.app.assembly.assembleServer}:

  - L{ListeningService}: Twisted's own C{StreamServerEndpointService} (what
    C{strports.service} makes) listening on the endpoint, saying where, and
    closing every client when it stops;
  - L{TerminalService}: the operator's terminal, stdin and stdout through
    C{StandardIO}, given back as it was found;
  - L{OperatorService}: the console's greeting and its last words;
  - L{twisted_names.app.process.ProcessService}: what only the whole process
    may do (signals, the collector, limits), under twistd only;

and L{NamesServerService}, their parent, which stops them one after another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO, TypeVar, cast

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService, Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.logger import ILogObserver, Logger
from twisted.python.components import Componentized
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.app.options import escapeForEndpoint
from twisted_names.console.editor import OperatorEditor
from twisted_names.console.model import Operator
from twisted_names.console.terminal import (
    BlockingModeKeeper,
    Terminal,
    attachStdio,
    closeTerminal,
    startedWith,
)
from twisted_names.display import describeAddress
from twisted_names.i18n import N_, _
from twisted_names.logs.observers import TerminalLogObserver
from twisted_names.oserrors import ADDRESS_IN_USE, describe
from twisted_names.replies import ReplyQueue
from twisted_names.server import NameServerFactory

log = Logger(namespace="names")

_S = TypeVar("_S", bound=Service)

#: How long shutdown waits for the terminal to take what is still to be shown.
FLUSH_TIMEOUT = 2.0


@dataclass(frozen=True)
class ListeningAddress:
    """Where the server listens without C{--endpoint}, with the defaults."""

    port: int = 5000
    interface: str = "127.0.0.1"
    backlog: int = 1024

    def description(self) -> str:
        """The TCP endpoint string (an IPv6 address's colons escaped)."""
        interface = escapeForEndpoint(self.interface)
        return f"tcp:{self.port}:interface={interface}:backlog={self.backlog}"


class ClosesAll(Protocol):
    """A server factory that can close all its connections (at shutdown)."""

    def closeAll(self) -> int:
        """Close every connection; return how many there were."""


class CannotListen(SystemExit):
    """The server could not listen: one line for the person, exit status 1."""


@implementer(IStreamServerEndpoint)
class _Reporting:
    """
    An endpoint whose C{listen} result the L{ListeningService} sees before
    C{StreamServerEndpointService} does, so that it can say in one line why
    it cannot listen, at once or later.
    """

    def __init__(self, endpoint: IStreamServerEndpoint, service: ListeningService) -> None:
        self._endpoint = endpoint
        self._service = service

    def listen(self, factory: Any) -> Deferred[IListeningPort]:
        listening = self._endpoint.listen(factory).addCallback(self._service._listening)
        # None once said: StreamServerEndpointService takes it as no port.
        return cast(Deferred[IListeningPort], listening.addErrback(self._service._notListening))


#: What the operator reads (on stderr, in their language) and the log says
#: (in English) when the server cannot listen.
CANNOT_LISTEN = N_("names-server: cannot listen on {where}: {why}")
PORT_IN_USE = N_(
    "names-server: cannot listen on {where}: the port is in use: another server listens"
    " there, or a previous one's connections are still closing (wait a minute, or choose"
    " another port with --port)"
)


class ListeningService(StreamServerEndpointService):
    """
    Listens on an endpoint, as C{strports.service} would, and closes every
    client when it stops.

    A failure to listen is one line on stderr (C{names-server: cannot listen
    on DESCRIPTION: REASON}), never a traceback: at once, as for a port in
    use, it raises L{CannotListen} (exit status 1, as twistd exits with a
    C{SystemExit} from C{startService}); later, for an endpoint that listens
    asynchronously, C{onFailure} is called (under twistd: stop, status 1).

    @ivar port: the listening port, once listening.
    @ivar stderr: where a failure to listen is said; the real stderr, as
        twistd has made C{sys.stderr} a log file by then.
    """

    # What strports.service sets: a failure known at once is raised at once.
    _raiseSynchronously = True
    port: IListeningPort | None = None
    stderr: TextIO | None = sys.__stderr__
    #: What is said (marked with L{N_}): where it listens, and why it cannot
    #: (another program's, names-proxy's, say their own name).
    listeningForm = N_("names-server listening on {address}")
    cannotListenForm = CANNOT_LISTEN
    portInUseForm = PORT_IN_USE

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        description: str,
        factory: NameServerFactory | ClosesAll,
        onFailure: Callable[[], object] = lambda: None,
        where: str | None = None,
    ) -> None:
        super().__init__(_Reporting(endpoint, self), factory)
        self.description = description
        #: The address as people say it (C{127.0.0.1:5000}), if known.
        self.where = where or description
        self.onFailure = onFailure
        self._starting = False
        self._waiters: list[Deferred[IListeningPort]] = []

    def whenListening(self) -> Deferred[IListeningPort]:
        """A new Deferred that fires with the port once listening."""
        if self.port is not None:
            return succeed(self.port)
        d: Deferred[IListeningPort] = Deferred()
        self._waiters.append(d)
        return d

    def privilegedStartService(self) -> None:
        self._starting = True
        try:
            super().privilegedStartService()
        except CannotListen:
            raise
        except Exception:  # Said by _notListening already.
            raise CannotListen(1) from None
        finally:
            self._starting = False

    def startService(self) -> None:
        super().startService()
        self.whenListening().addCallback(self._sayWhere)

    def _sayWhere(self, port: IListeningPort) -> None:
        log.info(self.listeningForm, address=describeAddress(port.getHost()))

    def _listening(self, port: IListeningPort) -> IListeningPort:
        self.port = port
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(port)
        return port

    def _notListening(self, failure: Failure) -> Failure | None:
        if failure.check(CancelledError):
            return None  # Stopped before it listened.
        reason = failure.value
        socketError = getattr(reason, "socketError", None)
        cause = socketError if isinstance(socketError, BaseException) else reason
        why: object = cause
        form = self.cannotListenForm
        if isinstance(why, OSError) and why.errno in ADDRESS_IN_USE:
            form = self.portInUseForm
        elif isinstance(why, OSError) and why.strerror:
            why = why.strerror  # Not Twisted's lock file's name for it.
        fields = {"where": self.where, "why": str(why)}
        if self.stderr is not None:
            said = fields if form is self.portInUseForm else {**fields, "why": describe(cause)}
            self.stderr.write(_(form).format(**said) + "\n")
            self.stderr.flush()
        if self._starting:
            return failure  # Raised by privilegedStartService.
        log.error(form, message=form.format(**fields), **fields)
        self.onFailure()
        return None

    def stopService(self) -> Deferred[None]:
        if self._waitingForPort is None:  # Never started.
            return succeed(None)
        stopped: Deferred[None] = super().stopService()
        self.port = None
        closed = self.factory.closeAll()
        if closed:
            log.info(N_("closed {count} connections at shutdown"), count=closed)
        return stopped


def echoesControlKeys(fd: int) -> bool:
    """
    Whether C{fd} is a terminal that echoes control keys as typed (C{^C}):
    a POSIX terminal with C{ECHO} and C{ECHOCTL}, as shells leave it.
    """
    if sys.platform == "win32":
        return False
    import termios

    try:
        lflag: int = termios.tcgetattr(fd)[3]
    except (termios.error, OSError, ValueError):
        return False  # Not a terminal (a pipe, a file, /dev/null).
    wanted = termios.ECHO | termios.ECHOCTL
    return lflag & wanted == wanted


class TerminalService(Service):
    """
    The operator's terminal: C{terminal} on stdin and stdout through
    C{StandardIO} while running (stdin only if C{readInput}), the log lines
    shown through it, and the terminal given back as it was found.

    @ivar stdioFds: the descriptors to use instead of stdin and stdout
        (tests give pipes; C{None} for one that is closed).
    @ivar modes: the terminal's flags, kept while it is ours.
    """

    stdioFds: tuple[int | None, int | None] | None = None
    _stdio: Any = None
    #: The descriptor written to while running.
    _output: int = -1
    #: The last line shown (names-proxy says its own name).
    stoppedText = N_("names-server: stopped.")
    #: Descriptors opened here (C{/dev/null}s), closed with the terminal.
    _opened: list[int]

    def __init__(
        self,
        terminal: Terminal,
        reactor: Any,
        readInput: bool = True,
        logObserver: TerminalLogObserver | None = None,
    ) -> None:
        self.terminal = terminal
        self.reactor = reactor
        self.readInput = readInput
        self.logObserver = logObserver
        self.modes: BlockingModeKeeper | None = None

    def startService(self) -> None:
        super().startService()
        stdin, stdout = self.stdioFds or standardFds()
        if not self.readInput:
            stdin = None
        self._opened = []
        if stdin is None:
            stdin = self._devnull(os.O_RDONLY)  # An input that has ended.
        if stdout is None:
            stdout = self._devnull(os.O_WRONLY)
        modes = self.modes = BlockingModeKeeper(
            tuple(fd for fd in (stdin, stdout) if fd not in self._opened)
        )
        output = self._output = stdout
        self.terminal.beforeWrite = lambda: modes.keepNonBlocking(output)
        self._stdio = attachStdio(self.terminal, stdin, stdout, self.reactor)
        if self.logObserver is not None:
            self.logObserver.show = self.terminal.show

    def endEchoedLine(self) -> None:
        """
        After a Ctrl-C, end the line the terminal echoed C{^C} on, so that
        the lines shown next (the log's, the last one) start a line of
        their own instead of being glued to C{^C}.  Only where the terminal
        echoes control keys: stdout a terminal in its usual mode.
        """
        if self._stdio is not None and echoesControlKeys(self._output):
            self.terminal.show("")

    def _devnull(self, mode: int) -> int:
        """C{/dev/null} opened for C{mode}, to be closed with the terminal."""
        fd = os.open(os.devnull, mode)
        self._opened.append(fd)
        return fd

    def stopService(self) -> Deferred[None]:
        """Let the terminal show what is left, then give it back as it was."""
        super().stopService()
        terminal, stdio = self.terminal, self._stdio
        if stdio is None:
            return succeed(None)
        self._stdio = None
        terminal.show(_(self.stoppedText))

        def giveBack(flushed: bool) -> None:
            if self.logObserver is not None:
                # twistd's last lines go to stdout itself, blocking again; but
                # not into a stdout that took nothing for seconds (a paused
                # pager, Ctrl-S): that would hang the exit.
                self.logObserver.show = None if flushed else _discard
            if self.modes is not None:
                self.modes.giveBack()
            opened, self._opened = self._opened, []
            for fd in opened:
                os.close(fd)

        return closeTerminal(terminal, stdio, self.reactor, FLUSH_TIMEOUT).addCallback(giveBack)


class EditorService(Service):
    """
    The operator's console on a real terminal (stdin and stdout both a TTY,
    or both the Windows console): L{twisted_names.console.editor.OperatorEditor}, a
    line editor in raw mode, with notices and warnings printed above the
    input line; the terminal given back exactly as it was found (termios
    attributes and file flags; on Windows the console's modes and code
    pages, L{twisted_names.console.wincon}), however the server stops.

    @ivar modes: the terminal's saved state while it is ours, for the
        process service's signal handlers (L{restore} before a stop or an
        exit, L{reclaim} after C{SIGCONT}).
    """

    modes: Any = None
    _stdio: Any = None

    def __init__(
        self,
        editor: OperatorEditor,
        reactor: Any,
        stdin: int,
        stdout: int,
        logObserver: TerminalLogObserver | None = None,
    ) -> None:
        self.editor = editor
        self.reactor = reactor
        self.stdin, self.stdout = stdin, stdout
        self.logObserver = logObserver

    def startService(self) -> None:
        super().startService()
        if sys.platform == "win32":
            from twisted_names.console.wincon import attachEditor

            self._stdio, self.modes = attachEditor(
                self.editor, self.reactor, self.stdin, self.stdout
            )
        else:  # The platform test mypy understands.
            from twisted_names.console.rawtty import attachEditor

            self._stdio, self.modes = attachEditor(
                self.editor, self.reactor, self.stdin, self.stdout
            )
        if self.logObserver is not None:
            self.logObserver.show = self.editor.notice

    def stopService(self) -> Deferred[None]:
        """Say the last word below the notices, close, give the terminal back."""
        super().stopService()
        if self._stdio is None:
            return succeed(None)
        self._stdio = None
        closed: Deferred[bool] = Deferred()

        def onClosed() -> None:
            if not closed.called:
                closed.callback(True)

        self.editor.onClosed = onClosed
        self.editor.close(_("names-server: stopped."))
        closed.addTimeout(FLUSH_TIMEOUT, self.reactor)

        def giveBack(flushed: object) -> None:
            if self.logObserver is not None:
                self.logObserver.show = None if flushed is True else _discard
            modes, self.modes = self.modes, None
            if modes is not None:
                modes.restore()

        return closed.addBoth(giveBack)


class OperatorService(Service):
    """
    The console's words at the edges: where the server listens once it
    does, and, when stopping, how many clients were closed (said once,
    instead of each closed client as if it had left).
    """

    def __init__(
        self,
        console: Operator,
        queue: ReplyQueue,
        factory: NameServerFactory,
        listening: ListeningService,
    ) -> None:
        self.console = console
        self.queue = queue
        self.factory = factory
        self.listening = listening

    def startService(self) -> None:
        super().startService()
        self.listening.whenListening().addCallback(
            lambda port: self.console.greet(describeAddress(port.getHost()))
        )

    def stopService(self) -> None:
        super().stopService()
        # The listening service, stopped next, closes all these clients.
        self.console.stopping(len(self.factory.clients))
        self.queue.stopTimeouts()


class NamesServerService(MultiService):
    """
    The names-server: its services, started in the order added and stopped
    one after another in the reverse order, each once the one before has
    stopped, so that the terminal, stopped last, shows all that is said
    while stopping.

    @ivar logObserver: given to twistd as the application's log observer.
    """

    def __init__(self, logObserver: ILogObserver | None = None) -> None:
        super().__init__()
        self.logObserver = logObserver

    def add(self, name: str, service: _S) -> _S:
        """Add C{service} as the child named C{name}; return it."""
        service.setName(name)
        service.setServiceParent(self)
        return service

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        if self.logObserver is not None and isinstance(parent, Componentized):
            # twistd uses the application's log observer, if it has one.
            parent.setComponent(ILogObserver, self.logObserver)

    def stopService(self) -> Deferred[None]:
        Service.stopService(self)
        return Deferred.fromCoroutine(self._stopChildren())

    async def _stopChildren(self) -> None:
        for child in reversed(list(self)):
            try:
                await maybeDeferred(child.stopService)
            except Exception:
                log.failure(N_("while stopping {child}"), child=child)


def _discard(text: str) -> None:
    """Show nothing: where log lines go once stdout stopped taking them."""


def standardFds() -> tuple[int | None, int | None]:
    """
    stdin and stdout for C{StandardIO}: 0 and 1, or C{None} for one the
    process was started without (C{<&-}, C{>&-}), whose number now belongs
    to something else (see L{startedWith}).
    """
    stdin = 0 if startedWith(0, sys.__stdin__) else None
    stdout = 1 if startedWith(1, sys.__stdout__) else None
    return stdin, stdout
