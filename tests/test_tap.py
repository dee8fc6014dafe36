"""Tests for L{twisted_names.app.tap}: the twistd plugin, its options and its service."""

from __future__ import annotations

import io
import sys
from typing import Any
from unittest import skipIf

import twisted.scripts.twistd as twistdScript
from twisted.application.service import Application, IServiceMaker
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.logger import ILogObserver
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.pipes import Pipe, reactor, until
from tests.processes import PIDFILE, heldListener
from tests.skips import WINDOWS_NO_DAEMON
from twisted_names.app import serveroptions
from twisted_names.app.process import ProcessService
from twisted_names.app.services import ListeningAddress, NamesServerService
from twisted_names.app.tap import CannotListen, Options, makeService
from twisted_names.client import exchangeNames
from twisted_names.errors import NoAnswer
from twisted_names.logs.file import MAX_ROTATED_FILES
from twisted_names.logs.limit import RateLimitedObserver
from twisted_names.logs.observers import BatchedFileLogObserver, TerminalLogObserver
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.server import ServerSettings


def parsed(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


class PluginTests(SynchronousTestCase):
    def test_twistdFindsThePlugin(self) -> None:
        """The plugin is installed where twistd looks, named names-server."""
        makers: dict[str, Any] = {m.tapname: m for m in getPlugins(IServiceMaker)}
        self.assertIn("names-server", makers)
        self.assertEqual(makers["names-server"].module, "twisted_names.app.tap")

    def test_pluginCacheWritten(self) -> None:
        """
        Discovery leaves a dropin.cache that knows the plugin, so twistd does
        not import every plugin module again at each start.
        """
        import os
        import pickle

        import twisted.plugins

        list(getPlugins(IServiceMaker))
        folders = [
            folder
            for folder in twisted.plugins.__path__
            if os.path.exists(os.path.join(folder, "names_server.py"))
        ]
        self.assertEqual(len(folders), 1, twisted.plugins.__path__)
        with open(os.path.join(folders[0], "dropin.cache"), "rb") as f:
            cache = pickle.load(f)
        self.assertIn("names_server", cache)

    def test_twistedsOwnDnsPluginKept(self) -> None:
        """Twisted's own twisted/plugins/twisted_names.py (its DNS server) is still there."""
        makers: dict[str, Any] = {m.tapname: m for m in getPlugins(IServiceMaker)}
        self.assertEqual(makers["dns"].module, "twisted.names.tap")


class OptionsTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        options = parsed()
        expected = {
            "port": 5000,
            "interface": "127.0.0.1",
            "endpoint": None,
            "name": None,
            "chat": False,
            "max-length": 1024,
            "quiet-period": 0.25,
            "name-timeout": 120.0,
            "reply-timeout": 300.0,
            "max-clients": 1000,
            "max-per-address": 0,
            "backlog": 1024,
            "description": "tcp:5000:interface=127.0.0.1:backlog=1024",
        }
        self.assertEqual({k: options[k] for k in expected}, expected)

    def test_all(self) -> None:
        options = parsed(
            "-p", "0", "-i", "::1", "--name", " Bob ", "--chat", "--max-length", "64",
            "--quiet-period", "0", "--name-timeout", "5", "--reply-timeout", "0",
            "--max-clients", "3", "--max-per-address", "2", "--backlog", "10",
        )  # fmt: skip
        self.assertEqual(options["description"], "tcp:0:interface=\\:\\:1:backlog=10")
        self.assertEqual(options["name"], "Bob")
        self.assertTrue(options["chat"])
        self.assertEqual(options["max-per-address"], 2)

    def test_endpointOverrides(self) -> None:
        options = parsed("--endpoint", "unix:/tmp/names.sock", "--port", "1")
        self.assertEqual(options["description"], "unix:/tmp/names.sock")

    def test_badValues(self) -> None:
        cases = {
            ("--port", "banana"): "--port: 'banana' is not a port number (0-65535)",
            ("--port=banana",): "--port: 'banana' is not a port number (0-65535)",
            ("-p", "x"): "-p: 'x' is not a port number (0-65535)",
            ("--port", "70000"): "--port: 70000 is not a port number",
            ("--max-length", "0"): "--max-length: '0' is not a whole number of at least 1",
            ("--reply-timeout", "-1"): "--reply-timeout: '-1' is not a number of seconds",
            ("--reply-timeout", "nan"): "--reply-timeout: 'nan' is not a number of seconds",
            ("--name-timeout", "inf"): "--name-timeout: 'inf' is not a number of seconds",
            ("--name", ""): "--name: the name is empty",
            ("--name", "\x1b[2J"): "--name: the name holds control characters",
            ("--endpoint", "nonsense:1"): "bad endpoint 'nonsense:1'",
            ("--endpoint", "ssl:0:privateKey=/nonexistent.pem"): "bad endpoint",
            ("--bogus",): "option --bogus not recognized",
        }
        for args, message in cases.items():
            e = self.assertRaises(usage.UsageError, parsed, *args)
            self.assertIn(message, str(e), args)

    def underTwistd(self, *args: str, twistdArgs: tuple[str, ...] = ("-n",)) -> list[str]:
        """Parse C{args} as twistd would after C{twistdArgs}; the error lines."""
        ServerOptions = twistdScript.ServerOptions  # type: ignore[attr-defined]

        twistd = ServerOptions()
        twistd.parseOptions([*twistdArgs, *PIDFILE])  # No subcommand: just twistd's own.
        options = Options()
        options.parent = twistd
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        e = self.assertRaises(SystemExit, options.parseOptions, list(args))
        self.assertEqual(e.code, 2)
        return stderr.getvalue().splitlines()

    def test_twistdOptionAfterNamesServer(self) -> None:
        """twistd's own options given after names-server: a hint to move them."""
        for option in ("-n", "--logfile=x.log", *(["--pidfile"] if PIDFILE else []), "-l"):
            first = self.underTwistd(option, "--name", "Bob")[0]
            self.assertIn("is twistd's own option: put it before names-server", first)
        first = self.underTwistd("--bogus")[0]
        self.assertEqual(first, "twistd names-server: error: option --bogus not recognized")

    def test_windowsTwistdIsNoDaemon(self) -> None:
        """
        Found by the Windows stage (issue 14): Windows' twistd never
        daemonizes, yet C{twistd names-server} without C{-n} was refused
        there as a daemon without --name.
        """
        self.patch(serveroptions, "DAEMONIZES", False)
        options = Options()
        options.parent = {"nodaemon": 0}  # type: ignore[assignment]
        options.parseOptions(["--port", "0", "--trace"])
        self.assertIsNone(options["name"])

    @skipIf(WINDOWS_NO_DAEMON is not None, WINDOWS_NO_DAEMON or "")
    def test_daemonNeedsName(self) -> None:
        """As a daemon (no -n) without --name there is nobody to type: refused, clearly."""
        first = self.underTwistd(twistdArgs=())[0]
        self.assertIn("runs in the foreground: 'twistd -n names-server'", first)
        options = Options()
        ServerOptions = twistdScript.ServerOptions  # type: ignore[attr-defined]

        options.parent = ServerOptions()
        options.parent.parseOptions(PIDFILE)
        options.parseOptions(["--name", "Bob"])  # A daemon with --name is fine.

    @skipIf(WINDOWS_NO_DAEMON is not None, WINDOWS_NO_DAEMON or "")
    def test_daemonTraceRefused(self) -> None:
        """
        A daemon has no terminal for --trace: refused, pointing to -n and to
        --trace-file (which a daemon may use), not silently thrown away.
        """
        first = self.underTwistd("--name", "Bob", "--trace", twistdArgs=())[0]
        self.assertIn("--trace shows each connection at this terminal", first)
        self.assertIn("--trace-file", first)
        ServerOptions = twistdScript.ServerOptions  # type: ignore[attr-defined]
        options = Options()
        options.parent = ServerOptions()
        options.parent.parseOptions(PIDFILE)
        options.parseOptions(["--name", "Bob", "--trace-file", self.mktemp()])
        options = Options()
        options.parent = ServerOptions()
        options.parent.parseOptions([*PIDFILE, "-n"])
        options.parseOptions(["--name", "Bob", "--trace"])  # In the foreground: fine.

    def test_underTwistdOneLineAndExit2(self) -> None:
        """Under twistd, a bad option is one line on stderr and exit status 2."""
        options = Options()
        options.parent = usage.Options()
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        e = self.assertRaises(SystemExit, options.parseOptions, ["--port", "banana"])
        self.assertEqual(e.code, 2)
        self.assertEqual(
            stderr.getvalue().splitlines(),
            [
                "twistd names-server: error: --port: 'banana' is not a port number (0-65535)",
                "Run 'twistd names-server --help' for the options.",
            ],
        )


def child(server: NamesServerService, name: str) -> Any:
    """The child service named C{name}."""
    return server.getServiceNamed(name)


class MakeServiceTests(SynchronousTestCase):
    def test_operatorMode(self) -> None:
        server = makeService(parsed("--chat", "--max-length", "10"), reactor)
        self.assertEqual([s.name for s in server], ["terminal", "listening", "operator"])
        listening, operator = child(server, "listening"), child(server, "operator")
        self.assertIsInstance(operator.queue, ReplyQueue)
        self.assertIs(listening.factory.replies, operator.queue)
        self.assertIs(operator.factory, listening.factory)
        self.assertTrue(listening.factory.settings.chat)
        self.assertEqual(listening.factory.settings.maxLength, 10)
        self.assertTrue(child(server, "terminal").readInput)
        self.assertIsNone(server.logObserver)

    def test_fixedName(self) -> None:
        """With --name and no twistd: no operator, no terminal."""
        server = makeService(parsed("--name", "Bob"), reactor)
        self.assertEqual([s.name for s in server], ["listening"])
        self.assertIsInstance(child(server, "listening").factory.replies, FixedReply)

    def test_optionsToSettings(self) -> None:
        server = makeService(
            parsed(
                "--max-length", "64", "--quiet-period", "0", "--name-timeout", "5",
                "--reply-timeout", "7", "--max-clients", "3", "--max-per-address", "2",
            ),
            reactor,
        )  # fmt: skip
        settings = child(server, "listening").factory.settings
        self.assertEqual(
            settings,
            ServerSettings(
                maxLength=64,
                quietPeriod=0,
                nameTimeout=5,
                maxClients=3,
                maxPerAddress=2,
                replyTimeout=7,
            ),
        )

    def twistdOptions(self, **values: object) -> Options:
        options = parsed()
        twistd: dict[str, object] = {"nodaemon": True, "logfile": None, "syslog": False}
        twistd.update(values)
        options.parent = twistd  # type: ignore[assignment]
        return options

    def test_logsToTerminalUnderTwistdN(self) -> None:
        """
        Under C{twistd -n} with no log destination, log lines go through the
        console's terminal, as the application's log observer; the process
        is ours (signals).
        """
        server = makeService(self.twistdOptions(), reactor)
        assert isinstance(server.logObserver, RateLimitedObserver)
        self.assertIsInstance(server.logObserver.observer, TerminalLogObserver)
        self.assertIs(child(server, "terminal").logObserver, server.logObserver.observer)
        self.assertEqual(
            [s.name for s in server], ["process", "terminal", "listening", "operator"]
        )
        application = Application("names-server")
        server.setServiceParent(application)
        self.assertIs(application.getComponent(ILogObserver), server.logObserver)

    def test_fixedNameLogsThroughATerminalToo(self) -> None:
        """
        With --name under twistd -n, log lines also go through a terminal, so a
        stdout nobody reads (| less, paused) cannot block the server; stdin is
        not read.
        """
        options = self.twistdOptions()
        options["name"] = "Bob"
        server = makeService(options, reactor)
        self.assertEqual([s.name for s in server], ["process", "terminal", "listening"])
        self.assertFalse(child(server, "terminal").readInput)
        assert isinstance(server.logObserver, RateLimitedObserver)
        self.assertIsInstance(server.logObserver.observer, TerminalLogObserver)

    def test_logFileGetsTheBatchedObserver(self) -> None:
        """--logfile (or a daemon's twistd.log) is written by the batched observer."""
        import os

        path = self.mktemp()
        for values, expected in (
            ({"logfile": path}, os.path.abspath(path)),
            ({"nodaemon": False}, os.path.abspath("twistd.log")),
        ):
            server = makeService(self.twistdOptions(**values), reactor)
            assert isinstance(server.logObserver, RateLimitedObserver), values
            observer = server.logObserver.observer
            assert isinstance(observer, BatchedFileLogObserver), values
            self.assertEqual(observer.logFile.path, expected)
            self.assertEqual(observer.logFile.maxRotatedFiles, MAX_ROTATED_FILES)
            observer.logFile.close()
            process = child(server, "process")
            self.assertEqual(process.rotateLog, observer.rotate)
            self.assertEqual(process.maxClients, 1000)

    def test_logsWhereTwistdWasTold(self) -> None:
        for values in (
            {"syslog": True},
            {"logger": object()},
            {"nodaemon": False, "logfile": "-"},
        ):
            server = makeService(self.twistdOptions(**values), reactor)
            self.assertIsNone(server.logObserver, values)


class DefaultsTests(SynchronousTestCase):
    def test_optionDefaultsAreTheSettings(self) -> None:
        """The options' defaults are those of the objects that use them."""
        options, settings, address = parsed(), ServerSettings(), ListeningAddress()
        self.assertEqual(
            (
                options["max-length"], options["quiet-period"], options["name-timeout"],
                options["reply-timeout"], options["max-clients"], options["max-per-address"],
                options["chat"], options["port"], options["interface"], options["backlog"],
                options["description"],
            ),
            (
                settings.maxLength, settings.quietPeriod, settings.nameTimeout,
                settings.replyTimeout, settings.maxClients, settings.maxPerAddress,
                settings.chat, address.port, address.interface, address.backlog,
                address.description(),
            ),
        )  # fmt: skip


class SignalTests(SynchronousTestCase):
    def test_secondSignalWhileStopping(self) -> None:
        """Ctrl-C twice: one stop, no ReactorNotRunning traceback."""

        class Reactor:
            running = True
            stops = 0

            def stop(self) -> None:
                self.stops += 1

        fake = Reactor()
        process = ProcessService(fake)
        process.stopFor("SIGINT")
        process.stopFor("SIGTERM")
        self.assertEqual(fake.stops, 1)


class ServiceTests(TestCase):
    """The service, listening on 127.0.0.1 port 0, with pipes for the terminal."""

    def startService(self, *args: str) -> tuple[NamesServerService, Pipe, Pipe, int]:
        stdin, stdout = Pipe(self), Pipe(self)
        server = makeService(parsed("--port", "0", *args), reactor)
        child(server, "terminal").stdioFds = (stdin.readFd, stdout.writeFd)
        server.privilegedStartService()
        server.startService()
        self.addCleanup(lambda: server.running and server.stopService())
        port = child(server, "listening").port
        assert port is not None
        return server, stdin, stdout, port.getHost().port

    async def test_exchangeThroughTheTerminal(self) -> None:
        _service, stdin, stdout, port = self.startService()
        await stdout.readUntil(b"names-server: listening on 127.0.0.1:%d." % port)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        answer = exchangeNames(endpoint, "Ana", reactor, timeout=10)
        await stdout.readUntil(b"is asking for your name.")
        stdin.write(b"Server\n")
        self.assertEqual(await answer, "Server")
        await stdout.readUntil(b'Sent "Server" to "Ana"')

    async def test_stopClosesWaitingClients(self) -> None:
        server, _stdin, stdout, port = self.startService()
        queue = child(server, "operator").queue
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        answers = [exchangeNames(endpoint, n, reactor, timeout=10) for n in ("Ana", "Bea")]
        await until(lambda: len(queue) == 2)
        stopped = server.stopService()
        for answer in answers:
            with self.assertRaises(NoAnswer):
                await answer
        await stopped
        output = await stdout.readUntil(b"names-server: stopped.\n")
        self.assertIn(b"Stopping: closed 2 connections.\n", output)
        self.assertTrue(output.endswith(b"names-server: stopped.\n"), output)
        self.assertIsNone(child(server, "listening").port)

    async def test_stdinEndClosesWaiting(self) -> None:
        server, stdin, stdout, port = self.startService()
        queue = child(server, "operator").queue
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        answer = exchangeNames(endpoint, "Ana", reactor, timeout=10)
        await until(lambda: len(queue) == 1)
        stdin.closeWriteEnd()
        with self.assertRaises(NoAnswer):
            await answer
        await stdout.readUntil(b"Input closed: no more replies. Closed 1 waiting client.")

    def test_cannotListen(self) -> None:
        """A port in use: one line on stderr, and a SystemExit with status 1."""
        port = heldListener(self).getsockname()[1]
        server = makeService(parsed("--port", str(port), "--name", "x"), reactor)
        listening = child(server, "listening")
        stderr = listening.stderr = io.StringIO()
        e = self.assertRaises(CannotListen, server.privilegedStartService)
        self.assertEqual(e.code, 1)
        self.assertEqual(
            stderr.getvalue(),
            f"names-server: cannot listen on 127.0.0.1:{port}: the port is in use: another"
            " server listens there, or a previous one's connections are still closing (wait a"
            " minute, or choose another port with --port)\n",
        )
