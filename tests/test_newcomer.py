"""
What a newcomer read in the three programs' C{--help} that the programs did
not do (found by trying the product from the README, in both languages).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.testing import MemoryReactorClock
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.pipes import Pipe
from twisted_names import i18n
from twisted_names.app import cli, proxytap, tap
from twisted_names.app.assembly import Stopper, addProcessService, chooseConsole
from twisted_names.app.process import ProcessService
from twisted_names.app.services import (
    ListeningService,
    NamesServerService,
    TerminalService,
    echoesControlKeys,
)
from twisted_names.console.terminal import Terminal
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory

if sys.platform != "win32":
    import termios


def helpOf(program: Callable[[], usage.Options], language: str) -> str:
    """C{--help} of C{program}'s options in C{language}, as a person reads it."""
    before = i18n.current()
    i18n.use(i18n.load([language]))
    try:
        return " ".join(str(program()).split())
    finally:
        i18n.use(before)


class ProxyToTests(SynchronousTestCase):
    """
    C{names-proxy --to} given only a port, or only a host, as a student
    first writes it: one line that says what C{--to} wants, not Twisted's
    C{unknown endpoint type '5000'}.
    """

    def refusal(self, to: str) -> str:
        error = self.assertRaises(usage.UsageError, proxytap.Options().parseOptions, ["--to", to])
        return str(error)

    def test_portOnly(self) -> None:
        self.assertEqual(
            self.refusal("5000"),
            "--to: '5000' is only a port: give the server as HOST:PORT, such as 127.0.0.1:5000",
        )

    def test_hostOnly(self) -> None:
        self.assertEqual(
            self.refusal("localhost"),
            "--to: 'localhost' has no port: give the server as HOST:PORT, such as localhost:5000",
        )

    def test_hostOnlyEscaped(self) -> None:
        """What the person typed is shown escaped."""
        self.assertIn("'a\\x1bb' has no port", self.refusal("a\x1bb"))

    def test_endpointStringsStillTaken(self) -> None:
        options = proxytap.Options()
        options.parseOptions(["--to", "tcp:host=127.0.0.1:port=5000"])
        self.assertEqual(options["upstream"], "tcp:host=127.0.0.1:port=5000")

    def test_ipv6HostOnly(self) -> None:
        self.assertEqual(
            self.refusal("::1"),
            "--to: '::1' has no port: give the server as HOST:PORT, such as [::1]:5000",
        )


class EndpointKindEscapedTests(SynchronousTestCase):
    """
    An unknown endpoint type is quoted from Twisted's words, which do not
    escape it: what was typed (a paste holding an escape sequence) reached
    the terminal raw in the error line.
    """

    def test_unknownKindEscaped(self) -> None:
        from twisted.internet.endpoints import serverFromString

        from twisted_names.app.options import checkEndpoint

        error = self.assertRaises(usage.UsageError, checkEndpoint, serverFromString, "a\x1bb:1")
        self.assertNotIn("\x1b", str(error))
        self.assertIn("unknown endpoint type 'a\\x1bb'", str(error))


class InterruptTests(SynchronousTestCase):
    """
    Ctrl-C at a terminal in its usual mode (names-proxy; names-server with
    C{--name} or its plain lines) echoes C{^C} where the cursor is: the
    next log line was glued to it (C{^C2026-12-05T15:46:53+0000 [names#info]
    SIGINT: stopping}).  The process service has the terminal end that
    line first.
    """

    def process(self) -> tuple[ProcessService, list[str]]:
        said: list[str] = []

        class Reactor:
            running = True

            def stop(self) -> None:
                said.append("stopped")

            def callFromThread(self, f: Callable[..., object], *args: object) -> None:
                f(*args)

        process = ProcessService(Reactor())
        process.onInterrupt = lambda: said.append("line ended")
        return process, said

    def test_sigintEndsTheLineFirst(self) -> None:
        process, said = self.process()
        process._stopSignalled(signal.SIGINT, None)
        process._stopSignalled(signal.SIGINT, None)  # A second Ctrl-C: nothing more.
        self.assertEqual(said, ["line ended", "stopped"])

    def test_sigtermEchoesNothing(self) -> None:
        process, said = self.process()
        process._stopSignalled(signal.SIGTERM, None)
        self.assertEqual(said, ["stopped"])

    def test_wiredToThePlainTerminal(self) -> None:
        """names-proxy's terminal (and names-server's plain one) is told."""
        reactor = MemoryReactorClock()
        stopper = Stopper(lambda: None)
        factory = NameServerFactory(FixedReply("x"), reactor)
        listening = ListeningService(TCP4ServerEndpoint(reactor, 0), "tcp:0", factory)
        console = chooseConsole(reactor, False, None, stopper, 10, True)
        terminal = console.service
        assert isinstance(terminal, TerminalService)
        process = addProcessService(
            NamesServerService(), reactor, console, None, 5, listening, stopper
        )
        self.assertEqual(process.onInterrupt, terminal.endEchoedLine)


class EchoedLineTests(TestCase):
    """L{TerminalService.endEchoedLine} on a pseudo-terminal, and on a pipe."""

    if sys.platform == "win32":
        skip = "POSIX terminals (termios, openpty)"

    def pty(self, lflagOn: int, lflagOff: int = 0) -> tuple[int, int]:
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        attributes = termios.tcgetattr(slave)
        attributes[3] = (attributes[3] | lflagOn) & ~lflagOff
        termios.tcsetattr(slave, termios.TCSANOW, attributes)
        os.set_blocking(master, False)
        return master, slave

    async def shown(self, stdout: int) -> None:
        service = TerminalService(Terminal(lambda line: None, lambda: None), reactor, False)
        service.stdioFds = (None, stdout)
        service.startService()
        service.endEchoedLine()
        service.terminal.show("SIGINT: stopping")
        await service.stopService()

    async def test_echoingTerminal(self) -> None:
        master, slave = self.pty(termios.ECHO | termios.ECHOCTL)
        self.assertTrue(echoesControlKeys(slave))
        await self.shown(slave)
        self.assertTrue(os.read(master, 4096).startswith(b"\r\nSIGINT: stopping\r\n"))

    async def test_terminalNotEchoingControlKeys(self) -> None:
        master, slave = self.pty(termios.ECHO, termios.ECHOCTL)
        self.assertFalse(echoesControlKeys(slave))
        await self.shown(slave)
        self.assertTrue(os.read(master, 4096).startswith(b"SIGINT: stopping\r\n"))

    async def test_pipe(self) -> None:
        stdout = Pipe(self)
        self.assertFalse(echoesControlKeys(stdout.writeFd))
        await self.shown(stdout.writeFd)
        self.assertTrue(stdout.drain().startswith(b"SIGINT: stopping\n"))


class TraceFileThatDoesNotSeekTests(SynchronousTestCase):
    """
    A C{--trace-file} that opens but cannot be sought to its end (a file of
    C{/proc}, for root: C{--trace-file /proc/version}) stopped both
    programs with a traceback (names-client: "a bug in names-client").
    """

    def test_oneLine(self) -> None:
        from twisted_names.trace import file

        path = self.mktemp()

        def lseek(fd: int, position: int, how: int) -> int:
            raise OSError(errno.EINVAL, "Invalid argument")

        self.patch(os, "lseek", lseek)
        error = self.assertRaises(usage.UsageError, file.openTraceFile, path)
        self.assertTrue(str(error).startswith(f'--trace-file: cannot write "{path}": '))


class WholeSecondsInHelpTests(SynchronousTestCase):
    """
    C{--help} said C{[default: 330.0]}, C{[default: 120.0]}, C{[default:
    0.0]}: a whole number of seconds is said as the README says it (C{330});
    a fraction keeps the point it is typed with (C{0.25}).
    """

    def test_client(self) -> None:
        text = helpOf(cli.ClientOptions, "en")
        self.assertIn("[default: 330]", text)
        self.assertIn("[default: 0.25]", text)
        self.assertNotIn(".0]", text)

    def test_serverAndProxy(self) -> None:
        server = helpOf(tap.Options, "pt_BR")
        self.assertIn("[padrão: 120]", server)
        self.assertIn("[padrão: 300]", server)
        self.assertNotIn(".0]", server)
        proxy = helpOf(proxytap.Options, "en")
        self.assertIn("[default: 10]", proxy)
        self.assertIn("[default: 0]", proxy)
        self.assertNotIn(".0]", proxy)


class TracedClientErrorLastTests(TestCase):
    """
    C{names-client --trace}: when the exchange fails, the error line came
    before the trace's last line (how the connection ended), which was
    written after it; the answer has always waited for that line.
    """

    def test_errorAfterTheEnd(self) -> None:
        from tests.harness import Network

        network = Network(self, replyTimeout=5)
        client = network.client("--trace", "-n", "Ana")
        network.advance(6)  # The server closes it: no reply in 5 s.
        self.assertEqual(self.successResultOf(client.ended), 5, client.describe())
        lines = client.err.splitlines()
        self.assertTrue(lines[-1].startswith("error: "), client.describe())
        self.assertIn("#1", lines[-2], client.describe())
