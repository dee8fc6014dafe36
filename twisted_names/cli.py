"""
The client's command line: C{python -m twisted_names.client}.

It parses options, gets the name, prints the answer, and maps every error to
one message and one exit status (see L{twisted_names.errors}).  The protocol
never prints; this module does nothing else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred, DeferredQueue, race
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ConnectingCancelledError
from twisted.python import usage
from twisted.python.failure import Failure

from twisted_names.client import NameClientProtocol, exchangeNames, explain, timedOut
from twisted_names.display import hostAndPort, shown
from twisted_names.errors import INTERRUPTED, ExchangeError, NoAnswer, UsageProblem
from twisted_names.options import (
    COUNT,
    PORT,
    SECONDS,
    checkEndpoint,
    checkNameOption,
    checkPort,
    escapeForEndpoint,
    explainUsageError,
)
from twisted_names.terminal import BlockingModeKeeper, Terminal, attachStdio, closeTerminal
from twisted_names.wire import DEFAULT_MAX_LENGTH, DEFAULT_QUIET_PERIOD, InvalidName, checkName

#: The default --timeout: a little longer than the server's default reply
#: timeout (300 s), so a waiting client normally hears the server's own close.
DEFAULT_TIMEOUT = 330.0


class ClientOptions(usage.Options):
    """The options of C{python -m twisted_names.client}."""

    synopsis = "python -m twisted_names.client [options]"
    longdesc = (
        "Send your name to a names-server and print its name (Server: NAME).  Without"
        " --name, asks for it (or reads one line when stdin is not a terminal).  Exit"
        " status: 0 answered; 2 bad option or name; 3 cannot connect; 4 timed out; 5 no"
        " answer (the server closed); 6 bad answer; 7 certificate not trusted; 130"
        " interrupted."
    )
    optFlags = [
        [
            "chat",
            "c",
            "Chat mode: send line after line, printing each answer, until an empty line or"
            " end of input (the server must run with --chat too).",
        ],
    ]
    optParameters = [
        ["host", "H", "127.0.0.1", "The server's host name or address (::1 for IPv6)."],
        ["port", "p", 5000, "The server's TCP port.", PORT],
        [
            "endpoint",
            "e",
            None,
            "Where to connect, as a Twisted client endpoint string; overrides --host and"
            " --port. Examples: unix:path=/tmp/names.sock,"
            " tls:example.org:5000:trustRoots=ca-dir/.",
        ],
        ["name", "n", None, "The name to send (else it is asked for)."],
        [
            "timeout",
            "t",
            DEFAULT_TIMEOUT,
            "Seconds to wait for connecting and the answer (in chat mode: for each"
            " answer); 0: no limit.",
            SECONDS,
        ],
        [
            "max-length",
            None,
            DEFAULT_MAX_LENGTH,
            "Longest name and answer, in bytes.",
            COUNT,
        ],
        [
            "quiet-period",
            None,
            DEFAULT_QUIET_PERIOD,
            "Seconds after which an answer with no line ending counts as whole (servers"
            " like the course's Servidor.py send none).",
            SECONDS,
        ],
    ]

    def postOptions(self) -> None:
        checkPort(self)
        if self["endpoint"] is None:
            host = escapeForEndpoint(self["host"])
            self["endpoint"] = f"tcp:host={host}:port={self['port']}"
            self["where"] = hostAndPort(self["host"], self["port"])
        else:
            self["where"] = self["endpoint"]
        checkEndpoint(clientFromString, self["endpoint"])
        checkNameOption(self)


def readName(stdin: TextIO, stdout: TextIO) -> str:
    """
    Ask for the name on a terminal, or read one line from a pipe or file.

    @raise UsageProblem: no line at all (end of input).
    """
    if stdin.isatty():
        stdout.write("Your name: ")
        stdout.flush()
    line = stdin.readline()
    if not line:
        raise UsageProblem("no name: the input ended before a line was read")
    return line


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
    L{task.react}).  The streams are parameters so tests can substitute them.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    options = ClientOptions()
    try:
        with _stdoutMayBeClosed(stdout):
            options.parseOptions(list(argv))  # --help prints here.
    except usage.UsageError as e:
        stderr.write(
            f"error: {explainUsageError(e, list(argv))}\nRun with --help for the options.\n"
        )
        raise SystemExit(UsageProblem.exitCode) from None

    interrupted = False
    work: Deferred[Any]

    def onShutdown() -> None:
        nonlocal interrupted
        if not work.called:
            interrupted = True
            work.cancel()

    try:
        if options["chat"]:
            work = Deferred.fromCoroutine(_chat(reactor, options, stdinFd, stdoutFd, stdin))
            reactor.addSystemEventTrigger("before", "shutdown", onShutdown)
            await work
            return
        name = options["name"]
        if name is None:
            try:
                name = readName(stdin, stdout)
            except KeyboardInterrupt:  # Before the reactor runs: no handler yet.
                stderr.write("\n")
                raise SystemExit(INTERRUPTED) from None
        work = exchangeNames(
            clientFromString(reactor, options["endpoint"]),
            name,
            reactor,
            timeout=options["timeout"] or None,
            maxLength=options["max-length"],
            quietPeriod=options["quiet-period"],
            where=options["where"],
        )
        reactor.addSystemEventTrigger("before", "shutdown", onShutdown)
        answer = await work
    except (CancelledError, ConnectingCancelledError):
        if interrupted:
            raise SystemExit(INTERRUPTED) from None
        raise
    except ExchangeError as e:
        stderr.write(f"error: {e}\n")
        raise SystemExit(e.exitCode) from None
    with _stdoutMayBeClosed(stdout):
        stdout.write(f"Server: {shown(answer)}\n")
        stdout.flush()


@contextmanager
def _stdoutMayBeClosed(stdout: TextIO) -> Iterator[None]:
    """
    Output into a pipe whose reader left (C{... --help | head -1}) ends the
    client quietly with status 1, as C{SIGPIPE} ends other commands; Python
    would print a traceback.
    """
    try:
        yield
    except BrokenPipeError:
        if stdout is sys.stdout:
            # Python flushes stdout again at exit: let that go nowhere.
            with suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        raise SystemExit(1) from None


async def _chat(
    reactor: Any, options: ClientOptions, stdinFd: int, stdoutFd: int, stdin: TextIO
) -> None:
    """Turn after turn: each line typed is sent, each answer shown."""
    lines: DeferredQueue[str | None] = DeferredQueue()
    terminal = Terminal(lines.put, lambda: lines.put(None))
    modes = BlockingModeKeeper((stdinFd, stdoutFd))
    stdio = attachStdio(terminal, stdinFd, stdoutFd, reactor)
    prompt = stdin.isatty()
    where, timeout = options["where"], options["timeout"] or None
    protocol = NameClientProtocol(reactor, options["max-length"], options["quiet-period"])
    try:
        connecting = connectProtocol(clientFromString(reactor, options["endpoint"]), protocol)
        if timeout:
            connecting.addTimeout(timeout, reactor, onTimeoutCancel=timedOut(where))
        try:
            await connecting
        except Exception as e:
            raise explain(Failure(e), where, timeout) from e
        if prompt:
            terminal.show(f"Connected to {where}. Empty line or Ctrl-D to end.")
        line: str | None = options["name"]
        answers = 0
        while True:
            if line is None:
                if prompt:
                    terminal.show("You: ", end="")
                typed: Deferred[Any] = lines.get()
                closing: Deferred[Any] = protocol.whenClosed()
                index, line = await race([typed, closing])
                if index == 1:
                    terminal.show(f"{where} ended the conversation.")
                    return
            if line is None or not line.strip():
                return
            try:
                text = checkName(line, options["max-length"])
            except InvalidName as e:
                terminal.show(f"Not sent: {e}.")
                line = None
                continue
            asking = protocol.ask(text)
            if timeout:
                asking.addTimeout(timeout, reactor, onTimeoutCancel=timedOut(where))
            try:
                answer = await asking
            except NoAnswer as e:
                if not answers:
                    raise
                raise NoAnswer(
                    f"{where} closed the connection after {answers} answer"
                    f"{'s' if answers > 1 else ''} (is the server running with --chat?)"
                ) from e
            answers += 1
            terminal.show(f"Server: {shown(answer)}")
            line = None
    finally:
        if protocol.transport is not None:
            protocol.transport.loseConnection()
        await closeTerminal(terminal, stdio, reactor)
        modes.restore()


def run(argv: list[str] | None = None) -> None:
    """The console entry point: run L{main} under L{task.react}."""
    args = sys.argv[1:] if argv is None else argv
    try:
        task.react(main, args)
    except KeyboardInterrupt:  # Ctrl-C while asking for the name, before the reactor ran.
        sys.stderr.write("\n")
        raise SystemExit(INTERRUPTED) from None
