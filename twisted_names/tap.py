"""
C{twistd names-server}: its options, and the service that listens, talks to
the operator's terminal and shuts down cleanly.

All behaviour lives in the other modules; this one wires options to objects.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from types import FrameType
from typing import Any, TextIO

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IStreamServerEndpoint
from twisted.logger import ILogObserver, Logger
from twisted.python import usage
from twisted.python.components import Componentized
from twisted.python.failure import Failure

from twisted_names.console import OperatorConsole
from twisted_names.display import describeAddress
from twisted_names.logs import BatchedFileLogObserver, TerminalLogObserver, fileObserver
from twisted_names.options import (
    COUNT,
    COUNT_OR_ZERO,
    PORT,
    SECONDS,
    checkEndpoint,
    checkNameOption,
    checkPort,
    escapeForEndpoint,
    explainUsageError,
    globalReactor,
)
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings
from twisted_names.terminal import (
    BlockingModeKeeper,
    Terminal,
    attachStdio,
    closeTerminal,
    usableFd,
)
from twisted_names.wire import DEFAULT_MAX_LENGTH, DEFAULT_QUIET_PERIOD

log = Logger(namespace="names")

#: How long shutdown waits for the terminal to take what is still to be shown.
FLUSH_TIMEOUT = 2.0


class Options(usage.Options):
    """The options of C{twistd names-server}."""

    synopsis = "[options]"
    longdesc = (
        "A TCP name exchange.  Each client sends its name; it is shown here, you type the"
        " server's name, it goes back to that client and the connection closes.  Clients"
        " that arrive while you type wait in line, answered in the order they came.  With"
        " --name, every client is answered at once with that name.  Run it with twistd -n"
        " (in the foreground) unless --name is given: the replies are read from stdin."
    )
    optFlags = [
        [
            "chat",
            "c",
            "Keep each connection for turn after turn, as the course's chat did: every line"
            " a client sends gets one reply, until the client ends it.",
        ],
    ]
    optParameters = [
        ["port", "p", 5000, "TCP port to listen on (0: any free port).", PORT],
        [
            "interface",
            "i",
            "127.0.0.1",
            "Address to listen on: 127.0.0.1 (this machine only), ::1 (IPv6), 0.0.0.0 or ::"
            " (every network).",
        ],
        [
            "endpoint",
            "e",
            None,
            "Where to listen, as a Twisted server endpoint string; overrides --port,"
            " --interface and --backlog. Examples: tcp:5000, tcp6:5000:interface=\\:\\:1,"
            " unix:/tmp/names.sock, ssl:5000:privateKey=key.pem:certKey=cert.pem.",
        ],
        [
            "name",
            None,
            None,
            "Answer every client at once with this name: no operator, nothing read from"
            " stdin (for daemons, scripts and benchmarks).",
        ],
        [
            "max-length",
            None,
            DEFAULT_MAX_LENGTH,
            "Longest name, in bytes; a client sending a longer line is logged and closed.",
            COUNT,
        ],
        [
            "quiet-period",
            None,
            DEFAULT_QUIET_PERIOD,
            "Seconds after which bytes with no line ending count as a whole name, for"
            " clients that send none (0: only a line ending or the client's close do).",
            SECONDS,
        ],
        [
            "name-timeout",
            None,
            30.0,
            "Seconds a client has to send its name (in chat mode, each next line); 0: no limit.",
            SECONDS,
        ],
        [
            "reply-timeout",
            None,
            300.0,
            "Seconds a client waits for the operator's reply before it is closed; 0: no limit.",
            SECONDS,
        ],
        [
            "max-clients",
            None,
            1000,
            "Connections open at once; more are refused at once (and logged).",
            COUNT,
        ],
        [
            "max-per-address",
            None,
            0,
            "Connections open at once from one IP address; 0: no limit.",
            COUNT_OR_ZERO,
        ],
        [
            "backlog",
            None,
            1024,
            "Connections the kernel holds before the server accepts them (the"
            " operating system may cap it).",
            COUNT,
        ],
    ]

    def postOptions(self) -> None:
        checkPort(self)
        checkNameOption(self)
        self["description"] = self["endpoint"] or self._tcpDescription()
        checkEndpoint(serverFromString, self["description"])

    def _tcpDescription(self) -> str:
        interface = escapeForEndpoint(self["interface"])
        return f"tcp:{self['port']}:interface={interface}:backlog={self['backlog']}"

    def parseOptions(self, options: list[str] | None = None) -> None:
        """
        Parse; under twistd, a bad option gives one clear line and exit
        status 2 instead of twistd's whole usage text.
        """
        argv = sys.argv[1:] if options is None else list(options)
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            message = explainUsageError(e, argv)
            if self.parent is None:
                raise usage.UsageError(message) from None
            sys.stderr.write(
                f"twistd names-server: error: {message}\n"
                "Run 'twistd names-server --help' for the options.\n"
            )
            raise SystemExit(2) from None


class CannotListen(SystemExit):
    """The server could not listen: one line for the person, exit status 1."""


class NamesServerService(MultiService):
    """
    Listens, shows the operator the clients and reads the replies, and on
    shutdown closes every client and leaves the terminal as it was.

    @ivar ownsProcess: run by twistd as the whole process: it handles the
        stop signals and tunes the garbage collector.  Not in tests.
    """

    port: IListeningPort | None = None
    #: Where a failure to listen is said: the real stderr, as twistd has made
    #: sys.stderr a log file by then.
    stderr: TextIO = sys.__stderr__ or sys.stderr
    terminal: Terminal | None = None
    console: OperatorConsole | None = None
    _stopping = False
    _stdio: Any = None
    _modes: BlockingModeKeeper | None = None

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        description: str,
        factory: NameServerFactory,
        queue: ReplyQueue | None,
        reactor: Any,
        logObserver: TerminalLogObserver | BatchedFileLogObserver | None = None,
        ownsProcess: bool = False,
        stdio: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.description = description
        self.factory = factory
        self.queue = queue
        self.reactor = reactor
        self.logObserver = logObserver
        self.ownsProcess = ownsProcess
        self.stdioFds = stdio

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        if self.logObserver is not None and isinstance(parent, Componentized):
            # twistd uses the application's log observer, if it has one.
            parent.setComponent(ILogObserver, self.logObserver)

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        outcome: list[Any] = []
        self.endpoint.listen(self.factory).addBoth(outcome.append)
        if not outcome:
            raise CannotListen(f"names-server: {self.description} did not listen at once")
        if isinstance(outcome[0], Failure):
            reason = outcome[0].value
            why = getattr(reason, "socketError", None) or reason
            if isinstance(why, OSError) and why.strerror:
                why = why.strerror  # Not Twisted's lock file's name for it.
            message = f"names-server: cannot listen on {self.description}: {why}"
            self.stderr.write(message + "\n")
            raise CannotListen(1)
        self.port = outcome[0]

    def startService(self) -> None:
        super().startService()
        if self.port is None:
            self.privilegedStartService()
        assert self.port is not None
        where = describeAddress(self.port.getHost())
        log.info("names-server listening on {address}", address=where)
        if self.ownsProcess:
            self.reactor.callWhenRunning(self._handleSignals)
            # What start-up made (Twisted's modules and the like: some 100,000
            # objects) lives as long as the process.  Out of the collector's
            # sight, it is no longer scanned by every full collection a busy
            # server triggers: p99 latency at 500 clients fell from about 33 ms
            # to 24 ms, and CPU per exchange by about 3 us (docs/performance.md).
            gc.freeze()
        if self.queue is not None or isinstance(self.logObserver, TerminalLogObserver):
            self._startConsole(where)

    def _startConsole(self, where: str) -> None:
        """
        The operator's console; with C{--name}, only a terminal for the log
        lines (stdin is not read), so an unread stdout cannot block the
        server either.
        """
        stdin, stdout = self.stdioFds or _standardFds()
        if self.queue is None:
            stdin = os.open(os.devnull, os.O_RDONLY)
        self._modes = BlockingModeKeeper((stdin, stdout))
        console: OperatorConsole | None = None
        if self.queue is None:
            terminal = Terminal(_discard, lambda: None)
        else:
            console = self.console = OperatorConsole(
                self.queue, lambda text: terminal.show(text), self.factory.settings.maxLength
            )
            terminal = Terminal(console.lineTyped, console.inputEnded)
        self.terminal = terminal
        self._stdio = attachStdio(terminal, stdin, stdout, self.reactor)
        if isinstance(self.logObserver, TerminalLogObserver):
            self.logObserver.show = terminal.show
        if console is not None:
            console.greet(where)

    def _handleSignals(self) -> None:
        """
        Stop on SIGINT, SIGTERM and SIGHUP with exit status 0: twistd would
        otherwise re-raise SIGINT and SIGTERM on itself after shutdown.
        """
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, self._signalled)

    def _signalled(self, number: int, frame: FrameType | None) -> None:
        self.reactor.callFromThread(self._stopFor, signal.Signals(number).name)

    def _stopFor(self, signalName: str) -> None:
        if self._stopping or not self.reactor.running:
            return  # Already stopping: Ctrl-C twice is not an error.
        self._stopping = True
        log.info("{signal}: stopping", signal=signalName)
        self.reactor.stop()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        stopped: Deferred[Any] = succeed(None)
        if self.port is not None:
            stopped = maybeDeferred(self.port.stopListening)
            self.port = None
        closed = self.factory.closeAll()
        if closed:
            log.info("closed {count} connections at shutdown", count=closed)
        if self.console is not None:
            self.console.stopping(closed)
        if self.queue is not None:
            self.queue.stopTimeouts()
        stopped.addCallback(lambda _: self._stopConsole())
        return stopped

    def _stopConsole(self) -> Deferred[None] | None:
        """Let the terminal show what is left, then give it back as it was."""
        terminal, stdio = self.terminal, self._stdio
        if terminal is None or stdio is None:
            return None
        terminal.show("names-server: stopped.")

        def restore(flushed: bool) -> None:
            if isinstance(self.logObserver, TerminalLogObserver):
                # twistd's last lines go to stdout itself, blocking again; but
                # not into a stdout that took nothing for seconds (a paused
                # pager, Ctrl-S): that would hang the exit.
                self.logObserver.show = None if flushed else _discard
            if self._modes is not None:
                self._modes.restore()

        return closeTerminal(terminal, stdio, self.reactor, FLUSH_TIMEOUT).addCallback(restore)


def _discard(text: str) -> None:
    """Show nothing: where log lines go once stdout stopped taking them."""


def _standardFds() -> tuple[int, int]:
    """
    stdin and stdout for C{StandardIO}; C{/dev/null} for one that is closed
    (CI and daemons may start us so): a closed stdin is an ended one.
    """
    stdin = 0 if usableFd(0) else os.open(os.devnull, os.O_RDONLY)
    stdout = 1 if usableFd(1) else os.open(os.devnull, os.O_WRONLY)
    return stdin, stdout


def makeService(options: Options, reactor: Any = None) -> NamesServerService:
    """Make the names-server service from the parsed C{options}."""
    reactor = reactor or globalReactor()
    settings = ServerSettings(
        maxLength=options["max-length"],
        quietPeriod=options["quiet-period"],
        nameTimeout=options["name-timeout"],
        chat=options["chat"],
        maxClients=options["max-clients"],
        maxPerAddress=options["max-per-address"],
    )
    queue: ReplyQueue | None = None
    replies: ReplySource
    if options["name"] is not None:
        replies = FixedReply(options["name"])
    else:
        queue = ReplyQueue(reactor, options["reply-timeout"])
        replies = queue
    twistd = options.parent
    observer: TerminalLogObserver | BatchedFileLogObserver | None = None
    if twistd is not None:
        logFile = _logFile(twistd)
        if logFile is not None:
            observer = fileObserver(logFile, reactor)
        elif _logsToStdout(twistd):
            observer = TerminalLogObserver(sys.stdout)
    return NamesServerService(
        serverFromString(reactor, options["description"]),
        options["description"],
        NameServerFactory(replies, reactor, settings),
        queue,
        reactor,
        logObserver=observer,
        ownsProcess=twistd is not None,
    )


def _logFile(twistd: Any) -> str | None:
    """The log file twistd was told to write (a daemon's default: twistd.log)."""
    if twistd.get("syslog") or twistd.get("logger"):
        return None
    logfile = twistd.get("logfile")
    if logfile == "-":
        return None
    if logfile:
        return str(logfile)
    return None if twistd.get("nodaemon") else "twistd.log"


def _logsToStdout(twistd: Any) -> bool:
    """Whether twistd was told to log to stdout (C{-n}, no log destination)."""
    return bool(
        twistd.get("nodaemon")
        and twistd.get("logfile") in (None, "", "-")
        and not twistd.get("syslog")
        and not twistd.get("logger")
    )
