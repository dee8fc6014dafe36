"""
Issue 16, item 2: one address's silent connections cannot keep the others
out.

When C{--max-clients} are connected, a client from another address closes
the longest-silent connection (no name sent yet) of the address holding the
most silent connections, as long as that address would still hold more than
the newcomer's; otherwise it is refused as before.  Nothing changes while the
server is not full.
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from tests.processes import (
    STOPPED,
    ProgramTestCase,
    connectRaw,
    connectRawTo,
    connectRefused,
    startServer,
)
from tests.test_server import Client
from twisted_names.replies import ReplyQueue
from twisted_names.server import (
    NOTICE_WINDOW,
    NameServerFactory,
    NameServerProtocol,
    Refused,
    ServerSettings,
)

FLOOD = "10.0.0.1"
OTHER = "10.0.0.2"


class EvictionTests(TestCase):
    """In memory: who is closed for whom, and what is said."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.queue = ReplyQueue(self.clock, 300)
        self.events = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def factory(self, **settings: object) -> NameServerFactory:
        return NameServerFactory(self.queue, self.clock, ServerSettings(**settings))  # type: ignore[arg-type]

    def warnings(self) -> list[str]:
        return [formatEvent(e) for e in self.events if e["log_level"] is LogLevel.warn]

    def test_otherAddressGetsIn(self) -> None:
        """
        One address fills the server with silent connections: a client from
        another address closes the longest-silent of them (a FIN) and is
        answered.
        """
        factory = self.factory(maxClients=3)
        flood = [Client(factory, port=i + 1, host=FLOOD) for i in range(3)]
        other = Client(factory, port=7, host=OTHER)
        self.assertTrue(flood[0].transport.disconnecting)
        self.assertFalse(flood[0].transport.disconnected)  # Not an abort.
        self.assertFalse(any(c.transport.disconnecting for c in flood[1:]))
        other.send(b"Zoe\n")
        self.queue.answer("Bob")
        self.assertEqual(other.received, b"Bob\n")
        self.assertEqual(
            self.warnings(),
            [
                "10.0.0.1:1 had sent no name and the server is full (--max-clients 3);"
                " closing it to let in 10.0.0.2:7"
            ],
        )

    def test_floodsOwnNewcomersAreRefused(self) -> None:
        """A new connection from the address holding the most evicts nobody."""
        factory = self.factory(maxClients=3)
        flood = [Client(factory, port=i + 1, host=FLOOD) for i in range(3)]
        refused = factory.buildProtocol(IPv4Address("TCP", FLOOD, 9))
        self.assertIsInstance(refused, Refused)
        self.assertFalse(any(c.transport.disconnecting for c in flood))

    def test_namedConnectionsAreNeverClosed(self) -> None:
        """Clients that sent their name keep their place: the newcomer is refused."""
        factory = self.factory(maxClients=2)
        waiting = [Client(factory, port=i + 1, host=FLOOD) for i in range(2)]
        for client in waiting:
            client.send(b"Ana\n")
        refused = factory.buildProtocol(IPv4Address("TCP", OTHER, 9))
        self.assertIsInstance(refused, Refused)
        self.assertFalse(any(c.transport.disconnecting for c in waiting))

    def test_fairShare(self) -> None:
        """
        Two addresses holding as many silent connections each: a newcomer
        from either is refused (closing one of the other's would leave it
        fewer than the newcomer's address).
        """
        factory = self.factory(maxClients=4)
        a = [Client(factory, port=i + 1, host=FLOOD) for i in range(2)]
        b = [Client(factory, port=i + 1, host=OTHER) for i in range(2)]
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", OTHER, 9)), Refused)
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", FLOOD, 9)), Refused)
        self.assertFalse(any(c.transport.disconnecting for c in a + b))

    def test_classBehindOneAddressAgainstAFlood(self) -> None:
        """
        A class of students behind one NAT address, typing slowly, against
        a flood from another address: every student gets in, each closing
        one of the flood's connections, the oldest first.
        """
        factory = self.factory(maxClients=10)
        flood = [Client(factory, port=i + 1, host=FLOOD) for i in range(10)]
        students = [Client(factory, port=100 + i, host=OTHER) for i in range(4)]
        self.assertTrue(all(isinstance(s.protocol, NameServerProtocol) for s in students))
        self.assertEqual([c.transport.disconnecting for c in flood], [True] * 4 + [False] * 6)

    def test_notWhenDisabled(self) -> None:
        """C{--no-evict}: a newcomer over the limit is refused, as before."""
        factory = self.factory(maxClients=2, evictSilent=False)
        flood = [Client(factory, port=i + 1, host=FLOOD) for i in range(2)]
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", OTHER, 9)), Refused)
        self.assertFalse(any(c.transport.disconnecting for c in flood))

    def test_perAddressLimitFirst(self) -> None:
        """A newcomer refused by C{--max-per-address} closes nobody."""
        factory = self.factory(maxClients=3, maxPerAddress=1)
        Client(factory, port=1, host=OTHER)
        flood = [Client(factory, port=i + 1, host=h) for i, h in enumerate(["a", "b"])]
        self.assertIsInstance(factory.buildProtocol(IPv4Address("TCP", OTHER, 9)), Refused)
        self.assertFalse(any(c.transport.disconnecting for c in flood))

    def test_operatorToldOnce(self) -> None:
        """A stream of newcomers closing flood connections: two warnings."""
        factory = self.factory(maxClients=20)
        for i in range(20):
            Client(factory, port=i + 1, host=FLOOD)
        for i in range(8):
            Client(factory, port=100 + i, host=OTHER)
        self.clock.advance(NOTICE_WINDOW)
        self.assertEqual(
            self.warnings(),
            [
                "10.0.0.1:1 had sent no name and the server is full (--max-clients 20);"
                " closing it to let in 10.0.0.2:100",
                "the server is full (--max-clients 20): more connections that had sent no"
                " name were closed to let in clients from other addresses: 7",
            ],
        )

    def test_leftConnectionsAreForgotten(self) -> None:
        """A silent connection that left is not chosen again."""
        factory = self.factory(maxClients=2)
        flood = [Client(factory, port=i + 1, host=FLOOD) for i in range(2)]
        flood[0].finishClosing()
        flood.append(Client(factory, port=3, host=FLOOD))
        Client(factory, port=7, host=OTHER)
        self.assertTrue(flood[1].transport.disconnecting)
        self.assertFalse(flood[2].transport.disconnecting)


class AnotherAddressTests(ProgramTestCase):
    """A real server on loopback: 127.0.0.2 is "another address"."""

    async def test_clientFromAnotherAddressIsAnswered(self) -> None:
        """
        127.0.0.1 holds all of C{--max-clients} with silent connections and
        its next is refused; a client from 127.0.0.2 is answered, and one of
        the silent connections is closed for it.
        """
        server, port = await startServer(self, "--max-clients", "20", "--name", "Bob")
        silent = [await connectRaw(self, port) for _ in range(20)]
        await connectRefused(self, port)  # The server has taken all 20.
        other = await connectRawTo(
            self,
            TCP4ClientEndpoint(reactor, "127.0.0.1", port, bindAddress=("127.0.0.2", 0)),
            "from 127.0.0.2",
        )
        other.send(b"Zoe\n")
        self.assertEqual(await other.whenClosed(), b"Bob\n")
        self.assertEqual(await silent[0].whenClosed(), b"")
        self.assertFalse(any(peer.isClosed for peer in silent[1:]))
        await server.waitFor(r"closing it to let in 127\.0\.0\.2:\d+")
        server.signal("TERM")
        self.assertEqual(await server.ended, STOPPED)
        self.assertNoTraceback(server)
