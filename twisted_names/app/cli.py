"""
The client's command line: C{names-client}, or C{python -m
twisted_names.client}.

It parses options, reads the name, prints answers, and maps everything that
can go wrong to one message and one exit status, in one place
(L{outcome}).  The client's logic is in L{twisted_names.client}; this module
only connects it to argv, the streams and the exit status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import twisted
from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred, DeferredQueue
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import ILogObserver, LogEvent, LogLevel, formatEvent, globalLogBeginner
from twisted.python import usage
from zope.interface import provider

from twisted_names import __version__
from twisted_names.app.helptext import TranslatedOptions
from twisted_names.app.options import (
    COUNT,
    PORT,
    SECONDS,
    checkEndpoint,
    checkNameOption,
    checkPort,
    escapeForEndpoint,
    explainUsageError,
)
from twisted_names.client import ChatEnd, chat, clientEndpoint, exchangeNames
from twisted_names.console.terminal import (
    MAX_INPUT_LINE,
    BlockingModeKeeper,
    Terminal,
    attachStdio,
    closeTerminal,
)
from twisted_names.display import hostAndPort, isUnsafe, quoted, shown
from twisted_names.errors import INTERRUPTED, ExchangeError, UsageProblem
from twisted_names.i18n import N_, _
from twisted_names.oserrors import describe
from twisted_names.trust import endpointKind
from twisted_names.wire import DEFAULT_MAX_LENGTH, DEFAULT_QUIET_PERIOD

if TYPE_CHECKING:
    from twisted_names.trace.wrapper import Tracer

#: The default --timeout: a little longer than the server's default reply
#: timeout (300 s), so a waiting client normally hears the server's own close.
DEFAULT_TIMEOUT = 330.0

#: Seconds a traced client waits for its connection to end, once answered,
#: so that the trace shows how it ended.
TRACE_CLOSE_WAIT = 2.0

#: The exit status when stdout is a pipe whose reader left, as C{SIGPIPE}
#: would end another command (quietly).
STDOUT_GONE = 1

#: The exit status of a failure nobody foresaw (a bug).
UNEXPECTED = 1


class ClientOptions(TranslatedOptions):
    """The options of C{names-client}; C{--help} is in the chosen language."""

    synopsis = N_("names-client [options]   (or: python -m twisted_names.client [options])")
    longdesc = N_(
        "Send your name to a names-server and print its name (Server: NAME).  Without"
        " --name, asks for it (or reads one line when stdin is not a terminal).  Exit"
        " status: 0 answered; 2 bad option or name; 3 cannot connect; 4 timed out; 5 no"
        " answer (the server closed, or sent an empty line); 6 bad answer; 7 certificate"
        " not trusted; 130 interrupted."
    )
    optFlags = [
        [
            "chat",
            "c",
            N_(
                "Chat mode: send line after line, printing each answer, until an empty line or"
                " end of input (the server must run with --chat too)."
            ),
        ],
        [
            "trace",
            None,
            N_(
                "Show the connection on stderr as it happens: every chunk of bytes sent and"
                " received (as text and hex), what the framing decided, and how the"
                " connection ended."
            ),
        ],
    ]
    optParameters = [
        ["host", "H", "127.0.0.1", N_("The server's host name or address (::1 for IPv6).")],
        ["port", "p", 5000, N_("The server's TCP port."), PORT],
        [
            "endpoint",
            "e",
            None,
            N_(
                "Where to connect, as a Twisted client endpoint string; overrides --host and"
                " --port. Examples: unix:path=/tmp/names.sock,"
                " tls:example.org:5000:trustRoots=ca-dir/."
            ),
        ],
        ["name", "n", None, N_("The name to send (else it is asked for).")],
        [
            "timeout",
            "t",
            DEFAULT_TIMEOUT,
            N_(
                "Seconds to wait for connecting and the answer (in chat mode: for each"
                " answer); 0: no limit."
            ),
            SECONDS,
        ],
        [
            "max-length",
            None,
            DEFAULT_MAX_LENGTH,
            N_("Longest name and answer, in bytes."),
            COUNT,
        ],
        [
            "quiet-period",
            None,
            DEFAULT_QUIET_PERIOD,
            N_(
                "Seconds after which an answer with no line ending counts as whole (servers"
                " like the course's Servidor.py send none)."
            ),
            SECONDS,
        ],
        [
            "trace-file",
            None,
            None,
            N_(
                "Write the connection, once it ends, to this Markdown file as a Mermaid"
                " sequence diagram (for lab reports; added at its end, each run under a heading"
                " with its date and time)."
            ),
        ],
    ]
    optDocs = {"version": N_("Show the version of twisted-names (and of Twisted) and exit.")}

    def opt_version(self) -> NoReturn:
        """Show the version of twisted-names (and of Twisted) and exit."""
        # Names and numbers only: nothing to translate.
        print(f"names-client (twisted-names) {__version__}, Twisted {twisted.__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        checkPort(self)
        if self["endpoint"] is None:
            host = escapeForEndpoint(self["host"])
            self["endpoint"] = f"tcp:host={host}:port={self['port']}"
            self["where"] = shown(hostAndPort(self["host"], self["port"]))
        else:
            self["where"] = shown(self["endpoint"])
        checkEndpoint(clientEndpoint, self["endpoint"])
        if endpointKind(self["endpoint"]) == "SSL":
            raise usage.UsageError(
                _(
                    "--endpoint: an ssl: client endpoint does not check that the server is the"
                    " host named; use tls:HOST:PORT (with :trustRoots=FOLDER for your own"
                    " authority)"
                )
            )
        checkNameOption(self)
        if self["trace-file"] is not None:
            from twisted_names.trace.file import checkTraceFile

            checkTraceFile(self)


class Screen:
    """
    What the person sees, written through C{write}: lines, and prompts.

    A prompt stays on its line until the person ends a line there (their
    terminal then moves on); anything shown before that starts on a new
    line, so output is never glued to a prompt (C{You: Server: ...}).
    """

    #: Runs a call once the lines shown now are all shown (the reactor's
    #: next turn), so that a run of L{interject}ed lines is followed by one
    #: prompt, not one each; C{None}: at once.
    soon: Callable[[Callable[[], None]], object] | None = None

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write
        self.atPrompt = False
        self._prompt = ""
        #: A prompt was ended by an interjected line: draw it again.
        self._owed = False

    def prompt(self, text: str) -> None:
        self.endPrompt()
        self._write(text)
        self.atPrompt = True
        self._prompt = text
        self._owed = False

    def lineTyped(self) -> None:
        """The person ended a line at the prompt: the cursor is on a new line."""
        self.atPrompt = self._owed = False

    def interject(self, text: str) -> None:
        """
        Show C{text} on a line of its own (a trace line) while the person
        may be at a prompt: the prompt's line is ended, and the prompt is
        drawn again below, once, after the lines that come together (what
        they typed is still theirs to finish: the terminal keeps it).
        """
        if self.atPrompt and not self._owed:
            self._owed = True
            if self.soon is None:
                self.show(text)
                self._drawOwed()
                return
            self.soon(self._drawOwed)
        self.show(text)

    def forget(self) -> None:
        """The prompt's line was ended from outside (the ^C echo): draw it no more."""
        self.atPrompt = self._owed = False

    def _drawOwed(self) -> None:
        if self._owed and not self.atPrompt:
            self.prompt(self._prompt)

    def show(self, text: str) -> None:
        self.endPrompt()
        self._write(text + "\n")

    def endPrompt(self) -> None:
        """Leave the prompt's line, if one is still open."""
        if self.atPrompt:
            self.atPrompt = False
            self._write("\n")


class _StdoutGone(Exception):
    """stdout is a pipe whose reader left."""


class Streams:
    """
    stdin, stdout and stderr as the client uses them: either may be closed
    (C{None}), and a stdout whose reader left ends the client quietly.
    """

    def __init__(self, stdin: TextIO | None, stdout: TextIO | None, stderr: TextIO | None):
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.screen = Screen(self.write)

    def write(self, text: str) -> None:
        """Write C{text} to stdout (nowhere if it is closed)."""
        if self.stdout is None:
            return
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:
            _silenceStdout(self.stdout)
            raise _StdoutGone() from None

    def error(self, text: str) -> None:
        """
        Write C{text} to stderr, on lines of its own; nowhere if it is
        closed.  Control characters in it are escaped, whoever's words it
        quotes (a mistyped endpoint string, Twisted's message about it).
        """
        self.endPrompt()
        if self.stderr is None:
            return
        with suppress(OSError, ValueError):
            self.stderr.write("\n".join(_visible(line) for line in text.split("\n")) + "\n")
            self.stderr.flush()

    def endPrompt(self) -> None:
        """End a prompt still on its line, if stdout can still take it."""
        with suppress(_StdoutGone):
            self.screen.endPrompt()


def _visible(text: str) -> str:
    """C{text} with its unsafe characters escaped (C{\\x1b}), nothing else changed."""
    return "".join(quoted(char)[1:-1] if isUnsafe(char) else char for char in text)


def _silenceStdout(stdout: TextIO) -> None:
    """Python flushes stdout again at exit: let that go nowhere, not to a traceback."""
    if stdout is sys.stdout:
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())


def outcome(problem: BaseException, interrupted: bool) -> tuple[str | None, int]:
    """
    What the person is told (a line for stderr, or C{None}), and the exit
    status, for anything that ended the client early: the one place where
    that is decided.

    @param interrupted: whether the person interrupted the client (Ctrl-C,
        or a signal stopping the reactor).
    """
    if isinstance(problem, KeyboardInterrupt):
        return None, INTERRUPTED
    if isinstance(problem, (CancelledError, ConnectingCancelledError)) and interrupted:
        return None, INTERRUPTED
    if isinstance(problem, ExchangeError):
        return _("error: {message}").format(message=problem), problem.exitCode
    if isinstance(problem, _StdoutGone):
        return None, STDOUT_GONE
    text = " ".join(str(problem).split())
    kind = type(problem).__name__
    if text:
        bug = _(
            "error: unexpected {kind}: {message} (a bug in names-client: please report it)"
        ).format(kind=kind, message=text)
    else:
        bug = _("error: unexpected {kind} (a bug in names-client: please report it)").format(
            kind=kind
        )
    return bug, UNEXPECTED


def readName(streams: Streams, limit: int = MAX_INPUT_LINE) -> str:
    """
    Ask for the name on a terminal, or read one line from a pipe or file.

    @param limit: the longest line read, in bytes.
    @raise UsageProblem: no line at all (end of input, stdin closed or not
        readable), a line too long, or not UTF-8.
    """
    stdin = streams.stdin
    if stdin is None:
        raise UsageProblem(_("no name: stdin is closed (give one with --name)"))
    try:
        if stdin.isatty():
            streams.screen.prompt(_("Your name: "))
        source: Any = getattr(stdin, "buffer", stdin)
        line = source.readline(limit + 1)
    except (OSError, ValueError) as e:
        reason = describe(e)
        raise UsageProblem(
            _("cannot read the name from stdin: {reason}").format(reason=reason)
        ) from None
    raw = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line
    if not raw:
        raise UsageProblem(_("no name: the input ended before a line was read"))
    if raw.endswith(b"\n"):
        streams.screen.lineTyped()
    elif len(raw) > limit:
        raise UsageProblem(
            _("the line read from stdin is longer than {limit} bytes").format(limit=limit)
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageProblem(_("the name read from stdin is not valid UTF-8")) from None


class _Interruption:
    """
    Ctrl-C, SIGTERM: the reactor is stopping.  The work under way is
    cancelled, and the reactor waits until the client has put the terminal
    back (bounded: see L{closeTerminal}).
    """

    def __init__(self, reactor: Any) -> None:
        self.interrupted = False
        self.finished: Deferred[None] = Deferred()
        self._work: Deferred[Any] | None = None
        self._reactor = reactor
        self._trigger = reactor.addSystemEventTrigger("before", "shutdown", self._onShutdown)
        #: Called first when the reactor stops the work (Ctrl-C): the line
        #: the terminal echoed C{^C} on is ended before anything else is shown.
        self.onInterrupt: Callable[[], object] | None = None

    def guard(self, work: Deferred[Any]) -> Deferred[Any]:
        """C{work}, to be cancelled if the reactor stops."""
        self._work = work
        return work

    def done(self) -> None:
        if self._trigger is not None:  # Not fired: the reactor goes on (tests).
            self._reactor.removeSystemEventTrigger(self._trigger)
            self._trigger = None
        if not self.finished.called:
            self.finished.callback(None)

    def _onShutdown(self) -> Deferred[None] | None:
        self._trigger = None
        if self._work is None or self._work.called or self.finished.called:
            return None
        self.interrupted = True
        if self.onInterrupt is not None:
            self.onInterrupt()
        self._work.cancel()
        # Cancelling aborts the connection, which Twisted completes a turn
        # later; without that turn the reactor's own shutdown closes it first,
        # with a FIN, while the trace said it sent a reset.
        settled: Deferred[None] = Deferred()
        self.finished.addCallback(lambda _: self._reactor.callLater(0, settled.callback, None))
        return settled


async def main(
    reactor: Any,
    *argv: str,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdinFd: int = 0,
    stdoutFd: int = 1,
) -> None:
    """
    Run the client; raise C{SystemExit} with the exit status (for
    L{task.react}).  The streams are parameters so tests can substitute
    them; by default they are C{sys}'s, C{None} if closed.
    """
    streams = Streams(
        sys.stdin if stdin is None else stdin,
        sys.stdout if stdout is None else stdout,
        sys.stderr if stderr is None else stderr,
    )
    interruption = _Interruption(reactor)
    lineEnded = False

    def endEchoedLine() -> None:
        # The terminal echoed ^C where the cursor was (after a prompt, or at
        # the start of a line): end that line now, before the trace's lines
        # of the cancelled connection, not after them.
        nonlocal lineEnded
        if _onTerminal(streams.stderr):
            lineEnded = True
            streams.screen.forget()
            with suppress(OSError, ValueError):
                assert streams.stderr is not None
                streams.stderr.write("\n")
                streams.stderr.flush()

    interruption.onInterrupt = endEchoedLine
    try:
        options = _parse(list(argv))
        if options["chat"]:
            await _chat(reactor, options, streams, interruption, stdinFd, stdoutFd)
        else:
            await _exchange(reactor, options, streams, interruption)
    except (Exception, KeyboardInterrupt) as e:
        message, status = outcome(e, interruption.interrupted)
        atPrompt = streams.screen.atPrompt
        streams.endPrompt()
        if (
            status == INTERRUPTED
            and not atPrompt
            and not lineEnded
            and _onTerminal(streams.stdout)
        ):
            with suppress(_StdoutGone):
                streams.write("\n")  # The terminal echoed ^C where the cursor was.
        if message is not None:
            streams.error(message)
        raise SystemExit(status) from None
    finally:
        interruption.done()


def _parse(argv: list[str]) -> ClientOptions:
    options = ClientOptions()
    try:
        options.parseOptions(argv)  # --help and --version print and exit here.
    except BrokenPipeError:
        _silenceStdout(sys.stdout)
        raise _StdoutGone() from None
    except usage.UsageError as e:
        hint = _("Run with --help for the options.")
        raise UsageProblem(f"{explainUsageError(e, argv)}\n{hint}") from None
    return options


async def _exchange(
    reactor: Any, options: ClientOptions, streams: Streams, interruption: _Interruption
) -> None:
    """One name, one answer."""
    name = options["name"]
    if name is None:
        name = readName(streams, max(MAX_INPUT_LINE, options["max-length"] + 2))
        while not name.strip() and _onTerminal(streams.stdin):
            streams.screen.show(_("A name is needed: an empty line sends nothing."))
            name = readName(streams, max(MAX_INPUT_LINE, options["max-length"] + 2))

    def connected() -> None:
        if _onTerminal(streams.stdout):
            streams.screen.show(
                _(
                    "Waiting for {where} to answer (its operator types the answer;"
                    " Ctrl-C gives up)..."
                ).format(where=options["where"])
            )

    endpoint = clientEndpoint(reactor, options["endpoint"])
    endpoint, tracer = _traced(endpoint, reactor, options, streams)
    try:
        answer = await interruption.guard(
            exchangeNames(
                endpoint,
                name,
                reactor,
                timeout=options["timeout"] or None,
                maxLength=options["max-length"],
                quietPeriod=options["quiet-period"],
                where=options["where"],
                onConnected=connected,
            )
        )
    except Exception:
        # The error line, as the answer, comes after the trace's last line
        # (how the connection ended); not after Ctrl-C: the reactor stops.
        if tracer is not None and not interruption.interrupted:
            await tracer.whenIdle(TRACE_CLOSE_WAIT)
        raise
    if tracer is not None:
        await tracer.whenIdle(TRACE_CLOSE_WAIT)
    streams.screen.show(answerLine(answer, _onTerminal(streams.stdout)))


def answerLine(answer: str, onTerminal: bool) -> str:
    """
    The line that shows the server's answer (escaped when unsafe).  The
    answer is data, never translated; the label around it is in the chosen
    language on a terminal, and stays C{Server: } for programs reading a
    pipe or a file, whatever the language (scripts parse it).
    """
    if onTerminal:
        return _("Server: {answer}").format(answer=shown(answer))
    return f"Server: {shown(answer)}"


def _traced(
    endpoint: IStreamClientEndpoint,
    reactor: Any,
    options: ClientOptions,
    streams: Streams,
    shown: Callable[[str], None] | None = None,
) -> tuple[IStreamClientEndpoint, Tracer | None]:
    """
    C{endpoint}, traced if --trace or --trace-file asks (to stderr: stdout
    keeps the answer), and its tracer.

    @param shown: where the trace's lines go instead of stderr (the chat's
        terminal, when stderr is that terminal too: see L{_chat}).
    """
    if not options["trace"] and options["trace-file"] is None:
        return endpoint, None
    # Imported only when asked: the trace's modules add to every start-up
    # (docs/performance.md, "The trace").
    from twisted_names.trace.events import Role
    from twisted_names.trace.file import makeTracer
    from twisted_names.trace.ladder import useColour
    from twisted_names.trace.wrapper import TracingClientEndpoint

    stderr = streams.stderr

    def show(line: str) -> None:
        streams.endPrompt()
        if stderr is not None:
            with suppress(OSError, ValueError):
                stderr.write(line + "\n")
                stderr.flush()

    tracer = makeTracer(
        Role.CLIENT,
        reactor,
        (shown or show) if options["trace"] else None,
        useColour(os.environ, _onTerminal(stderr)),
        options["trace-file"],
        say=show,
    )
    return TracingClientEndpoint(endpoint, tracer), tracer


def _onTerminal(stream: TextIO | None) -> bool:
    """Whether C{stream} is a terminal a person reads or types at."""
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


class _ChatScreen:
    """The L{twisted_names.client.ChatView} of the command line."""

    def __init__(self, screen: Screen, where: str, onTerminal: bool, toTerminal: bool) -> None:
        """
        @param onTerminal: whether the person types at a terminal.
        @param toTerminal: whether stdout is a terminal (else answers are
            printed for programs: see L{answerLine}).
        """
        self._screen = screen
        self._where = where
        self._onTerminal = onTerminal
        self._toTerminal = toTerminal

    def connected(self) -> None:
        if self._onTerminal:
            self._screen.show(
                _("Connected to {where}. Empty line or Ctrl-D to end.").format(where=self._where)
            )

    def answered(self, answer: str) -> None:
        self._screen.show(answerLine(answer, self._toTerminal))

    def notSent(self, why: str) -> None:
        self._screen.show(_("Not sent: {reason}.").format(reason=why))


async def _chat(
    reactor: Any,
    options: ClientOptions,
    streams: Streams,
    interruption: _Interruption,
    stdinFd: int,
    stdoutFd: int,
) -> None:
    """Turn after turn, through the terminal (which never blocks the reactor)."""
    lines: DeferredQueue[str | None] = DeferredQueue()
    terminal = Terminal(lines.put, lambda: lines.put(None))
    modes = BlockingModeKeeper((stdinFd, stdoutFd))
    try:
        stdio = attachStdio(terminal, stdinFd, stdoutFd, reactor)
    except OSError as e:
        modes.restore()
        raise UsageProblem(
            _("cannot chat through stdin and stdout: {reason}").format(reason=describe(e))
        ) from None
    onTerminal = streams.stdin is not None and _isTerminal(streams.stdin)
    screen = Screen(lambda text: terminal.show(text, end=""))

    def nextLine() -> Deferred[str | None]:
        if onTerminal and not lines.pending:
            screen.prompt(_("You: "))
        return lines.get().addCallback(typed)

    def typed(line: str | None) -> str | None:
        if line is not None:
            screen.lineTyped()
        return line

    where = options["where"]
    # On a terminal, the trace's lines go the way the prompt goes, in order:
    # written to stderr at once, they overtook the prompt still queued for
    # stdout and landed after "You: ".  Through the terminal they end the
    # prompt's line, the prompt is drawn again after them, and a flood of
    # them is bounded (lines the terminal cannot take are counted, dropped).
    sameTerminal = onTerminal and _sameTerminal(stdoutFd, streams.stderr)
    screen.soon = lambda call: reactor.callLater(0, call)
    endEchoedLine = interruption.onInterrupt

    def interrupted() -> None:
        screen.forget()
        if endEchoedLine is not None:
            endEchoedLine()

    interruption.onInterrupt = interrupted
    traced, tracer = _traced(
        clientEndpoint(reactor, options["endpoint"]),
        reactor,
        options,
        streams,
        screen.interject if sameTerminal else None,
    )
    try:
        ended = await interruption.guard(
            chat(
                traced,
                nextLine,
                reactor,
                _ChatScreen(screen, where, onTerminal, _isTerminalFd(stdoutFd)),
                first=options["name"],
                timeout=options["timeout"] or None,
                maxLength=options["max-length"],
                quietPeriod=options["quiet-period"],
                where=where,
            )
        )
        if ended is ChatEnd.BY_SERVER:
            screen.show(_("{where} ended the conversation.").format(where=where))
    finally:
        screen.endPrompt()
        screen.forget()  # Over: a prompt owed to interjected lines is not drawn.
        if tracer is not None and sameTerminal:
            # The trace's last lines (how the connection ended) go through
            # the terminal too: wait for them before closing it.
            await tracer.whenIdle(TRACE_CLOSE_WAIT)
        await closeTerminal(terminal, stdio, reactor)
        modes.restore()


def _sameTerminal(fd: int, stream: TextIO | None) -> bool:
    """Whether C{stream} writes to the terminal C{fd} is (the same device)."""
    try:
        if stream is None or not stream.isatty() or not os.isatty(fd):
            return False
        if sys.platform == "win32":
            return True  # A process has one console.
        same: bool = os.fstat(stream.fileno()).st_rdev == os.fstat(fd).st_rdev
        return same
    except (OSError, ValueError):
        return False


def _isTerminalFd(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _isTerminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _openClosedStdio() -> None:
    """
    Give a closed stdin, stdout or stderr (C{<&-}) C{/dev/null}, before the
    reactor exists: else its own descriptors would take those numbers and
    be read or written as if they were the terminal.  Python has already
    made C{sys.stdin} (and so on) C{None} for them.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)


def _logProblemsOnly(stderr: TextIO | None) -> None:
    """
    Twisted logs to nobody, except errors nobody handled (bugs), each shown
    as one line, and our own warnings (a C{--trace-file} that cannot be
    written), in the person's language.  Not the C{CertificateError} Twisted's TLS verification
    logs for a certificate without a subjectAltName: the client says what
    that means itself (L{twisted_names.trust}).
    """

    @provider(ILogObserver)
    def observe(event: LogEvent) -> None:
        if _ownWarning(event):
            # Ours, for the person (a --trace-file the disk no longer takes).
            text = formatEvent({**event, "log_format": _(event["log_format"])})
            if stderr is not None:
                with suppress(OSError, ValueError):
                    warning = _("warning: {text}").format(text=" ".join(text.split()))
                    stderr.write(f"names-client: {_visible(warning)}\n")
            return
        if event.get("log_level") not in (LogLevel.error, LogLevel.critical):
            return
        if event.get("log_namespace") == "twisted.internet._sslverify":
            return
        failure = event.get("log_failure")
        text = formatEvent(event)
        if failure is not None:
            text += f": {type(failure.value).__name__}: {failure.getErrorMessage()}"
        if stderr is not None:
            with suppress(OSError, ValueError):
                stderr.write(f"names-client: {_visible(' '.join(text.split()))}\n")

    globalLogBeginner.beginLoggingTo([observe], redirectStandardIO=False)


def _ownWarning(event: LogEvent) -> bool:
    """Whether C{event} is one of our own warnings, worded for a person."""
    return (
        event.get("log_level") == LogLevel.warn
        and event.get("log_namespace") == "names"
        and isinstance(event.get("log_format"), str)
    )


def run(argv: list[str] | None = None) -> NoReturn:
    """The console entry point: run L{main} under L{task.react}."""
    _openClosedStdio()
    if sys.platform == "win32":
        from twisted_names.console.winstdio import utf8Streams

        utf8Streams()
    _logProblemsOnly(sys.stderr)
    try:
        task.react(main, sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C between main's own handlers.
        raise SystemExit(INTERRUPTED) from None
