"""
The real client against a server that floods lines nobody asked for
(issue 16, item 11): with C{--chat --trace} it printed 31 MB of trace, went
on after the server stopped and did not act on Ctrl-D within a second.  Now
the flood is a protocol breach: the client stops reading, says so, exits 6,
and its trace stays small.  The server floods until the connection closes,
so the client's ending at all is what the test shows.
"""

from __future__ import annotations

from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from tests.processes import CLIENT, ProgramTestCase, reactor, spawn
from twisted_names.client import UNASKED_MAX

#: Most bytes of trace a flood may give (the bound is a few lines).
TRACE_MAX = 16 * 1024


@implementer(IPushProducer)
class Flood(Protocol):
    """Answers the first line, then writes lines nobody asked for, as fast as it may."""

    def __init__(self) -> None:
        self.paused = False
        self.gone = False
        self.sent = 0

    def connectionMade(self) -> None:
        self.transport.registerProducer(self, True)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        if not self.sent:
            self._write(b"Bob\n")
            self._flood()

    def _write(self, data: bytes) -> None:
        self.sent += len(data)
        self.transport.write(data)  # type: ignore[union-attr]

    def _flood(self) -> None:
        while not self.paused and not self.gone:
            self._write(b"spam\n" * 4096)

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        reactor.callLater(0, self._flood)

    def stopProducing(self) -> None:
        self.gone = True

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.gone = True


class FloodTests(ProgramTestCase):
    async def flooding(self) -> tuple[int, list[Flood]]:
        floods: list[Flood] = []

        def build() -> Flood:
            floods.append(Flood())
            return floods[-1]

        factory = Factory.forProtocol(build)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return port.getHost().port, floods

    async def test_chatTraceFloodEndsWithSix(self) -> None:
        """
        C{--chat --trace}, stdin open (the person types nothing): the client
        drops the connection after L{UNASKED_MAX} lines, exits 6 with one
        line, and its trace is a few lines, not megabytes.
        """
        port, floods = await self.flooding()
        client = spawn(self, "client", [*CLIENT, "--chat", "--trace", "-p", str(port), "-n", "hi"])
        status = await client.ended
        self.assertExited(client, status, 6)
        self.assertEqual(client.out, "Server: Bob\n", client.describe())
        errors = [line for line in client.lines("err") if not line.startswith("#")]
        self.assertEqual(
            errors, [f"error: the server sent more than {UNASKED_MAX} lines nobody asked for"]
        )
        self.assertLess(len(client.err), TRACE_MAX, client.describe())
        self.assertTrue(floods and floods[0].sent > 64 * 1024)

    async def test_endOfInputDuringAFlood(self) -> None:
        """
        Ctrl-D (the end of stdin) as the flood starts: the client ends, and
        soon: by the end of input (0) or by the breach (6), whichever it
        read first; either way its output stays bounded.
        """
        port, _ = await self.flooding()
        client = spawn(self, "client", [*CLIENT, "--chat", "--trace", "-p", str(port)])
        await client.waitFor("connection from this client", stream="err")
        client.write(b"hi\n")
        await client.waitFor("Server: Bob")
        client.closeStdin()
        status = await client.ended
        self.assertIn(status, (0, 6), client.describe())
        self.assertLess(len(client.err), TRACE_MAX, client.describe())
