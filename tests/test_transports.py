"""
The exchange over every transport Twisted's endpoint strings give: IPv6, UNIX
sockets and TLS, with the strings a user would type (through
L{clientEndpoint}, as the command line does), on this machine.  The TLS host
checks are in C{tests/test_trust.py}.
"""

from __future__ import annotations

import os
import tempfile
from unittest import skipIf

from twisted.internet.endpoints import serverFromString
from twisted.trial.unittest import TestCase

from tests.certs import makeCertificates
from tests.pipes import reactor
from tests.skips import NO_TLS, NO_UNIX_SOCKETS
from twisted_names.client import clientEndpoint, exchangeNames
from twisted_names.errors import NotTrusted
from twisted_names.replies import FixedReply
from twisted_names.server import NameServerFactory


class TransportTests(TestCase):
    async def listen(self, description: str) -> object:
        factory = NameServerFactory(FixedReply("Bob"), reactor)
        port = await serverFromString(reactor, description).listen(factory)
        self.addCleanup(port.stopListening)
        return port.getHost()

    async def exchange(self, description: str) -> str:
        endpoint = clientEndpoint(reactor, description)
        return await exchangeNames(endpoint, "Ana", reactor, timeout=10, where=description)

    async def test_ipv6(self) -> None:
        host = await self.listen("tcp6:0:interface=\\:\\:1")
        answer = await self.exchange(f"tcp:host=\\:\\:1:port={host.port}")  # type: ignore[attr-defined]
        self.assertEqual(answer, "Bob")

    @skipIf(NO_UNIX_SOCKETS is not None, NO_UNIX_SOCKETS or "")
    async def test_unixSocket(self) -> None:
        directory = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, directory)
        path = os.path.join(directory, "names.sock")
        await self.listen(f"unix:{path}")
        self.assertEqual(await self.exchange(f"unix:path={path}"), "Bob")

    async def tlsServer(self) -> tuple[dict[str, str], int]:
        paths = makeCertificates(self.mktemp())
        host = await self.listen(
            f"ssl:0:interface=127.0.0.1:privateKey={paths['server-key']}:certKey={paths['server']}"
        )
        return paths, host.port  # type: ignore[attr-defined]

    @skipIf(NO_TLS is not None, NO_TLS or "")
    async def test_tlsVerified(self) -> None:
        paths, port = await self.tlsServer()
        answer = await self.exchange(f"tls:localhost:{port}:trustRoots={paths['ca-dir']}")
        self.assertEqual(answer, "Bob")

    @skipIf(NO_TLS is not None, NO_TLS or "")
    async def test_tlsWrongAuthorityRefused(self) -> None:
        """A client trusting another authority refuses the server, clearly."""
        paths, port = await self.tlsServer()
        with self.assertRaises(NotTrusted) as caught:
            await self.exchange(f"tls:localhost:{port}:trustRoots={paths['other-ca-dir']}")
        self.assertIn("certificate verify failed", str(caught.exception))

    @skipIf(NO_TLS is not None, NO_TLS or "")
    async def test_cliNotTrustedExitStatus(self) -> None:
        import io

        from twisted_names.app.cli import main

        paths, port = await self.tlsServer()
        stderr = io.StringIO()
        endpoint = f"tls:localhost:{port}:trustRoots={paths['other-ca-dir']}"
        with self.assertRaises(SystemExit) as caught:
            await main(reactor, "-e", endpoint, "-n", "Ana", stderr=stderr)
        self.assertEqual(caught.exception.code, 7)
        self.assertEqual(
            stderr.getvalue(),
            "error: cannot trust the server: its certificate is not signed by a trusted"
            " authority (certificate verify failed)\n",
        )
