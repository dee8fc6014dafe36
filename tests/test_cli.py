"""Tests for L{twisted_names.app.cli}: messages and exit statuses, against real servers."""

from __future__ import annotations

import io
import os
import socket
import struct
import sys
import tempfile
from collections.abc import Callable
from typing import Any, TextIO
from unittest import skipIf

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.harness import Input
from tests.pipes import Pipe, reactor
from tests.skips import NO_RESET, NO_TLS, NO_UNIX_SOCKETS
from twisted_names import __version__
from twisted_names.app.cli import ClientOptions, Screen, main, outcome
from twisted_names.console.winstdio import utf8Streams
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings


class CLITestCase(TestCase):
    async def serve(self, replies: ReplySource | None = None, **settings: object) -> int:
        factory = NameServerFactory(
            FixedReply("Bob") if replies is None else replies,
            reactor,
            ServerSettings(**settings),  # type: ignore[arg-type]
        )
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return int(port.getHost().port)

    async def serveRaw(self, answer: Callable[[Any, bytes], None]) -> int:
        """
        A server that calls C{answer(transport, data)} with what each client
        sends: for answers the real server never gives.
        """

        class Raw(Protocol):
            def dataReceived(self, data: bytes) -> None:
                answer(self.transport, data)

        factory = Factory.forProtocol(Raw)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return int(port.getHost().port)

    async def runClient(
        self, *argv: str, stdin: str | TextIO = "", stdout: TextIO | None = None
    ) -> tuple[int, str, str]:
        """Run the client; return its exit status, stdout and stderr."""
        stdout = io.StringIO() if stdout is None else stdout
        stderr = io.StringIO()
        if isinstance(stdin, str):
            stdin = Input(stdin)
        try:
            await main(reactor, *argv, stdin=stdin, stdout=stdout, stderr=stderr)
        except SystemExit as e:
            assert isinstance(e.code, int)
            return e.code, _value(stdout), stderr.getvalue()
        return 0, _value(stdout), stderr.getvalue()


def _value(stream: TextIO) -> str:
    return stream.getvalue() if isinstance(stream, io.StringIO) else ""


class ExchangeTests(CLITestCase):
    async def test_nameOption(self) -> None:
        port = await self.serve()
        result = await self.runClient("--port", str(port), "--name", "Ana")
        self.assertEqual(result, (0, "Server: Bob\n", ""))

    async def test_nameFromStdin(self) -> None:
        """With stdin not a terminal, one line is read, with no prompt."""
        port = await self.serve()
        result = await self.runClient("-p", str(port), stdin="Ana\nignored\n")
        self.assertEqual(result, (0, "Server: Bob\n", ""))

    async def test_endpointOption(self) -> None:
        port = await self.serve()
        result = await self.runClient("--endpoint", f"tcp:host=127.0.0.1:port={port}", "-n", "Ana")
        self.assertEqual(result, (0, "Server: Bob\n", ""))

    async def test_hostileAnswerShownEscaped(self) -> None:
        port = await self.serve(FixedReply("\x1b[2Jgotcha"))
        status, out, _ = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual((status, out), (0, 'Server: "\\x1b[2Jgotcha"\n'))


class ErrorTests(CLITestCase):
    async def test_badOption(self) -> None:
        status, out, err = await self.runClient("--port", "banana")
        self.assertEqual(status, 2)
        self.assertEqual(out, "")
        self.assertEqual(
            err,
            "error: --port: 'banana' is not a port number (0-65535)\n"
            "Run with --help for the options.\n",
        )

    async def test_emptyName(self) -> None:
        status, _, err = await self.runClient("--name", " ")
        self.assertEqual((status, err.splitlines()[0]), (2, "error: --name: the name is empty"))

    async def test_nameTooLong(self) -> None:
        status, _, err = await self.runClient("--max-length", "4", "--name", "Anabel")
        self.assertEqual(status, 2)
        self.assertIn("the name is 6 bytes long; the limit is 4", err)

    async def test_emptyStdin(self) -> None:
        status, _, err = await self.runClient("-p", "1", stdin="")
        self.assertEqual(
            (status, err), (2, "error: no name: the input ended before a line was read\n")
        )

    async def test_blankLineOnStdin(self) -> None:
        status, _, err = await self.runClient("-p", "1", stdin="\n")
        self.assertEqual((status, err), (2, "error: cannot send the name: the name is empty\n"))

    async def test_refused(self) -> None:
        port = await self.serve()
        await self._cleanups.pop()[0]()
        status, out, err = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual((status, out), (3, ""))
        self.assertEqual(
            err,
            f"error: cannot connect to 127.0.0.1:{port}: connection refused (is the server"
            " running, and listening on that address and port? Its console says where:"
            " 127.0.0.1 unless started with --interface 0.0.0.0, which lets other machines"
            " in)\n",
        )

    async def test_timeout(self) -> None:
        port = await self.serve(ReplyQueue(reactor))
        status, _, err = await self.runClient("-p", str(port), "-n", "Ana", "--timeout", "0.3")
        self.assertEqual(
            (status, err), (4, f"error: no answer from 127.0.0.1:{port} within 0.3 s\n")
        )

    async def test_closedWithoutAnswer(self) -> None:
        queue = ReplyQueue(reactor)
        queue.close()
        port = await self.serve(queue)
        status, _, err = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual(
            (status, err), (5, "error: the server closed the connection without answering\n")
        )

    async def test_answerTooLong(self) -> None:
        port = await self.serve(FixedReply("B" * 50))
        status, _, err = await self.runClient("-p", str(port), "-n", "Ana", "--max-length", "10")
        self.assertEqual(
            (status, err), (6, "error: the server's answer is longer than 10 bytes\n")
        )

    async def test_badEndpoint(self) -> None:
        status, _, err = await self.runClient("-e", "tls:localhost:1:trustRoots=/nonexistent")
        self.assertEqual(status, 2)
        self.assertTrue(
            err.startswith("error: bad endpoint 'tls:localhost:1:trustRoots=/nonexistent': "),
            err,
        )
        self.assertEqual(len(err.splitlines()), 2)

    async def test_closedStdoutQuiet(self) -> None:
        """Output into a pipe nobody reads (C{--help | head -1}): status 1, no traceback."""

        class Closed(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError()

        stderr = io.StringIO()
        self.patch(sys, "stdout", Closed())  # usage.Options prints --help there.
        with self.assertRaises(SystemExit) as caught:
            await main(reactor, "--help", stderr=stderr)
        self.assertEqual((caught.exception.code, stderr.getvalue()), (1, ""))

    def test_ipv6Host(self) -> None:
        options = ClientOptions()
        options.parseOptions(["--host", "::1", "--port", "7"])
        self.assertEqual(options["endpoint"], "tcp:host=\\:\\:1:port=7")
        self.assertEqual(options["where"], "[::1]:7")


class ChatTests(CLITestCase):
    async def chat(
        self, port: int, typed: bytes, *argv: str, stderr: io.StringIO | None = None
    ) -> tuple[int, bytes]:
        stdin, stdout = Pipe(self), Pipe(self)
        stdin.write(typed)
        stdin.closeWriteEnd()
        try:
            await main(
                reactor, "-p", str(port), "--chat", *argv,
                stdin=Input(), stdinFd=stdin.readFd, stdoutFd=stdout.writeFd,
                stderr=stderr or io.StringIO(),
            )  # fmt: skip
            status = 0
        except SystemExit as e:
            assert isinstance(e.code, int)
            status = e.code
        return status, await stdout.readToEnd()

    async def test_turnAfterTurn(self) -> None:
        port = await self.serve(chat=True)
        status, out = await self.chat(port, b"one\ntwo\n")
        self.assertEqual((status, out), (0, b"Server: Bob\nServer: Bob\n"))

    async def test_emptyLineEnds(self) -> None:
        port = await self.serve(chat=True)
        status, out = await self.chat(port, b"one\n\nnot sent\n")
        self.assertEqual((status, out), (0, b"Server: Bob\n"))

    async def test_nameOptionIsFirstTurn(self) -> None:
        port = await self.serve(chat=True)
        status, out = await self.chat(port, b"two\n", "--name", "one")
        self.assertEqual((status, out), (0, b"Server: Bob\nServer: Bob\n"))

    async def test_serverNotInChatMode(self) -> None:
        """A one-shot server answers once and closes: the client says so."""
        port = await self.serve()
        stderr = io.StringIO()
        status, out = await self.chat(port, b"one\ntwo\n", stderr=stderr)
        self.assertEqual((status, out), (5, b"Server: Bob\n"))
        self.assertEqual(
            stderr.getvalue(),
            f"error: 127.0.0.1:{port} closed the connection after 1 answer"
            " (is the server running with --chat?)\n",
        )

    async def test_serverEndsWithEmptyLine(self) -> None:
        """
        In chat mode an empty line from the server is the server ending the
        conversation: said so, status 0, the lines after it not sent.
        """
        received: list[bytes] = []

        def answer(transport: Any, data: bytes) -> None:
            received.append(data)
            transport.write(b"Bob\n" if len(received) == 1 else b"\n")

        port = await self.serveRaw(answer)
        status, out = await self.chat(port, b"one\ntwo\nthree\n")
        self.assertEqual(
            (status, out),
            (0, f"Server: Bob\n127.0.0.1:{port} ended the conversation.\n".encode()),
        )
        self.assertNotIn(b"three", b"".join(received))


class MoreErrorTests(CLITestCase):
    """Every input, however bad: one message, one exit status, no traceback."""

    async def test_version(self) -> None:
        """--version is ours (it was Twisted's)."""
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)  # usage.Options prints there.
        status, _, err = await self.runClient("--version")
        self.assertEqual((status, err), (0, ""))
        self.assertTrue(
            stdout.getvalue().startswith(f"names-client (twisted-names) {__version__},")
        )

    async def test_emptyAnswer(self) -> None:
        """An empty line is the server being done: no answer, exit 5 (it printed Server: "")."""
        port = await self.serveRaw(lambda transport, data: transport.write(b"\n"))
        result = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual(
            result,
            (5, "", "error: the server sent an empty line (it is done) instead of a name\n"),
        )

    async def test_garbageAnswer(self) -> None:
        """Bytes that are not UTF-8, NUL, escapes: shown escaped, never raw."""
        port = await self.serveRaw(
            lambda transport, data: transport.write(b"\xff\x00\x1b[2J\x9b\n")
        )
        result = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual(result, (0, 'Server: "\ufffd\\x00\\x1b[2J\ufffd"\n', ""))

    @skipIf(NO_RESET is not None, NO_RESET or "")
    async def test_serverResets(self) -> None:
        def reset(transport: Any, data: bytes) -> None:
            transport.getHandle().setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            transport.abortConnection()

        port = await self.serveRaw(reset)
        result = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual(
            result,
            (
                5,
                "",
                "error: the connection to the server broke (reset or lost) before an answer\n",
            ),
        )

    async def test_invalidUTF8OnStdin(self) -> None:
        stdin = io.TextIOWrapper(io.BytesIO(b"\xffAna\n"), encoding="utf-8")
        result = await self.runClient("-p", "1", stdin=stdin)
        self.assertEqual(result, (2, "", "error: the name read from stdin is not valid UTF-8\n"))

    async def test_stdinClosed(self) -> None:
        """Started with stdin closed (C{<&-}), Python's C{sys.stdin} is C{None}."""
        self.patch(sys, "stdin", None)
        stdout, stderr = io.StringIO(), io.StringIO()
        with self.assertRaises(SystemExit) as caught:
            await main(reactor, "-p", "1", stdout=stdout, stderr=stderr)
        self.assertEqual(
            (caught.exception.code, stderr.getvalue()),
            (2, "error: no name: stdin is closed (give one with --name)\n"),
        )

    async def test_stdinUnreadable(self) -> None:
        """A stdin open for writing only (C{0>file}): it cannot be read."""
        path = self.mktemp()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)
        stdin = open(fd, encoding="utf-8")  # noqa: SIM115 - closed below
        self.addCleanup(stdin.close)
        result = await self.runClient("-p", "1", stdin=stdin)
        self.assertEqual(
            result, (2, "", "error: cannot read the name from stdin: Bad file descriptor\n")
        )

    async def test_stdinLineTooLong(self) -> None:
        result = await self.runClient("-p", "1", "--max-length", "4", stdin="x" * 70000)
        self.assertEqual(
            result, (2, "", "error: the line read from stdin is longer than 65536 bytes\n")
        )

    async def test_stderrClosed(self) -> None:
        """With stderr closed the message goes nowhere, and the status is still right."""
        port = await self.serve()
        await self._cleanups.pop()[0]()
        self.patch(sys, "stderr", None)
        with self.assertRaises(SystemExit) as caught:
            await main(reactor, "-p", str(port), "-n", "Ana", stdin=Input(""))
        self.assertEqual(caught.exception.code, 3)

    async def test_stdoutClosed(self) -> None:
        """Started with stdout closed (C{>&-}): the answer goes nowhere, as print() does."""
        port = await self.serve()
        self.patch(sys, "stdout", None)
        stderr = io.StringIO()
        await main(reactor, "-p", str(port), "-n", "Ana", stdin=Input(""), stderr=stderr)
        self.assertEqual(stderr.getvalue(), "")

    async def test_stdoutReaderLeft(self) -> None:
        """stdout a pipe whose reader left: status 1, quietly (as SIGPIPE would)."""

        class Gone(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError()

        port = await self.serve()
        result = await self.runClient("-p", str(port), "-n", "Ana", stdout=Gone())
        self.assertEqual(result, (1, "", ""))

    async def test_stdoutReaderLeftAtPrompt(self) -> None:
        """
        The prompt was shown, then the reader left and stdin ended: ending
        the prompt's line fails quietly, and the error is still told.
        """

        class OneWrite(io.StringIO):
            def write(self, text: str) -> int:
                if self.getvalue():
                    raise BrokenPipeError()
                return super().write(text)

        class Terminal(Input):
            def isatty(self) -> bool:
                return True

        result = await self.runClient("-p", "1", stdin=Terminal(""), stdout=OneWrite())
        self.assertEqual(
            result, (2, "Your name: ", "error: no name: the input ended before a line was read\n")
        )

    async def test_endpointGarbage(self) -> None:
        for garbage in ["", ":", "tcp:host=x:port=abc", "tls:", "foo:bar", "tcp:\\"]:
            status, out, err = await self.runClient("-e", garbage, "-n", "Ana")
            self.assertEqual((status, out), (2, ""), garbage)
            first, hint = err.splitlines()
            self.assertTrue(first.startswith(f"error: bad endpoint {garbage!r}: "), err)
            self.assertEqual(hint, "Run with --help for the options.")

    async def test_endpointGarbageEscaped(self) -> None:
        """Twisted's message quotes the string raw: it reaches stderr escaped."""
        status, _, err = await self.runClient("-e", "\x1b[2J", "-n", "Ana")
        self.assertEqual(status, 2)
        self.assertNotIn("\x1b", err)
        self.assertIn("\\x1b[2", err)

    @skipIf(NO_UNIX_SOCKETS is not None, NO_UNIX_SOCKETS or "")
    async def test_endpointShownEscaped(self) -> None:
        """The endpoint in a message is escaped (a pasted string can hold escapes)."""
        # A short directory: a UNIX socket's path has at most 107 bytes (a
        # longer one is an OSError Twisted's connect does not expect).
        directory = tempfile.mkdtemp(prefix="names-")
        self.addCleanup(os.rmdir, directory)
        path = os.path.join(directory, "\x1b[2J")
        status, _, err = await self.runClient("-e", f"unix:path={path}", "-n", "Ana")
        self.assertEqual(status, 3)
        self.assertNotIn("\x1b", err)
        self.assertIn('cannot connect to "unix:path=', err)
        self.assertIn('\\x1b[2J"', err)

    @skipIf(NO_TLS is not None, NO_TLS or "")
    async def test_sslEndpointRefused(self) -> None:
        """
        An ssl: client endpoint checks no host name (and, with no
        caCertsDir, no certificate at all): refused, tls: named instead.
        """
        status, _, err = await self.runClient("-e", "ssl:localhost:5000", "-n", "Ana")
        self.assertEqual(status, 2)
        self.assertEqual(
            err.splitlines()[0],
            "error: --endpoint: an ssl: client endpoint does not check that the server is the"
            " host named; use tls:HOST:PORT (with :trustRoots=FOLDER for your own authority)",
        )


class OutcomeTests(SynchronousTestCase):
    """L{outcome}: what went wrong, as one line and an exit status."""

    def test_unexpected(self) -> None:
        """A failure nobody foresaw (a bug): one line, status 1, no traceback."""
        self.assertEqual(
            outcome(RuntimeError("oops\nsecond line"), False),
            ("error: unexpected RuntimeError: oops second line (a bug in names-client:"
             " please report it)", 1),
        )  # fmt: skip

    def test_interrupted(self) -> None:
        from twisted.internet.defer import CancelledError

        self.assertEqual(outcome(KeyboardInterrupt(), False), (None, 130))
        self.assertEqual(outcome(CancelledError(), True), (None, 130))
        self.assertEqual(outcome(CancelledError(), False)[1], 1)


class ScreenTests(SynchronousTestCase):
    """Output is never glued to a prompt still on its line."""

    def setUp(self) -> None:
        self.written: list[str] = []
        self.screen = Screen(self.written.append)

    def test_lineAfterPrompt(self) -> None:
        """The server ends the chat while C{You: } waits: a new line first."""
        self.screen.prompt("You: ")
        self.screen.show("srv ended the conversation.")
        self.assertEqual("".join(self.written), "You: \nsrv ended the conversation.\n")

    def test_lineTyped(self) -> None:
        """The person ended their line: the terminal is on a new line already."""
        self.screen.prompt("You: ")
        self.screen.lineTyped()
        self.screen.show("Server: Bob")
        self.assertEqual("".join(self.written), "You: Server: Bob\n")

    def test_endPromptOnce(self) -> None:
        self.screen.prompt("Your name: ")
        self.screen.endPrompt()
        self.screen.endPrompt()
        self.assertEqual("".join(self.written), "Your name: \n")


class WindowsStreamsTests(SynchronousTestCase):
    """On Windows, what the client prints to a pipe or a file is UTF-8."""

    def test_pipesInUtf8ConsoleLeft(self) -> None:
        """
        Found by the Windows stage (issue 14): a name printed to a pipe came
        out in the ANSI code page (C{S\\xe9rgio}), which has no letter for
        most names; the console is left to Python, which writes it Unicode.
        """
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        pipe = open(w, "w", encoding="cp1252", newline="\n")  # noqa: SIM115 (closed below)
        console = open(os.dup(w), "w", encoding="cp1252")  # noqa: SIM115
        self.addCleanup(console.close)
        utf8Streams([pipe, console, None], lambda fd: fd == console.fileno())
        self.assertEqual((pipe.encoding, console.encoding), ("utf-8", "cp1252"))
        pipe.write("Server: Sérgio\n")
        pipe.close()
        self.assertEqual(os.read(r, 100), "Server: Sérgio\n".encode())
