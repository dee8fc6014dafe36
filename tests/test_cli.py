"""Tests for L{twisted_names.cli}: messages and exit statuses, against real servers."""

from __future__ import annotations

import io
import os
import sys

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.trial.unittest import TestCase

from tests.pipes import Pipe, reactor
from twisted_names.cli import ClientOptions, main
from twisted_names.replies import FixedReply, ReplyQueue, ReplySource
from twisted_names.server import NameServerFactory, ServerSettings


class Input(io.StringIO):
    """A stdin that is not a terminal."""

    def isatty(self) -> bool:
        return False


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

    async def runClient(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        """Run the client; return its exit status, stdout and stderr."""
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            await main(reactor, *argv, stdin=Input(stdin), stdout=stdout, stderr=stderr)
        except SystemExit as e:
            assert isinstance(e.code, int)
            return e.code, stdout.getvalue(), stderr.getvalue()
        return 0, stdout.getvalue(), stderr.getvalue()


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
            " running, on that port?)\n",
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
        os.set_blocking(stdout.readFd, False)
        return status, stdout.drain()

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
