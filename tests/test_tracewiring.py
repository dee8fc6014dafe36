"""
Tests for how the programs wire the trace (issue 10): C{--trace} and
C{--trace-file} on both sides; with neither, nothing is wrapped.
"""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
from typing import Any

from twisted.internet.endpoints import serverFromString
from twisted.internet.testing import MemoryReactorClock
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from tests import test_transports
from tests.pipes import reactor
from tests.processes import CHECKOUT
from tests.test_cli import CLITestCase
from tests.test_i18n import portuguese
from tests.test_trace import checkStructure
from twisted_names import i18n
from twisted_names.app.cli import ClientOptions
from twisted_names.app.tap import Options, makeService
from twisted_names.client import clientEndpoint, exchangeNames
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory
from twisted_names.trace.events import Role
from twisted_names.trace.file import makeTracer
from twisted_names.trace.ladder import Ladder
from twisted_names.trace.wrapper import (
    LiveTrace,
    TracedReplies,
    Tracer,
    TracingClientEndpoint,
    TracingFactory,
    TracingServerEndpoint,
)


def parsed(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


def listened(*args: str) -> tuple[Any, Any]:
    """
    makeService, then listen on a memory reactor: the factory the endpoint
    was given, and the server's own factory.
    """
    reactor = MemoryReactorClock()
    server = makeService(parsed("--port", "0", *args), reactor)
    listening = server.getServiceNamed("listening")
    listening.privilegedStartService()
    [(_port, given, _backlog, _interface)] = reactor.tcpServers
    return given, listening.factory


class ServerWiringTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        options = parsed()
        self.assertFalse(options["trace"])
        self.assertIsNone(options["trace-file"])

    def test_offNotWrapped(self) -> None:
        """With neither option, the endpoint gets the server's own factory."""
        given, factory = listened()
        self.assertIsInstance(given, NameServerFactory)
        self.assertIs(given, factory)
        self.assertIsInstance(factory.replies, ReplyQueue)

    def test_traceWraps(self) -> None:
        given, factory = listened("--trace")
        self.assertIsInstance(given, TracingFactory)
        self.assertIs(given.wrappedFactory, factory)
        self.assertIsInstance(factory.replies, TracedReplies)

    def test_traceFileWraps(self) -> None:
        path = self.mktemp()
        given, _ = listened("--name", "Bob", "--trace-file", path)
        self.assertIsInstance(given, TracingFactory)
        with open(path, encoding="utf-8") as f:
            self.assertTrue(f.readline().startswith("# names-server trace, started on "))

    def test_traceFileNotWritable(self) -> None:
        path = os.path.join(self.mktemp(), "missing", "trace.md")
        with self.assertRaises(usage.UsageError) as e:
            parsed("--trace-file", path)
        self.assertIn("--trace-file: cannot write", str(e.exception))

    def test_pathShownAsTyped(self) -> None:
        """
        Bug 4 of issue 14: a path the user typed was escaped as peers' words
        are, every backslash of a Windows path doubled
        (C{cannot write "C:\\\\Users\\\\Ana\\\\aula.md"}); it is shown as typed.
        """
        folder = os.path.join(self.mktemp(), "missing")
        path = folder + os.sep + "C:\\Users\\Ana\\aula\x1b.md"
        with self.assertRaises(usage.UsageError) as e:
            parsed("--trace-file", path)
        shown = folder + os.sep + "C:\\Users\\Ana\\aula\\x1b.md"
        self.assertIn(f'--trace-file: cannot write "{shown}": ', str(e.exception))


class TraceFileLockTests(SynchronousTestCase):
    """Two programs given the same --trace-file: the second is refused."""

    def test_inUse(self) -> None:
        path = self.mktemp()
        given, _ = listened("--name", "Bob", "--trace-file", path)
        self.addCleanup(given.tracer.finish)
        with self.assertRaises(usage.UsageError) as e:
            parsed("--trace-file", path)
        self.assertIn("is being written by another program", str(e.exception))
        with self.assertRaises(usage.UsageError):
            makeTracer(Role.SERVER, MemoryReactorClock(), None, False, path)
        with open(path, encoding="utf-8") as f:
            self.assertTrue(f.readline().startswith("# names-server trace, started on "))

    def test_freedWhenClosed(self) -> None:
        """
        Once the first program has finished, the file can be used again (and
        the second adds its run to the first's).
        """
        path = self.mktemp()
        first = makeTracer(Role.CLIENT, MemoryReactorClock(), None, False, path)
        first.finish()
        parsed("--trace-file", path)
        second = makeTracer(Role.SERVER, MemoryReactorClock(), None, False, path)
        second.finish()
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read().count("# names-"), 2)


class ClientWiringTests(CLITestCase):
    def setUp(self) -> None:
        i18n.use(gettext.NullTranslations())
        self.addCleanup(i18n.use, None)

    def test_options(self) -> None:
        options = ClientOptions()
        options.parseOptions(["--trace", "--trace-file", self.mktemp()])
        self.assertTrue(options["trace"])

    async def test_traceOnStderr(self) -> None:
        """
        The trace goes to stderr, without colour (not a terminal); stdout
        holds only the answer; the file holds the diagram.
        """
        port = await self.serve()
        path = self.mktemp()
        status, out, err = await self.runClient(
            "-p", str(port), "-n", "Ana", "--trace", "--trace-file", path
        )
        self.assertEqual((status, out), (0, "Server: Bob\n"))
        self.assertNotIn("\x1b", err)
        lines = err.splitlines()
        self.assertRegex(lines[0], r"^#1 +0\.0 ms  connection from this client 127\.0\.0\.1:")
        self.assertRegex(lines[1], r"^#1 +0\.0 ms  connecting took \d+\.\d ms ")
        self.assertRegex(lines[2], r'^#1 +\d+\.\d ms  client --> server  "Ana\\n"  4 bytes  ')
        self.assertIn('client <-- server  "Bob\\n"  4 bytes  42 6f 62 0a', err)
        self.assertRegex(
            lines[-1],
            r"connection closed: the client sent its FIN before reading one from the server",
        )
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(checkStructure(self, text), 1)
        self.assertTrue(text.startswith("# names-client trace, started on "))

    async def test_offWritesNothing(self) -> None:
        port = await self.serve()
        status, out, err = await self.runClient("-p", str(port), "-n", "Ana")
        self.assertEqual((status, out, err), (0, "Server: Bob\n", ""))

    async def test_portuguese(self) -> None:
        i18n.use(portuguese())
        port = await self.serve()
        status, _, err = await self.runClient("-p", str(port), "-n", "Ana", "--trace")
        self.assertEqual(status, 0)
        self.assertTrue(re.search("conexão deste cliente 127.0.0.1:\\d+ para o servidor", err))
        self.assertRegex(err, r"a conexão levou \d+,\d ms para se estabelecer")
        self.assertRegex(err, r" às \d\d:\d\d:\d\d\.\d\d\d; ")
        self.assertIn("cliente <-- servidor", err)


class TracedTransportTests(test_transports.TransportTests):
    """
    Every transport, traced on both sides: the wrappers change nothing of
    the exchange (TLS with the client's host check included), and the trace
    says what carried it.
    """

    async def listen(self, description: str) -> object:
        self.lines: list[str] = []
        i18n.use(gettext.NullTranslations())
        self.addCleanup(i18n.use, None)
        tracer = Tracer(Role.SERVER, reactor, [LiveTrace(Ladder(Role.SERVER), self.lines.append)])
        factory = NameServerFactory(TracedReplies(FixedReply("Bob"), tracer), reactor)
        endpoint = TracingServerEndpoint(serverFromString(reactor, description), tracer)
        port = await endpoint.listen(factory)
        self.addCleanup(port.stopListening)
        return port.getHost()

    async def exchange(self, description: str) -> str:
        self.clientLines: list[str] = []
        tracer = Tracer(
            Role.CLIENT, reactor, [LiveTrace(Ladder(Role.CLIENT), self.clientLines.append)]
        )
        endpoint = TracingClientEndpoint(clientEndpoint(reactor, description), tracer)
        answer = await exchangeNames(endpoint, "Ana", reactor, timeout=10, where=description)
        await tracer.whenIdle(10)
        sent = [line for line in self.clientLines if "  client --> server  " in line]
        self.assertEqual(len(sent), 1, self.clientLines)
        self.assertIn('"Ana\\n"  4 bytes  41 6e 61 0a', sent[0])
        return answer

    async def test_tlsVerified(self) -> None:
        await super().test_tlsVerified()
        self.assertIn("(TLS over TCP over IPv4)", self.clientLines[0])
        self.assertRegex(self.clientLines[1], r"^#1 +0\.0 ms  connecting took \d+\.\d ms ")
        self.assertIn("TLS: the bytes shown are the application's", self.clientLines[2])
        self.assertIn("(TLS over TCP over IPv4)", self.lines[0])

    async def test_unixSocket(self) -> None:
        await super().test_unixSocket()
        self.assertIn("(a UNIX socket)", self.clientLines[0])


class NotImportedTests(SynchronousTestCase):
    """
    Without --trace or --trace-file the trace's modules are not even imported
    (they are a measurable part of start-up: docs/performance.md).
    """

    def test_startUpWithoutTrace(self) -> None:
        code = (
            "import sys\n"
            "import twisted_names.app.tap as tap, twisted_names.app.cli as cli\n"
            "tap.Options().parseOptions(['--name', 'x'])\n"
            "cli.ClientOptions().parseOptions(['-n', 'x'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('twisted_names.trace')))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": CHECKOUT},
            check=False,
        )
        self.assertEqual((done.returncode, done.stdout, done.stderr), (0, "[]\n", ""))
