"""
Tests for L{twisted_names.app.assembly} and L{twisted_names.app.serveroptions}:
the server built from a plan, and the pieces another plugin reuses.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from twisted_names.app import assembly
from twisted_names.app.assembly import (
    ServerPlan,
    Stopper,
    addProcessService,
    assembleServer,
    chooseConsole,
)
from twisted_names.app.serveroptions import (
    LISTENING_OPTIONS,
    ServerPluginOptions,
    listeningDescription,
    listeningWhere,
    twistdOptionHint,
)
from twisted_names.app.services import ListeningService, NamesServerService
from twisted_names.console.model import Discipline, Operator
from twisted_names.console.plain import PlainLines
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import NameServerFactory, ServerSettings


def plan(reactor: Any, **values: Any) -> ServerPlan:
    endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    return ServerPlan(ServerSettings(), endpoint, "tcp:0", **values)


class AssembleServerTests(SynchronousTestCase):
    """The services a plan makes, in the order they start."""

    def setUp(self) -> None:
        # stdin and stdout as a pipe, whatever runs the tests.
        self.patch(assembly, "terminalFds", lambda: None)

    def test_operatorOnAPipe(self) -> None:
        """Not a terminal (under trial): the plain view of the one model."""
        reactor = MemoryReactorClock()
        server = assembleServer(plan(reactor, where="127.0.0.1:0"), reactor)
        self.assertEqual([s.name for s in server], ["terminal", "listening", "operator"])
        operator = server.getServiceNamed("operator")
        self.assertIs(operator.console.discipline, Discipline.PIPE)
        self.assertIsInstance(operator.console.view, PlainLines)
        self.assertIsInstance(operator.console, Operator)
        self.assertIs(operator.queue.observer, operator.console)
        terminal = server.getServiceNamed("terminal").terminal
        self.assertEqual(terminal.onLine, operator.console.lineTyped)
        self.assertEqual(server.getServiceNamed("listening").where, "127.0.0.1:0")

    def test_fixedName(self) -> None:
        reactor = MemoryReactorClock()
        server = assembleServer(plan(reactor, fixedName="Bob"), reactor)
        self.assertEqual([s.name for s in server], ["listening"])
        replies = server.getServiceNamed("listening").factory.replies
        self.assertIsInstance(replies, FixedReply)

    def test_underTwistdCtrlCGoesThroughTheProcess(self) -> None:
        """Under twistd the operator's stop is the process service's."""
        reactor = MemoryReactorClock()
        twistd = {"nodaemon": True, "logfile": None, "syslog": False}
        server = assembleServer(plan(reactor, twistd=twistd), reactor)
        self.assertEqual(
            [s.name for s in server], ["process", "terminal", "listening", "operator"]
        )


class PieceTests(SynchronousTestCase):
    def test_stopper(self) -> None:
        """The console holds a Stopper; the process service takes it over later."""
        calls: list[str] = []
        stopper = Stopper(lambda: calls.append("reactor"))
        stopper()
        reactor = MemoryReactorClock()
        server = NamesServerService()
        factory = NameServerFactory(FixedReply("x"), reactor)
        listening = ListeningService(TCP4ServerEndpoint(reactor, 0), "tcp:0", factory)
        console = chooseConsole(reactor, False, None, stopper, 10)
        process = addProcessService(server, reactor, console, None, 5, listening, stopper)
        process.stopFor = lambda why, **kw: calls.append(why)  # type: ignore[method-assign]
        stopper()
        listening.onFailure()
        self.assertEqual(calls, ["reactor", "Ctrl-C", "cannot listen"])
        self.assertEqual(process.maxClients, 5)

    def test_noConsoleWithNothingToShow(self) -> None:
        """No operator, no terminal log, no trace: no terminal at all."""
        console = chooseConsole(MemoryReactorClock(), False, None, lambda: None, 10)
        self.assertIsNone(console.service)
        self.assertIsNone(console.show)

    def test_plainLines(self) -> None:
        """The plain view writes each line of a notice; a pipe has no prompt."""
        lines: list[str] = []
        view = PlainLines(lines.append)
        view.notice("one\ntwo")
        view.promptChanged()
        self.assertEqual(lines, ["one", "two"])

    def test_plainOperatorMeasuresWithTheQueuesClock(self) -> None:
        clock = Clock()
        queue = ReplyQueue(clock)
        lines: list[str] = []
        operator = Operator(
            queue, PlainLines(lines.append), queue.clock, 10, discipline=Discipline.PIPE
        )
        self.assertIs(operator.clock, clock)


class ExampleOptions(ServerPluginOptions):
    """Options of another plugin, made of the shared pieces."""

    usageErrorForm = "twistd example: error: {message}\n"
    twistdOptionForm = "{option} is twistd's own option"
    optParameters = [LISTENING_OPTIONS[name] for name in ("port", "interface", "endpoint")] + [
        LISTENING_OPTIONS["backlog"]
    ]


class ServerOptionsTests(SynchronousTestCase):
    def parsed(self, *argv: str) -> ExampleOptions:
        options = ExampleOptions()
        options.parseOptions(list(argv))
        return options

    def test_listening(self) -> None:
        options = self.parsed("--port", "6000", "--interface", "::1")
        self.assertEqual(listeningDescription(options), "tcp:6000:interface=\\:\\:1:backlog=1024")
        self.assertEqual(listeningWhere(options), "[::1]:6000")
        options = self.parsed("--endpoint", "unix:/tmp/x.sock")
        self.assertEqual(listeningDescription(options), "unix:/tmp/x.sock")
        self.assertIsNone(listeningWhere(options))

    def test_hint(self) -> None:
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        twistd = ServerOptions()
        form = ExampleOptions.twistdOptionForm
        self.assertEqual(twistdOptionHint("-n", twistd, form), " (-n is twistd's own option)")
        self.assertEqual(twistdOptionHint("--bogus", twistd, form), "")
        self.assertEqual(twistdOptionHint(None, twistd, form), "")

    def test_oneLineUnderTwistd(self) -> None:
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        options = ExampleOptions()
        options.parent = ServerOptions()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        error = self.assertRaises(SystemExit, options.parseOptions, ["--nodaemon"])
        self.assertEqual(error.code, 2)
        self.assertEqual(
            stderr.getvalue(),
            "twistd example: error: option --nodaemon not recognized"
            " (--nodaemon is twistd's own option)\n",
        )
        self.assertRaises(usage.UsageError, ExampleOptions().parseOptions, ["--port"])


class SynopsisTests(SynchronousTestCase):
    """The Usage line: ours under twistd, the runner's own under another one."""

    def test_twistd(self) -> None:
        from twisted.scripts.twistd import ServerOptions  # type: ignore[attr-defined]

        twistd = ServerOptions()
        twistd.subCommand = "example"
        options = ExampleOptions()
        options.parent = twistd
        self.assertEqual(options.getSynopsis(), "Usage: twistd [options] example ")

    def test_anotherRunner(self) -> None:
        class Twist(usage.Options):
            synopsis = "Usage: twist [options] plugin [plugin_options]"
            subCommand = "example"

        options = ExampleOptions()
        options.parent = Twist()
        self.assertEqual(
            options.getSynopsis(), "Usage: twist [options] plugin [plugin_options] example "
        )
