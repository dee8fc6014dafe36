"""
The client's command line as a real process, against servers in this
process: what a person sees for every input, however bad, with the
descriptors and signals only a real process has.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from unittest import skipIf

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint, serverFromString
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest

from tests.certs import makeCertificates
from tests.pipes import until
from tests.processes import (
    CLIENT,
    PYTHON,
    ProgramTestCase,
    WatchedProcess,
    reactor,
    refusingPort,
    spawn,
)
from tests.skips import NO_CHILD_FDS, NO_CTRL_C_TO_CHILD, NO_PTY, NO_TLS
from twisted_names import __version__
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory, ServerSettings


class ClientProcessTestCase(ProgramTestCase):
    async def serve(self, chat: bool = False) -> int:
        """A server answering Bob to every name, on 127.0.0.1; its port."""
        factory = NameServerFactory(FixedReply("Bob"), reactor, ServerSettings(chat=chat))
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return int(port.getHost().port)

    def client(
        self, *options: str, childFDs: dict[int, int | str] | None = None, label: str = "client"
    ) -> WatchedProcess:
        return spawn(self, label, [*CLIENT, *options], childFDs=childFDs)

    async def assertError(self, client: WatchedProcess, status: int, message: str) -> None:
        """The client exited with C{status}, saying only C{message} on stderr."""
        self.assertExited(client, await client.ended, status)
        self.assertEqual(client.err, f"error: {message}\n", client.describe())
        self.assertEqual(client.out, "", client.describe())


@skipIf(NO_TLS is not None, NO_TLS or "")
class TLSTests(ClientProcessTestCase):
    """The tls: endpoint strings people type, through the real command line."""

    async def tlsServer(self, certificate: str) -> tuple[dict[str, str], int]:
        paths = makeCertificates(self.mktemp())
        factory = NameServerFactory(FixedReply("Bob"), reactor)
        description = (
            f"ssl:0:interface=127.0.0.1:privateKey={paths[certificate + '-key']}"
            f":certKey={paths[certificate]}"
        )
        port = await serverFromString(reactor, description).listen(factory)
        self.addCleanup(port.stopListening)
        return paths, port.getHost().port

    async def test_noSubjectAltName(self) -> None:
        """
        CN=evil.example, no subjectAltName, signed by the trusted authority:
        it printed Server: Bob and exited 0; now exit 7 and one line.
        """
        paths, port = await self.tlsServer("nosan")
        client = self.client(
            "-e", f"tls:localhost:{port}:trustRoots={paths['ca-dir']}", "-n", "Ana"
        )
        await self.assertError(
            client,
            7,
            "cannot trust the server: its certificate has no subjectAltName (its subject:"
            " CN=evil.example), so it is for no host, not localhost",
        )

    async def test_otherHost(self) -> None:
        """A subjectAltName for another host: it exited 5 with a repr."""
        paths, port = await self.tlsServer("wrongsan")
        client = self.client(
            "-e", f"tls:localhost:{port}:trustRoots={paths['ca-dir']}", "-n", "Ana"
        )
        await self.assertError(
            client,
            7,
            "cannot trust the server: its certificate is for evil.example, not localhost",
        )

    async def test_trusted(self) -> None:
        paths, port = await self.tlsServer("server")
        client = self.client(
            "-e", f"tls:localhost:{port}:trustRoots={paths['ca-dir']}", "-n", "Ana"
        )
        await self.assertAnswered(client, "Bob")


@skipIf(NO_CTRL_C_TO_CHILD is not None, NO_CTRL_C_TO_CHILD or "")
class InterruptTests(ClientProcessTestCase):
    async def test_ctrlCAtChatPrompt(self) -> None:
        """
        SIGINT while the chat waits for the next line: exit 130 and nothing
        on stderr (it was a C{FailureGroup} traceback and exit 1).
        """
        port = await self.serve(chat=True)
        client = self.client("-p", str(port), "--chat", "-n", "one")
        await client.waitFor("^Server: Bob$")
        client.signal("INT")
        self.assertExited(client, await client.ended, 130)
        self.assertEqual((client.out, client.err), ("Server: Bob\n", ""), client.describe())

    async def test_ctrlCWaitingForChatAnswer(self) -> None:
        """SIGINT while the chat waits for the operator: exit 130, quietly."""
        queue = ReplyQueue(reactor)
        factory = NameServerFactory(queue, reactor, ServerSettings(chat=True))
        listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(listening.stopListening)
        client = self.client("-p", str(listening.getHost().port), "--chat", "-n", "one")
        await until(lambda: len(queue) == 1)
        client.signal("INT")
        self.assertExited(client, await client.ended, 130)
        self.assertEqual((client.out, client.err), ("", ""), client.describe())

    async def test_ctrlCResetsTheConnection(self) -> None:
        """
        SIGINT while the operator has not answered: the client aborts its
        connection, and the server sees a reset, as the client's trace says
        (the reactor's shutdown used to close it first, with a FIN).
        """
        queue = ReplyQueue(reactor)
        reasons: list[Failure] = []
        ended: Deferred[None] = Deferred()

        class Watched(ProtocolWrapper):
            def connectionLost(self, reason: Failure = connectionDone) -> None:
                reasons.append(reason)
                super().connectionLost(reason)
                ended.callback(None)

        factory = WrappingFactory(NameServerFactory(queue, reactor, ServerSettings()))
        factory.protocol = Watched
        listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(listening.stopListening)
        client = self.client("-p", str(listening.getHost().port), "-n", "Ana", "--trace")
        await until(lambda: len(queue) == 1)
        client.signal("INT")
        self.assertExited(client, await client.ended, 130)
        await ended
        self.assertEqual(len(reasons), 1)
        self.assertTrue(reasons[0].check(ConnectionLost), reasons[0])
        self.assertIn("the client resets the connection (RST)", client.err)


class StreamTests(ClientProcessTestCase):
    """Closed, odd or broken stdin, stdout and stderr."""

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdinClosed(self) -> None:
        """C{<&-}: it was an AttributeError traceback."""
        client = self.client("-p", "1", childFDs={1: "r", 2: "r"})
        await self.assertError(client, 2, "no name: stdin is closed (give one with --name)")

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdinClosedChat(self) -> None:
        """
        C{--chat <&-}: the reactor's own descriptor took fd 0 and StandardIO
        failed with a traceback; now stdin reads as ended.
        """
        port = await self.serve(chat=True)
        client = self.client("-p", str(port), "--chat", "-n", "one", childFDs={1: "r", 2: "r"})
        await self.assertAnswered(client, "Bob")

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdinUnreadable(self) -> None:
        """C{0>file}: stdin open for writing only."""
        fd = os.open(self.mktemp(), os.O_WRONLY | os.O_CREAT)
        self.addCleanup(os.close, fd)
        client = self.client("-p", "1", childFDs={0: fd, 1: "r", 2: "r"})
        await self.assertError(client, 2, "cannot read the name from stdin: Bad file descriptor")

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdinDirectory(self) -> None:
        """
        C{< /}: Python itself refuses to start, before any of our code runs
        (exit 1, its own message); no traceback.
        """
        fd = os.open("/", os.O_RDONLY)
        self.addCleanup(os.close, fd)
        client = self.client("-p", "1", childFDs={0: fd, 1: "r", 2: "r"})
        self.assertExited(client, await client.ended, 1)
        self.assertIn("is a directory", client.err)
        self.assertNoTraceback(client)

    async def test_invalidUTF8(self) -> None:
        """It was a traceback (or, by the locale, a message about U+DCFF)."""
        client = self.client("-p", "1")
        client.write(b"\xffAna\n")
        client.closeStdin()
        await self.assertError(client, 2, "the name read from stdin is not valid UTF-8")

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stdoutClosed(self) -> None:
        """C{>&-}: the answer goes nowhere; it was an AttributeError traceback."""
        port = await self.serve()
        client = self.client("-p", str(port), "-n", "Ana", childFDs={0: "w", 2: "r"})
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.err, "", client.describe())

    @skipIf(NO_CHILD_FDS is not None, NO_CHILD_FDS or "")
    async def test_stderrClosed(self) -> None:
        """C{2>&-}: the status is still the error's (it was 1, from a hidden traceback)."""
        port = refusingPort(self)
        client = self.client("-p", str(port), "-n", "Ana", childFDs={0: "w", 1: "r"})
        self.assertExited(client, await client.ended, 3)
        self.assertEqual(client.out, "", client.describe())


class EntryPointTests(ClientProcessTestCase):
    async def test_version(self) -> None:
        """--version is ours: it printed Twisted's."""
        client = self.client("--version")
        self.assertExited(client, await client.ended, 0)
        self.assertTrue(
            client.out.startswith(f"names-client (twisted-names) {__version__}, Twisted "),
            client.describe(),
        )

    async def test_consoleScript(self) -> None:
        # Beside python: a venv's bin/ or Scripts\; or, for a Windows Python
        # that is no venv, its Scripts\ folder.
        folder = os.path.dirname(sys.executable)
        name = "names-client.exe" if sys.platform == "win32" else "names-client"
        candidates = [os.path.join(folder, name), os.path.join(folder, "Scripts", name)]
        script = next((path for path in candidates if os.path.exists(path)), None)
        if script is None:
            raise SkipTest("names-client is not installed next to this Python")
        port = await self.serve()
        client = spawn(self, "names-client", [script, "-p", str(port), "-n", "Ana"])
        await self.assertAnswered(client, "Bob")

    async def test_oneCopyOfTheClient(self) -> None:
        """
        C{python -m twisted_names.client} runs the package's C{__main__}; the
        command line then imports C{twisted_names.client}.  There is one copy
        of its code, not two (two protocol classes, two of every error).
        """
        check = textwrap.dedent(
            """
            import atexit, runpy, sys

            def count():
                classes = {
                    id(module.NameClientProtocol)
                    for module in list(sys.modules.values())
                    if "NameClientProtocol" in getattr(module, "__dict__", {})
                }
                print(f"copies: {len(classes)}", file=sys.stderr)

            atexit.register(count)
            sys.argv[1:] = ["--version"]
            runpy._run_module_as_main("twisted_names.client")  # What -m calls.
            """
        )
        client = spawn(self, "client", [PYTHON, "-c", check])
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.err, "copies: 1\n", client.describe())


class Terminal:
    """
    A pseudo-terminal for the client's stdin, stdout and stderr: echo and
    Ctrl-D as a person's terminal has them, read and written through its
    master side.  Not the client's controlling terminal (so no Ctrl-C), and
    so what the client wrote before it exited is all still there to read.
    """

    master: int
    slave: int
    seen: bytes

    def __init__(self, testCase: ClientProcessTestCase) -> None:
        if sys.platform == "win32":
            raise SkipTest("no pseudo-terminals here")
        import pty

        self.master, self.slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.seen = b""
        testCase.addCleanup(self.close)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def read(self) -> bytes:
        """Everything the client showed so far."""
        with contextlib.suppress(OSError):  # EAGAIN: nothing now; EIO: nobody left.
            while chunk := os.read(self.master, 4096):
                self.seen += chunk
        return self.seen

    async def readUntil(self, expected: bytes) -> None:
        await until(lambda: expected in self.read(), timeout=10)


@skipIf(NO_PTY is not None, NO_PTY or "")
class PromptTests(ClientProcessTestCase):
    """On a terminal, nothing is ever glued to a prompt."""

    def onTerminal(self, *options: str) -> tuple[WatchedProcess, Terminal]:
        terminal = Terminal(self)
        fds: dict[int, int | str] = {0: terminal.slave, 1: terminal.slave, 2: terminal.slave}
        client = self.client(*options, childFDs=fds)
        os.close(terminal.slave)
        terminal.slave = -1
        return client, terminal

    def withControllingTerminal(self, *options: str) -> WatchedProcess:
        """
        Start the client on a pseudo-terminal that is its controlling
        terminal (Ctrl-C there is SIGINT); what it shows is its C{out}, but
        the end of that may be lost: the terminal hangs up when it exits.
        """
        if sys.platform == "win32":
            raise SkipTest("no pseudo-terminals here")
        return spawn(self, "client", [*CLIENT, *options], usePTY=True)

    async def test_endOfInputAtNamePrompt(self) -> None:
        """Ctrl-D at C{Your name: }: it was C{Your name: error: ...}."""
        client, terminal = self.onTerminal("-p", "1")
        await terminal.readUntil(b"Your name: ")
        terminal.type(b"\x04")
        self.assertExited(client, await client.ended, 2)
        self.assertEqual(
            terminal.read(),
            b"Your name: \r\nerror: no name: the input ended before a line was read\r\n",
        )

    async def test_refusedSaysNoWaiting(self) -> None:
        """
        Nobody listens: the client says so, and not that it waits for an
        operator first (it said it before connecting).
        """
        port = refusingPort(self)
        client, terminal = self.onTerminal("-p", str(port), "-n", "Ana")
        self.assertExited(client, await client.ended, 3)
        self.assertEqual(
            terminal.read(),
            f"error: cannot connect to 127.0.0.1:{port}: connection refused"
            " (is the server running, and listening on that address and port? Its console"
            " says where: 127.0.0.1 unless started with --interface 0.0.0.0, which lets"
            " other machines in)\r\n".encode(),
        )

    async def test_emptyNameAsksAgainThenWaits(self) -> None:
        """
        On a terminal an empty name asks again; once sent, the client says
        it waits for the server's operator, then shows the answer on a line
        of its own.
        """

        class AnswerOnce(Protocol):
            def dataReceived(self, data: bytes) -> None:
                self.transport.write(b"Bob\n")  # type: ignore[union-attr]
                self.transport.loseConnection()  # type: ignore[union-attr]

        factory = Factory.forProtocol(AnswerOnce)
        listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(listening.stopListening)
        port = listening.getHost().port
        client, terminal = self.onTerminal("-p", str(port))
        await terminal.readUntil(b"Your name: ")
        terminal.type(b"\r")
        # The prompt asked again, before typing: what is typed earlier is
        # echoed by the terminal before the client can write its prompt.
        await terminal.readUntil(b"sends nothing.\r\nYour name: ")
        terminal.type(b"Bia\r")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(
            terminal.read(),
            b"Your name: \r\nA name is needed: an empty line sends nothing.\r\n"
            b"Your name: Bia\r\n"
            + f"Waiting for 127.0.0.1:{port} to answer (its operator types the answer;"
            " Ctrl-C gives up)...\r\n".encode()
            + b"Server: Bob\r\n",
        )

    async def test_serverEndsAtChatPrompt(self) -> None:
        """
        The server ends the chat while C{You: } waits: what it says starts on
        a line of its own (it was C{You: 127.0.0.1:... ended ...}).
        """

        class AnswerThenClose(Protocol):
            def dataReceived(self, data: bytes) -> None:
                self.transport.write(b"Bob\n")  # type: ignore[union-attr]
                self.transport.loseConnection()  # type: ignore[union-attr]

        factory = Factory.forProtocol(AnswerThenClose)
        listening = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(listening.stopListening)
        port = listening.getHost().port
        client, terminal = self.onTerminal("-p", str(port), "--chat")
        await terminal.readUntil(b"You: ")
        terminal.type(b"one\r")
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(
            terminal.read(),
            f"Connected to 127.0.0.1:{port}. Empty line or Ctrl-D to end.\r\n"
            f"You: one\r\nServer: Bob\r\nYou: \r\n127.0.0.1:{port} ended the conversation.\r\n"
            .encode(),
        )  # fmt: skip

    async def test_ctrlCAtNamePrompt(self) -> None:
        client = self.withControllingTerminal("-p", "1")
        await client.waitFor("Your name: ")
        client.write(b"\x03")
        self.assertExited(client, await client.ended, 130)
        self.assertTrue(client.out.startswith("Your name: ^C"), client.describe())
        self.assertNotIn("error", client.out, client.describe())
        self.assertNoTraceback(client)

    async def test_ctrlCAtChatPrompt(self) -> None:
        """It was a C{FailureGroup} traceback and exit 1."""
        port = await self.serve(chat=True)
        client = self.withControllingTerminal("-p", str(port), "--chat")
        await client.waitFor("You: ")
        client.write(b"one\r")
        await client.waitFor("Server: Bob\r\nYou: ")
        client.write(b"\x03")
        self.assertExited(client, await client.ended, 130)
        self.assertNotIn("error", client.out, client.describe())
        self.assertNoTraceback(client)
