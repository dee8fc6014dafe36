"""
C{twistd names-server}: its options, wired to the objects that do the work
(L{twisted_names.app.services}, L{twisted_names.app.process}, the server and the
console).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import twisted
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from twisted_names import __version__
from twisted_names.app.helptext import TranslatedOptions
from twisted_names.app.options import (
    COUNT,
    COUNT_OR_ZERO,
    PORT,
    SECONDS,
    checkEndpoint,
    checkNameOption,
    checkPort,
    explainUsageError,
    globalReactor,
    unknownOption,
)
from twisted_names.app.process import ProcessService
from twisted_names.app.services import (
    CannotListen,
    EditorService,
    ListeningAddress,
    ListeningService,
    NamesServerService,
    OperatorService,
    TerminalService,
    standardFds,
)
from twisted_names.console.editor import OperatorEditor
from twisted_names.console.model import Operator
from twisted_names.console.plain import OperatorConsole
from twisted_names.console.terminal import Terminal
from twisted_names.display import hostAndPort
from twisted_names.i18n import N_, _
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.logs.observers import (
    BatchedFileLogObserver,
    TerminalLogObserver,
    logObserverFor,
)
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings

__all__ = ["CannotListen", "Options", "makeService"]

#: The defaults of the options, from the objects that use them.
SERVER = ServerSettings()
ADDRESS = ListeningAddress()


class Options(TranslatedOptions):
    """The options of C{twistd names-server}."""

    synopsis = N_("[options]")

    def __init__(self) -> None:
        super().__init__()
        # The first of the server's code twistd runs, before --help or an
        # error is printed: on Windows, stdout and stderr that are pipes or
        # files are written in UTF-8 from here on.
        if sys.platform == "win32":
            from twisted_names.console.winstdio import utf8Streams

            utf8Streams()

    optDocs = {"version": N_("Show the version of twisted-names (and of Twisted) and exit.")}
    longdesc = N_(
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
            N_(
                "Keep each connection for turn after turn, as the course's chat did: every line"
                " a client sends gets one reply, until the client ends it."
            ),
        ],
        [
            "trace",
            None,
            N_(
                "Show each connection as it happens: who connected, every chunk of bytes"
                " received and sent (as text and hex), what the framing decided, the wait"
                " for the reply, and how the connection ended (docs/teaching.md)."
            ),
        ],
    ]
    optParameters = [
        ["port", "p", ADDRESS.port, N_("TCP port to listen on (0: any free port)."), PORT],
        [
            "interface",
            "i",
            ADDRESS.interface,
            N_(
                "Address to listen on: 127.0.0.1 (this machine only), ::1 (IPv6), 0.0.0.0 or ::"
                " (every network)."
            ),
        ],
        [
            "endpoint",
            "e",
            None,
            N_(
                "Where to listen, as a Twisted server endpoint string; overrides --port,"
                " --interface and --backlog. Examples: tcp:5000, tcp6:5000:interface=\\:\\:1,"
                " unix:/tmp/names.sock, ssl:5000:privateKey=key.pem:certKey=cert.pem."
            ),
        ],
        [
            "name",
            None,
            None,
            N_(
                "Answer every client at once with this name: no operator, nothing read from"
                " stdin (for daemons, scripts and benchmarks)."
            ),
        ],
        [
            "max-length",
            None,
            SERVER.maxLength,
            N_("Longest name, in bytes; a client sending a longer line is logged and closed."),
            COUNT,
        ],
        [
            "quiet-period",
            None,
            SERVER.quietPeriod,
            N_(
                "Seconds after which bytes with no line ending count as a whole name, for"
                " clients that send none (0: only a line ending or the client's close do)."
            ),
            SECONDS,
        ],
        [
            "name-timeout",
            None,
            SERVER.nameTimeout,
            N_(
                "Seconds a client has to send its name (in chat mode, each next line);"
                " 0: no limit."
            ),
            SECONDS,
        ],
        [
            "reply-timeout",
            None,
            SERVER.replyTimeout,
            N_(
                "Seconds a client waits for the operator's reply before it is closed; 0: no limit."
            ),
            SECONDS,
        ],
        [
            "max-clients",
            None,
            SERVER.maxClients,
            N_("Connections open at once; more are refused at once (and logged)."),
            COUNT,
        ],
        [
            "max-per-address",
            None,
            SERVER.maxPerAddress,
            N_("Connections open at once from one IP address; 0: no limit."),
            COUNT_OR_ZERO,
        ],
        [
            "backlog",
            None,
            ADDRESS.backlog,
            N_(
                "Connections the kernel holds before the server accepts them (the"
                " operating system may cap it)."
            ),
            COUNT,
        ],
        [
            "trace-file",
            None,
            None,
            N_(
                "Write each connection, as it ends, to this Markdown file as a Mermaid"
                " sequence diagram (for lab reports; overwritten at start)."
            ),
        ],
    ]

    def opt_version(self) -> NoReturn:
        """Show the version of twisted-names (and of Twisted) and exit."""
        # Names and numbers only: nothing to translate (Twisted's said "Twisted version:").
        print(f"names-server (twisted-names) {__version__}, Twisted {twisted.__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        checkPort(self)
        checkNameOption(self)
        self["description"] = self["endpoint"] or self._tcpDescription()
        checkEndpoint(serverFromString, self["description"])
        twistd = self.parent
        # Windows' twistd never daemonizes: -n is accepted and changes nothing.
        daemon = DAEMONIZES and twistd is not None and not twistd.get("nodaemon")
        if daemon and self["name"] is None:
            raise usage.UsageError(
                _(
                    "without --name the replies are typed at this terminal, so names-server"
                    " runs in the foreground: 'twistd -n names-server' (or give --name NAME"
                    " to run it as a daemon)"
                )
            )
        if daemon and self["trace"]:
            raise usage.UsageError(
                _(
                    "--trace shows each connection at this terminal, so names-server runs"
                    " in the foreground: 'twistd -n names-server --trace' (a daemon can"
                    " write the diagrams with --trace-file FILE)"
                )
            )
        if self["trace-file"] is not None:
            # Last: it creates the file, which a refusal above must not leave.
            from twisted_names.trace.file import checkTraceFile

            checkTraceFile(self)

    def _tcpDescription(self) -> str:
        return ListeningAddress(self["port"], self["interface"], self["backlog"]).description()

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
            message += _twistdOptionHint(unknownOption(e), self.parent)
            sys.stderr.write(
                _(
                    "twistd names-server: error: {message}\n"
                    "Run 'twistd names-server --help' for the options.\n"
                ).format(message=message)
            )
            raise SystemExit(2) from None


def _twistdOptionHint(option: str | None, twistd: usage.Options) -> str:
    """
    For an unknown C{option} ("option -n not recognized"): a hint when it is
    twistd's own, given after C{names-server} instead of before it.
    """
    if option is None:
        return ""
    name = option.lstrip("-")
    if option.startswith("--"):
        own = name in {o.rstrip("=") for o in twistd.longOpt}
    else:
        own = name[:1] in twistd.shortOpt.replace(":", "")
    if not own:
        return ""
    hint = _(
        "{option} is twistd's own option: put it before names-server,"
        " as in 'twistd {option} ... names-server ...'"
    ).format(option=option)
    return f" ({hint})"


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
        replyTimeout=options["reply-timeout"],
    )
    queue: ReplyQueue | None = None
    replies: ReplySource
    if options["name"] is None:
        replies = queue = ReplyQueue(reactor, settings.replyTimeout)
    else:
        replies = FixedReply(options["name"])
    twistd = options.parent
    observer = None if twistd is None else logObserverFor(twistd, reactor)
    server = NamesServerService(
        None if observer is None else RateLimitedObserver(observer, reactor)
    )

    terminal: Terminal | None = None
    terminalService: TerminalService | EditorService | None = None
    showLogs = observer if isinstance(observer, TerminalLogObserver) else None
    stop: Callable[[], object] = reactor.stop
    editor: OperatorEditor | None = None
    ttys = _terminalFds() if queue is not None else None
    if ttys is not None:
        # A person at a terminal: the line editor.
        editor = OperatorEditor(lambda: stop(), maxChars=settings.maxLength)
        terminalService = EditorService(editor, reactor, *ttys, logObserver=showLogs)
        if showLogs is not None:
            showLogs.plain = True
    elif queue is not None or showLogs is not None or options["trace"]:
        # With --name, a terminal only for the log lines (stdin is not
        # read), so that an unread stdout cannot block the server either.
        terminal = Terminal(_ignore, _nothing)
        terminalService = TerminalService(terminal, reactor, queue is not None, showLogs)
    tracing = options["trace"] or options["trace-file"] is not None
    if tracing:
        # Imported only when asked: the trace's modules add to every start-up
        # (docs/performance.md, "The trace").
        from twisted_names.trace.events import Role
        from twisted_names.trace.file import makeTracer
        from twisted_names.trace.ladder import useColour
        from twisted_names.trace.wrapper import TracedReplies, TracingServerEndpoint

        # The live trace goes where the console's own lines go.
        show = editor.notice if editor is not None else terminal.show if terminal else None
        tracer = makeTracer(
            Role.SERVER,
            reactor,
            show if options["trace"] else None,
            useColour(os.environ, ttys is not None),
            options["trace-file"],
        )
        replies = TracedReplies(replies, tracer)
    factory = NameServerFactory(replies, reactor, settings)
    description = options["description"]
    endpoint = serverFromString(reactor, description)
    if tracing:
        endpoint = TracingServerEndpoint(endpoint, tracer)
    where = None
    if options["endpoint"] is None:
        where = hostAndPort(options["interface"], options["port"])
    listening = ListeningService(endpoint, description, factory, where=where)

    if twistd is not None:  # twistd runs the whole process for us.
        rotate = observer.rotate if isinstance(observer, BatchedFileLogObserver) else None
        process = server.add(
            "process", ProcessService(reactor, terminalService, rotate, settings.maxClients)
        )
        listening.onFailure = lambda: process.stopFor(
            "cannot listen", status=1, form=N_("cannot listen: stopping")
        )
        stop = lambda: process.stopFor("Ctrl-C")  # noqa: E731
    if terminalService is not None:
        server.add("terminal", terminalService)
    server.add("listening", listening)
    if queue is not None and editor is not None:
        operator = Operator(
            queue, editor, reactor, settings.maxLength, stop=lambda: stop(), chat=settings.chat
        )
        editor.operator = operator
        server.add("operator", OperatorService(operator, queue, factory, listening))
    elif queue is not None and terminal is not None:
        console = OperatorConsole(queue, terminal.show, settings.maxLength)
        terminal.onLine, terminal.onEnd = console.lineTyped, console.inputEnded
        server.add("operator", OperatorService(console, queue, factory, listening))
    return server


#: Whether twistd without C{-n} runs as a daemon (not on Windows).
DAEMONIZES = sys.platform != "win32"


def _terminalFds() -> tuple[int, int] | None:
    """
    stdin and stdout if both are a terminal a person types at (on Windows:
    the console, which gets its own reader: docs/design.md), else C{None}:
    pipes, files and C{/dev/null} get plain lines.
    """
    if sys.platform == "win32":
        from twisted_names.console.wincon import consoleFds, isConsole

        return consoleFds(standardFds(), isConsole)
    stdin, stdout = standardFds()
    if stdin is None or stdout is None or not (os.isatty(stdin) and os.isatty(stdout)):
        return None
    return stdin, stdout


def _ignore(line: str) -> None:
    """What becomes of lines typed with --name: stdin is not even read."""


def _nothing() -> None:
    """What the end of input does with --name."""
