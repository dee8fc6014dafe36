"""
Tests for L{twisted_names.app.services}: listening through Twisted's endpoint
service, at once or later, and stopping one service after another.
"""

from __future__ import annotations

import errno
import io
import os
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.testing import EventLoggingObserver, MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from tests.pipes import Pipe, reactor, until
from twisted_names.app.process import FD_MARGIN, TOO_FEW_FILES, fileLimitFor
from twisted_names.app.services import (
    CannotListen,
    ListeningService,
    NamesServerService,
    TerminalService,
)
from twisted_names.console.terminal import Terminal, usableFd
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory


@implementer(IStreamServerEndpoint)
class LaterEndpoint:
    """An endpoint that listens when the test says so (as an onion service would)."""

    def __init__(self) -> None:
        self.listening: Deferred[Any] = Deferred()
        self.factory: object = None

    def listen(self, factory: object) -> Deferred[Any]:
        self.factory = factory
        return self.listening


class FakePort:
    def __init__(self) -> None:
        self.stopped = False

    def getHost(self) -> Any:
        from twisted.internet.address import IPv4Address

        return IPv4Address("TCP", "127.0.0.1", 4321)

    def stopListening(self) -> None:
        self.stopped = True


class ListeningServiceTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.factory = NameServerFactory(FixedReply("Bob"), self.reactor)
        self.endpoint = LaterEndpoint()
        self.failures: list[str] = []
        self.service = ListeningService(
            self.endpoint, "later:1", self.factory, lambda: self.failures.append("failed")
        )
        self.stderr = self.service.stderr = io.StringIO()
        self.events = EventLoggingObserver()
        globalLogPublisher.addObserver(self.events)
        self.addCleanup(globalLogPublisher.removeObserver, self.events)

    def test_listensLater(self) -> None:
        """
        An endpoint that listens asynchronously is accepted; the port is
        known, and said, once it listens.
        """
        self.service.privilegedStartService()
        self.service.startService()
        ports: list[object] = []
        self.service.whenListening().addCallback(ports.append)
        self.assertIsNone(self.service.port)
        port = FakePort()
        self.endpoint.listening.callback(port)
        self.assertEqual(ports, [port])
        self.assertIs(self.service.port, port)
        said = [e for e in self.events if e.get("log_format", "").startswith("names-server")]
        self.assertEqual(said[0]["address"], "127.0.0.1:4321")
        self.service.whenListening().addCallback(ports.append)
        self.assertEqual(ports, [port, port])
        self.successResultOf(self.service.stopService())
        self.assertTrue(port.stopped)

    def test_failsLater(self) -> None:
        """
        An endpoint failing to listen later: the one line on stderr, no
        traceback, and C{onFailure} (under twistd: stop with status 1).
        """
        self.service.privilegedStartService()
        self.service.startService()
        self.endpoint.listening.errback(
            CannotListenError("", 1, OSError(errno.EADDRINUSE, "Address already in use"))
        )
        self.assertEqual(
            self.stderr.getvalue(),
            "names-server: cannot listen on later:1: the port is in use: another server"
            " listens there, or a previous one's connections are still closing (wait a"
            " minute, or choose another port with --port)\n",
        )
        self.assertEqual(self.failures, ["failed"])
        self.assertFalse([e for e in self.events if "log_failure" in e], self.events)
        self.assertEqual(self.flushLoggedErrors(), [])
        self.successResultOf(self.service.stopService())

    def test_portInUseOnWindows(self) -> None:
        """
        Found by the Windows stage (issue 14): WinSock's number for "address
        in use" (10048, not C's C{EADDRINUSE}) got the system's words instead
        of the sentence that says what to do.
        """
        self.service.privilegedStartService()
        self.service.startService()
        self.endpoint.listening.errback(
            CannotListenError("", 1, OSError(10048, "Only one usage of each socket address"))
        )
        self.assertIn("the port is in use", self.stderr.getvalue())
        self.successResultOf(self.service.stopService())

    def test_failsAtOnce(self) -> None:
        """A failure known at once is L{CannotListen}, status 1, and the line."""
        self.endpoint.listening.errback(ValueError("no such thing"))
        e = self.assertRaises(CannotListen, self.service.privilegedStartService)
        self.assertEqual(e.code, 1)
        self.assertEqual(
            self.stderr.getvalue(), "names-server: cannot listen on later:1: no such thing\n"
        )
        self.assertEqual(self.failures, [])

    def test_stoppedBeforeListening(self) -> None:
        """Stopped while waiting to listen: nothing said, nothing failed."""
        self.service.privilegedStartService()
        self.service.startService()
        self.successResultOf(self.service.stopService())
        self.assertEqual((self.stderr.getvalue(), self.failures), ("", []))
        self.assertEqual(self.flushLoggedErrors(), [])


class Recording(Service):
    def __init__(self, label: str, log: list[str], stopped: Deferred[None] | None = None):
        self.label, self.log, self.stopped = label, log, stopped

    def stopService(self) -> Deferred[None] | None:
        super().stopService()
        self.log.append(f"stop {self.label}")
        if self.stopped is not None:
            self.stopped.addCallback(lambda _: self.log.append(f"stopped {self.label}"))
        return self.stopped


class Failing(Service):
    def stopService(self) -> None:
        raise RuntimeError("broken")


class NamesServerServiceTests(SynchronousTestCase):
    def test_stopsOneAfterAnother(self) -> None:
        """
        Children stop in reverse order, each once the one before stopped; one
        that fails to stop is logged and the others still stop.
        """
        order: list[str] = []
        later: Deferred[None] = Deferred()
        server = NamesServerService()
        server.add("first", Recording("first", order))
        server.add("broken", Failing())
        server.add("second", Recording("second", order, later))
        server.add("third", Recording("third", order))
        server.startService()
        stopped = server.stopService()
        self.assertEqual(order, ["stop third", "stop second"])
        self.assertNoResult(stopped)
        later.callback(None)
        self.assertEqual(order, ["stop third", "stop second", "stopped second", "stop first"])
        self.successResultOf(stopped)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertFalse(server.running)


class TerminalServiceTests(TestCase):
    """The terminal service on pipes, with the real reactor."""

    def service(self, readInput: bool, fds: tuple[int | None, int | None]) -> TerminalService:
        self.lines: list[str] = []
        self.ends = 0

        def ended() -> None:
            self.ends += 1

        service = TerminalService(Terminal(self.lines.append, ended), reactor, readInput)
        service.stdioFds = fds
        service.startService()
        self.addCleanup(lambda: service.running and service.stopService())
        return service

    async def test_devNullClosedAtStop(self) -> None:
        """
        With --name, stdin is C{/dev/null}, opened for the terminal and
        closed with it: no descriptor is left behind.
        """
        stdin, stdout = Pipe(self), Pipe(self)
        service = self.service(False, (stdin.readFd, stdout.writeFd))
        opened = list(service._opened)
        self.assertEqual(len(opened), 1)
        self.assertTrue(os.path.samestat(os.fstat(opened[0]), os.stat(os.devnull)))
        await until(lambda: self.ends == 1)
        await service.stopService()
        for fd in opened:
            self.assertFalse(usableFd(fd))
        self.assertTrue(usableFd(stdin.readFd))
        self.assertTrue(usableFd(stdout.writeFd))
        await stdout.readUntil(b"names-server: stopped.\n")

    async def test_closedStreamsAreDevNull(self) -> None:
        """
        Started without stdin and stdout: the terminal reads an ended input
        and writes to C{/dev/null}, both closed at stop.
        """
        service = self.service(True, (None, None))
        opened = list(service._opened)
        self.assertEqual(len(opened), 2)
        await until(lambda: self.ends == 1)
        service.terminal.show("into /dev/null")
        await service.stopService()
        self.assertEqual(self.lines, [])
        for fd in opened:
            self.assertFalse(usableFd(fd))


class FileLimitTests(SynchronousTestCase):
    """L{fileLimitFor}: --max-clients against C{ulimit -n}."""

    INFINITY = -1

    def test_enough(self) -> None:
        self.assertEqual(fileLimitFor(1000, 4096, 4096, self.INFINITY), (None, None))
        self.assertEqual(
            fileLimitFor(1000, self.INFINITY, self.INFINITY, self.INFINITY), (None, None)
        )

    def test_raisedAsFarAsNeeded(self) -> None:
        """The usual 1024 for the default 1000 clients: raised, no warning."""
        self.assertEqual(fileLimitFor(1000, 1024, 524288, self.INFINITY), (1000 + FD_MARGIN, None))
        self.assertEqual(
            fileLimitFor(1000, 1024, self.INFINITY, self.INFINITY), (1000 + FD_MARGIN, None)
        )

    def test_hardLimitTooLow(self) -> None:
        """Raised to the hard limit, and still too low: said."""
        raiseTo, tooFew = fileLimitFor(1000, 256, 512, self.INFINITY)
        self.assertEqual(raiseTo, 512)
        assert tooFew is not None
        self.assertEqual(
            TOO_FEW_FILES.format(**tooFew),
            f"--max-clients 1000 needs about {1000 + FD_MARGIN} open files, but the limit is"
            f" 512 (ulimit -n): past about {512 - FD_MARGIN} clients the system, not"
            " --max-clients, will refuse connections",
        )

    def test_cannotRaise(self) -> None:
        raiseTo, tooFew = fileLimitFor(100, 64, 64, self.INFINITY)
        self.assertIsNone(raiseTo)
        assert tooFew is not None
        self.assertIn(
            "the limit is 64 (ulimit -n): past about 32 clients", TOO_FEW_FILES.format(**tooFew)
        )
