"""
names-proxy attacked (issue 16's review of what landed): what a hostile or
careless peer did to the relay that it must not, each as the test that
failed before the mend.  In memory, with the fakes of L{tests.test_proxy}.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from tests.test_proxy import RelayHarness
from twisted_names.proxy.relay import Phase, RelaySettings
from twisted_names.server import CLOSING_TIMEOUT


class IdleTimeoutBoundTests(SynchronousTestCase):
    """
    C{--idle-timeout} frees the slot even from a peer that reads nothing.

    Before: the idle timeout closed both legs gracefully; a client that
    never read kept its leg open forever (measured: a real names-proxy with
    C{--idle-timeout 2}, the server flooding, the client never reading: the
    client's connection still ESTABLISHED 8 s later, 2.7 MB queued), and
    with it a C{--max-clients} slot.
    """

    def test_nonReaderAborted(self) -> None:
        relay = RelayHarness(RelaySettings(idleTimeout=5))
        _client, clientLeg, server, _serverLeg = relay.relayed()
        server.dataReceived(b"x" * 100_000)  # Queued for a client that never reads.
        relay.clock.advance(5)
        self.assertTrue(clientLeg.disconnecting)
        self.assertFalse(clientLeg.aborted)  # A FIN first: its bytes may still go.
        # The server's leg closes; the client's cannot (nothing is read).
        server.connectionLost()
        relay.clock.advance(CLOSING_TIMEOUT)
        self.assertTrue(clientLeg.aborted)

    def test_slotFreed(self) -> None:
        """With the legs gone, the next client gets the one slot."""
        relay = RelayHarness(RelaySettings(maxClients=1, idleTimeout=5))
        client, _clientLeg, server, _serverLeg = relay.relayed()
        server.dataReceived(b"x" * 100_000)
        relay.clock.advance(5)
        server.connectionLost()
        relay.clock.advance(CLOSING_TIMEOUT)
        client.connectionLost()  # What the abort brings.
        self.assertIs(client.phase, Phase.DONE)
        self.assertEqual(relay.factory.relays, set())
        self.assertEqual(relay.clock.getDelayedCalls(), [])

    def test_closedInTimeNoAbort(self) -> None:
        """Legs that close in time are not reset, and nothing is left scheduled."""
        relay = RelayHarness(RelaySettings(idleTimeout=5))
        client, clientLeg, server, serverLeg = relay.relayed()
        relay.clock.advance(5)
        server.connectionLost()
        client.connectionLost()
        self.assertEqual(relay.clock.getDelayedCalls(), [])
        self.assertFalse(clientLeg.aborted or serverLeg.aborted)
