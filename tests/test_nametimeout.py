"""
Issue 16, item 6: the name timeout ends a connection with a FIN, not a
reset, within a bound, and the operator is told once.

The course's C{cliente.py} connects first and then asks its user for the
name: a slow typist's C{recv} must return C{b""}, not raise
C{ConnectionResetError}.
"""

from __future__ import annotations

import sys

from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from tests.processes import STOPPED, ProgramTestCase, spawn, startServer
from tests.test_server import Client
from twisted_names.replies import ReplyQueue
from twisted_names.server import (
    CLOSING_TIMEOUT,
    NOTICE_WINDOW,
    NameServerFactory,
    ServerSettings,
)


class NameTimeoutTests(TestCase):
    """In memory: how a silent client is closed, and what is logged."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)
        self.factory = NameServerFactory(
            ReplyQueue(self.clock, 300), self.clock, ServerSettings(nameTimeout=30)
        )

    def warnings(self) -> list[str]:
        return [formatEvent(e) for e in self.events if e["log_level"] is LogLevel.warn]

    def test_finNotReset(self) -> None:
        """At the name timeout the connection is closed (a FIN), not aborted."""
        client = Client(self.factory)
        self.clock.advance(30)
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(client.transport.disconnected)  # abortConnection sets it.

    def test_abortedIfStillOpenAfterTheBound(self) -> None:
        """A peer that does not let go is dropped after L{CLOSING_TIMEOUT}."""
        client = Client(self.factory)
        self.clock.advance(30)
        self.clock.advance(CLOSING_TIMEOUT - 0.1)
        self.assertFalse(client.transport.disconnected)
        self.clock.advance(0.1)
        self.assertTrue(client.transport.disconnected)
        self.assertIn(
            f"took nothing of what was queued within {CLOSING_TIMEOUT:g} s of being closed",
            formatEvent(self.events[-1]),
        )

    def test_noTimerLeftOnceGone(self) -> None:
        """Once the connection is gone, the bound's timer is cancelled."""
        client = Client(self.factory)
        self.clock.advance(30)
        client.finishClosing(Failure(ConnectionDone()))
        self.clock.advance(NOTICE_WINDOW)  # The operator's notice window ends too.
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertFalse(client.transport.disconnected)

    def test_operatorToldOnce(self) -> None:
        """
        Many silent clients timing out together: one warning at once (the
        console shows warnings), one more saying how many followed; the log
        keeps a line for each.
        """
        clients = [Client(self.factory, port=50000 + i) for i in range(5)]
        self.clock.advance(30)
        self.assertTrue(all(c.transport.disconnecting for c in clients))
        self.assertEqual(self.warnings(), ["127.0.0.1:50000 sent no name within 30 s; closing"])
        self.clock.advance(NOTICE_WINDOW)
        self.assertEqual(
            self.warnings(),
            [
                "127.0.0.1:50000 sent no name within 30 s; closing",
                "more clients that sent no name within 30 s were closed: 4",
            ],
        )
        closings = [formatEvent(e) for e in self.events if "; closing" in formatEvent(e)]
        self.assertEqual(len(closings), 5)

    def test_toldAgainForALaterOne(self) -> None:
        """After the window, the next silent client is told at once again."""
        Client(self.factory, port=1)
        self.clock.advance(30 + NOTICE_WINDOW)
        Client(self.factory, port=2)
        self.clock.advance(30)
        self.assertEqual(
            self.warnings(),
            [
                "127.0.0.1:1 sent no name within 30 s; closing",
                "127.0.0.1:2 sent no name within 30 s; closing",
            ],
        )

    def test_stoppingSaysHowMany(self) -> None:
        """The server stopping within the window says the count at once."""
        for i in range(3):
            Client(self.factory, port=i + 1)
        self.clock.advance(30)
        self.factory.stopFactory()
        self.assertEqual(
            self.warnings()[-1], "more clients that sent no name within 30 s were closed: 2"
        )


#: The course's client as far as a slow typist gets: connected, no name
#: typed yet, waiting in C{recv}.  Prints what C{recv} returned, or the error.
SLOW_TYPIST = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    print(repr(s.recv(1024)))
except OSError as e:
    print(type(e).__name__)
"""


class SlowTypistTests(ProgramTestCase):
    """A real server, and a blocking-socket client in a real process."""

    async def test_recvReturnsEndOfStream(self) -> None:
        """
        After C{--name-timeout} the blocking client's C{recv} returns
        C{b""} (a FIN), not C{ConnectionResetError}; the operator reads one
        plain line.
        """
        server, port = await startServer(self, "--name-timeout", "0.5")
        client = spawn(self, "cliente.py", [sys.executable, "-c", SLOW_TYPIST, str(port)])
        self.assertExited(client, await client.ended, 0)
        self.assertEqual(client.out, "b''\n", client.describe())
        await server.waitFor(r"127\.0\.0\.1:\d+ sent no name within 0\.5 s; closing")
        self.assertEqual(server.out.count("sent no name"), 1, server.describe())
        server.signal("TERM")
        self.assertEqual(await server.ended, STOPPED)
        self.assertNoTraceback(server)
