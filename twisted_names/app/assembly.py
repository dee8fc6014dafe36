"""
The names-server assembled from a plan: L{assembleServer} builds the
L{NamesServerService} that C{twistd names-server} runs, from a
L{ServerPlan} the tap fills in from its options.

The pieces a server plugin needs whatever it serves are functions of their
own, for another plugin (a proxy) to reuse:

  - L{serverLogObserver}: the log observer to give twistd, bounded on floods;
  - L{terminalFds} and L{chooseConsole}: the operator's terminal, a line
    editor on a terminal a person types at, plain lines on a pipe;
  - L{addProcessService}: what only the whole process does under twistd
    (signals, limits, the exit status), and how Ctrl-C then stops it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.logger import ILogObserver

from twisted_names.app.process import ProcessService
from twisted_names.app.services import (
    EditorService,
    ListeningService,
    NamesServerService,
    OperatorService,
    TerminalService,
    standardFds,
)
from twisted_names.console.editor import OperatorEditor
from twisted_names.console.model import Discipline, Operator
from twisted_names.console.plain import PlainLines
from twisted_names.console.terminal import Terminal
from twisted_names.i18n import N_
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.logs.observers import (
    BatchedFileLogObserver,
    TerminalLogObserver,
    logObserverFor,
)
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings

__all__ = [
    "Console",
    "ServerPlan",
    "Stopper",
    "addProcessService",
    "assembleServer",
    "chooseConsole",
    "serverLogObserver",
    "terminalFds",
]


@dataclass(frozen=True)
class ServerPlan:
    """
    What a names-server is to be, as its options said.

    @ivar endpoint: where to listen.
    @ivar description: the endpoint string, for messages.
    @ivar where: the address as people say it (C{127.0.0.1:5000}), if known.
    @ivar fixedName: with C{--name}, the reply for every client: no operator.
    @ivar trace: C{--trace}: each connection shown live.
    @ivar traceFile: C{--trace-file}: where the diagrams go, if anywhere.
    @ivar twistd: twistd's own options, if twistd runs the server (it then
        owns the process: logs, signals, the exit status).
    """

    settings: ServerSettings
    endpoint: IStreamServerEndpoint
    description: str
    where: str | None = None
    fixedName: str | None = None
    trace: bool = False
    traceFile: str | None = None
    twistd: Mapping[str, Any] | None = None


class Stopper:
    """
    How the operator stops the server (Ctrl-C, C{/stop}): the reactor's
    C{stop}, until L{addProcessService} gives it to the process service.
    The console is made first, so it holds this and not the function.
    """

    def __init__(self, stop: Callable[[], object]) -> None:
        self.stop = stop

    def __call__(self) -> None:
        self.stop()


@dataclass(frozen=True)
class Console:
    """
    The operator's terminal as chosen by L{chooseConsole}.

    @ivar service: what runs it (C{None}: no terminal at all).
    @ivar show: where the console's own lines go (the live trace goes
        there too), if anywhere.
    @ivar editor: the line editor, on a terminal a person types at.
    @ivar terminal: the plain terminal, on a pipe or a file.
    """

    service: TerminalService | EditorService | None = None
    show: Callable[[str], None] | None = None
    editor: OperatorEditor | None = None
    terminal: Terminal | None = None

    @property
    def colour(self) -> bool:
        """Whether the terminal is one a person reads: colours are welcome."""
        return self.editor is not None


def serverLogObserver(twistd: Mapping[str, Any] | None, reactor: Any) -> ILogObserver | None:
    """
    The log observer a server gives twistd (see
    L{twisted_names.logs.observers.logObserverFor}), or C{None} for
    twistd's own (or no twistd at all).
    """
    return None if twistd is None else logObserverFor(twistd, reactor)


def terminalFds() -> tuple[int, int] | None:
    """
    stdin and stdout if both are a terminal a person types at (on Windows:
    the console, which gets its own reader: docs/design.md), else C{None}:
    pipes, files and C{/dev/null} get plain lines.
    """
    if sys.platform == "win32":
        from twisted_names.console.wincon import consoleFds
        from twisted_names.ttys import isConsole

        return consoleFds(standardFds(), isConsole)
    stdin, stdout = standardFds()
    if stdin is None or stdout is None or not (os.isatty(stdin) and os.isatty(stdout)):
        return None
    return stdin, stdout


def chooseConsole(
    reactor: Any,
    operator: bool,
    observer: ILogObserver | None,
    stop: Callable[[], object],
    maxChars: int,
    trace: bool = False,
) -> Console:
    """
    The operator's terminal: the line editor when stdin and stdout are a
    terminal a person types at and there is an C{operator} to answer;
    else plain lines, when anything is to be read or shown there (the
    replies, the log lines of a terminal log C{observer}, the live
    C{trace}); else none.  With no operator (C{--name}), stdin is not even
    read, and the terminal is there only so that an unread stdout cannot
    block the server.
    """
    showLogs = observer if isinstance(observer, TerminalLogObserver) else None
    ttys = terminalFds() if operator else None
    if ttys is not None:
        editor = OperatorEditor(stop, maxChars=maxChars)
        service = EditorService(editor, reactor, *ttys, logObserver=showLogs)
        if showLogs is not None:
            # The console says every event itself: only warnings and errors.
            showLogs.plain = True
        return Console(service, editor.notice, editor=editor)
    if not (operator or showLogs is not None or trace):
        return Console()
    terminal = Terminal(_ignore, _nothing)
    return Console(
        TerminalService(terminal, reactor, operator, showLogs), terminal.show, terminal=terminal
    )


def addProcessService(
    server: NamesServerService,
    reactor: Any,
    console: Console,
    observer: ILogObserver | None,
    maxClients: int,
    listening: ListeningService,
    stopper: Stopper,
) -> ProcessService:
    """
    Under twistd, the process is ours: add the service that owns it (its
    signals, its open-files limit for C{maxClients}, the log file's
    rotation), make a failure to listen stop it with status 1, and make
    the operator's stop go through it; on a plain terminal, a Ctrl-C's
    echoed C{^C} line is ended before the lines that follow it.
    """
    rotate = observer.rotate if isinstance(observer, BatchedFileLogObserver) else None
    process = server.add("process", ProcessService(reactor, console.service, rotate, maxClients))
    listening.onFailure = lambda: process.stopFor(
        "cannot listen", status=1, form=N_("cannot listen: stopping")
    )
    stopper.stop = lambda: process.stopFor("Ctrl-C")
    if isinstance(console.service, TerminalService):
        process.onInterrupt = console.service.endEchoedLine
    return process


def assembleServer(plan: ServerPlan, reactor: Any) -> NamesServerService:
    """
    The names-server's services from C{plan}: the process (under twistd),
    the terminal, the listening endpoint and the operator's console, started
    in that order and stopped in the reverse one.
    """
    settings = plan.settings
    queue = None if plan.fixedName is not None else ReplyQueue(reactor, settings.replyTimeout)
    replies: ReplySource = queue if queue is not None else FixedReply(str(plan.fixedName))
    observer = serverLogObserver(plan.twistd, reactor)
    server = NamesServerService(
        None if observer is None else RateLimitedObserver(observer, reactor)
    )
    stopper = Stopper(reactor.stop)
    console = chooseConsole(
        reactor, queue is not None, observer, stopper, settings.maxLength, plan.trace
    )
    endpoint = plan.endpoint
    if plan.trace or plan.traceFile is not None:
        replies, endpoint = _traced(plan, reactor, console, replies, endpoint)
    factory = NameServerFactory(replies, reactor, settings)
    listening = ListeningService(endpoint, plan.description, factory, where=plan.where)
    if plan.twistd is not None:
        addProcessService(
            server, reactor, console, observer, settings.maxClients, listening, stopper
        )
    if console.service is not None:
        server.add("terminal", console.service)
    server.add("listening", listening)
    if queue is not None:
        operator = _operator(queue, console, reactor, settings, stopper)
        server.add("operator", OperatorService(operator, queue, factory, listening))
    return server


def _traced(
    plan: ServerPlan,
    reactor: Any,
    console: Console,
    replies: ReplySource,
    endpoint: IStreamServerEndpoint,
) -> tuple[ReplySource, IStreamServerEndpoint]:
    """
    C{replies} and C{endpoint} wrapped to be traced: live through the
    console's own lines (C{--trace}), into a file (C{--trace-file}).

    The trace's modules are imported only here: they add to every start-up
    (docs/performance.md, "The trace").
    """
    from twisted_names.trace.events import Role
    from twisted_names.trace.file import makeTracer
    from twisted_names.trace.ladder import useColour
    from twisted_names.trace.wrapper import TracedReplies, TracingServerEndpoint

    show = console.show if plan.trace else None
    colour = useColour(os.environ, console.colour)
    tracer = makeTracer(Role.SERVER, reactor, show, colour, plan.traceFile, say=console.show)
    return TracedReplies(replies, tracer), TracingServerEndpoint(endpoint, tracer)


def _operator(
    queue: ReplyQueue,
    console: Console,
    reactor: Any,
    settings: ServerSettings,
    stop: Callable[[], object],
) -> Operator:
    """
    The console model, with the discipline and the view the terminal has:
    the editor's, or a pipe's (plain lines).
    """
    if console.editor is not None:
        operator = Operator(
            queue, console.editor, reactor, settings.maxLength, stop=stop, chat=settings.chat
        )
        console.editor.operator = operator
        return operator
    assert console.terminal is not None  # chooseConsole gives an operator a terminal.
    plain = Operator(
        queue,
        PlainLines(console.terminal.show),
        queue.clock,
        settings.maxLength,
        discipline=Discipline.PIPE,
    )
    console.terminal.onLine, console.terminal.onEnd = plain.lineTyped, plain.inputEnded
    return plain


def _ignore(line: str) -> None:
    """What becomes of lines typed with --name: stdin is not even read."""


def _nothing() -> None:
    """What the end of input does with --name."""
