"""Tests for L{twisted_names.tap}: the twistd plugin, its options and its service."""

from __future__ import annotations

import io
import socket
import sys
from typing import Any

from twisted.application.service import Application, IServiceMaker
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.logger import ILogObserver
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.pipes import Pipe, reactor, until
from twisted_names.client import exchangeNames
from twisted_names.errors import NoAnswer
from twisted_names.logs import BatchedFileLogObserver, TerminalLogObserver
from twisted_names.replies import FixedReply, ReplyQueue
from twisted_names.tap import CannotListen, NamesServerService, Options, makeService


def parsed(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


class PluginTests(SynchronousTestCase):
    def test_twistdFindsThePlugin(self) -> None:
        """The plugin is installed where twistd looks, named names-server."""
        makers: dict[str, Any] = {m.tapname: m for m in getPlugins(IServiceMaker)}
        self.assertIn("names-server", makers)
        self.assertEqual(makers["names-server"].module, "twisted_names.tap")

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
            "name-timeout": 30.0,
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


class MakeServiceTests(SynchronousTestCase):
    def test_operatorMode(self) -> None:
        service = makeService(parsed("--chat", "--max-length", "10"), reactor)
        self.assertIsInstance(service.queue, ReplyQueue)
        self.assertIs(service.factory.replies, service.queue)
        self.assertTrue(service.factory.settings.chat)
        self.assertEqual(service.factory.settings.maxLength, 10)
        self.assertIsNone(service.logObserver)
        self.assertFalse(service.ownsProcess)

    def test_fixedName(self) -> None:
        service = makeService(parsed("--name", "Bob"), reactor)
        self.assertIsNone(service.queue)
        self.assertIsInstance(service.factory.replies, FixedReply)

    def twistdOptions(self, **values: object) -> Options:
        options = parsed()
        twistd: dict[str, object] = {"nodaemon": True, "logfile": None, "syslog": False}
        twistd.update(values)
        options.parent = twistd  # type: ignore[assignment]
        return options

    def test_logsToTerminalUnderTwistdN(self) -> None:
        """
        Under C{twistd -n} with no log destination, log lines go through the
        console's terminal, as the application's log observer.
        """
        service = makeService(self.twistdOptions(), reactor)
        self.assertIsNotNone(service.logObserver)
        self.assertTrue(service.ownsProcess)
        application = Application("names-server")
        service.setServiceParent(application)
        self.assertIs(application.getComponent(ILogObserver), service.logObserver)

    def test_fixedNameLogsThroughATerminalToo(self) -> None:
        """
        With --name under twistd -n, log lines also go through a terminal, so a
        stdout nobody reads (| less, paused) cannot block the server.
        """
        options = self.twistdOptions()
        options["name"] = "Bob"
        service = makeService(options, reactor)
        self.assertIsNone(service.queue)
        self.assertIsInstance(service.logObserver, TerminalLogObserver)

    def test_logFileGetsTheBatchedObserver(self) -> None:
        """--logfile (or a daemon's twistd.log) is written by the batched observer."""
        import os
        import signal

        self.addCleanup(signal.signal, signal.SIGUSR1, signal.getsignal(signal.SIGUSR1))
        path = self.mktemp()
        for values, expected in (
            ({"logfile": path}, os.path.abspath(path)),
            ({"nodaemon": False}, os.path.abspath("twistd.log")),
        ):
            service = makeService(self.twistdOptions(**values), reactor)
            assert isinstance(service.logObserver, BatchedFileLogObserver), values
            self.assertEqual(service.logObserver.logFile.path, expected)
            service.logObserver.logFile.close()

    def test_logsWhereTwistdWasTold(self) -> None:
        for values in ({"syslog": True}, {"logger": object()}):
            service = makeService(self.twistdOptions(**values), reactor)
            self.assertIsNone(service.logObserver, values)


class SignalTests(SynchronousTestCase):
    def test_secondSignalWhileStopping(self) -> None:
        """Ctrl-C twice: one stop, no ReactorNotRunning traceback."""

        class Reactor:
            running = True
            stops = 0

            def stop(self) -> None:
                self.stops += 1

        fake = Reactor()
        service = makeService(parsed("--name", "x"), fake)
        service._stopFor("SIGINT")
        service._stopFor("SIGTERM")
        self.assertEqual(fake.stops, 1)


class ServiceTests(TestCase):
    """The service, listening on 127.0.0.1 port 0, with pipes for the terminal."""

    def startService(self, *args: str) -> tuple[NamesServerService, Pipe, Pipe, int]:
        stdin, stdout = Pipe(self), Pipe(self)
        service = makeService(parsed("--port", "0", *args), reactor)
        service.stdioFds = (stdin.readFd, stdout.writeFd)
        service.privilegedStartService()
        service.startService()
        self.addCleanup(lambda: service.running and service.stopService())
        assert service.port is not None
        return service, stdin, stdout, service.port.getHost().port  # type: ignore[attr-defined]

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
        service, _stdin, stdout, port = self.startService()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        answers = [exchangeNames(endpoint, n, reactor, timeout=10) for n in ("Ana", "Bea")]
        await until(lambda: service.queue is not None and len(service.queue) == 2)
        stopped = service.stopService()
        assert isinstance(stopped, Deferred)
        for answer in answers:
            with self.assertRaises(NoAnswer):
                await answer
        await stopped
        self.assertIn(b"names-server: stopped.", stdout.drain())
        self.assertIsNone(service.port)

    async def test_stdinEndClosesWaiting(self) -> None:
        service, stdin, stdout, port = self.startService()
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        answer = exchangeNames(endpoint, "Ana", reactor, timeout=10)
        await until(lambda: service.queue is not None and len(service.queue) == 1)
        stdin.closeWriteEnd()
        with self.assertRaises(NoAnswer):
            await answer
        await stdout.readUntil(b"Input closed: no more replies. Closed 1 waiting client.")

    def test_cannotListen(self) -> None:
        """A port in use: one line on stderr, and a SystemExit with status 1."""
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        service = makeService(parsed("--port", str(port), "--name", "x"), reactor)
        stderr = service.stderr = io.StringIO()
        e = self.assertRaises(CannotListen, service.privilegedStartService)
        self.assertEqual(e.code, 1)
        self.assertEqual(
            stderr.getvalue(),
            f"names-server: cannot listen on tcp:{port}:interface=127.0.0.1:backlog=1024:"
            " Address already in use\n",
        )
