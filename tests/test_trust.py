"""
Tests for L{twisted_names.trust}: a TLS server must be the host named, also
when its certificate has no subjectAltName (twisted#12074), with real
certificates through real TLS connections.
"""

from __future__ import annotations

from typing import Any
from unittest import skipIf

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, serverFromString
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.certs import makeCertificates, selfSigned
from tests.pipes import reactor
from tests.skips import NO_TLS

if NO_TLS is None:
    from OpenSSL.crypto import X509
    from service_identity import CertificateError
from twisted_names.client import clientEndpoint, exchangeNames
from twisted_names.errors import NotTrusted
from twisted_names.trust import certificateProblem, checkingHost, endpointKind, tlsHost


class EndpointStringTests(SynchronousTestCase):
    def test_tlsHost(self) -> None:
        cases = {
            "tls:localhost:5000": "localhost",
            "tls:host=example.org:port=5000:trustRoots=ca/": "example.org",
            "TLS:example.org:5000": "example.org",
            "tls:\\:\\:1:5000": "::1",
            "tls:127.0.0.1:5000:endpoint=tcp\\:10.0.0.1\\:5000": "127.0.0.1",
            "tcp:localhost:5000": None,
            "unix:path=/tmp/tls:x": None,
            "ssl:localhost:5000": None,
        }
        for description, host in cases.items():
            self.assertEqual(tlsHost(description), host, description)

    def test_endpointKind(self) -> None:
        self.assertEqual(endpointKind("ssl:localhost:1"), "SSL")
        self.assertEqual(endpointKind("Tls:localhost:1"), "TLS")
        self.assertEqual(endpointKind(""), "")


@skipIf(NO_TLS is not None, NO_TLS or "")
class CertificateProblemTests(SynchronousTestCase):
    def test_forTheHost(self) -> None:
        certificate = selfSigned("x", ["localhost", "127.0.0.1"])
        self.assertIsNone(certificateProblem(certificate, "localhost"))
        self.assertIsNone(certificateProblem(certificate, "127.0.0.1"))

    def test_wildcard(self) -> None:
        certificate = selfSigned("x", ["*.example.org"])
        self.assertIsNone(certificateProblem(certificate, "names.example.org"))
        self.assertIsNotNone(certificateProblem(certificate, "example.org"))

    def test_noSubjectAltName(self) -> None:
        """The common name does not count (RFC 6125), even when it is the host."""
        for common in ["evil.example", "localhost"]:
            self.assertEqual(
                certificateProblem(selfSigned(common, None), "localhost"),
                f"its certificate has no subjectAltName (its subject: CN={common}),"
                " so it is for no host, not localhost",
            )

    def test_otherHost(self) -> None:
        self.assertEqual(
            certificateProblem(selfSigned("x", ["evil.example"]), "localhost"),
            "its certificate is for evil.example, not localhost",
        )
        self.assertEqual(
            certificateProblem(selfSigned("x", ["evil.example", "10.0.0.1"]), "127.0.0.1"),
            "its certificate is for evil.example, 10.0.0.1, not 127.0.0.1",
        )

    def test_namesEscapedAndBounded(self) -> None:
        """A certificate's names come from the peer: escaped, cut, at most three."""
        names = ["\x1b[2Jevil.example", "b" * 100, "c.example", "d.example", "e.example"]
        problem = certificateProblem(selfSigned("x", names), "localhost")
        self.assertEqual(
            problem,
            f'its certificate is for "\\x1b[2Jevil.example", {"b" * 64}..., c.example'
            " and 2 more, not localhost",
        )


class Recorder(Protocol):
    """A server that records what it receives, and answers each line with Bob."""

    def __init__(self, received: list[bytes], closed: Deferred[None]) -> None:
        self.received = received
        self.closed = closed

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)
        if data.endswith(b"\n"):
            self.transport.write(b"Bob\n")  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed.callback(None)


@skipIf(NO_TLS is not None, NO_TLS or "")
class TLSTests(TestCase):
    """Real certificates, a real TLS server on 127.0.0.1, the endpoint strings people type."""

    def setUp(self) -> None:
        self.paths = makeCertificates(self.mktemp())

    async def serve(self, certificate: str) -> tuple[int, list[bytes], Deferred[None]]:
        """
        A TLS server with C{certificate}; return its port, what it received
        and a Deferred that fires when the first connection to it is closed.
        """
        received: list[bytes] = []
        closed: Deferred[None] = Deferred()
        factory = Factory.forProtocol(lambda: Recorder(received, closed))
        description = (
            f"ssl:0:interface=127.0.0.1:privateKey={self.paths[certificate + '-key']}"
            f":certKey={self.paths[certificate]}"
        )
        port = await serverFromString(reactor, description).listen(factory)
        self.addCleanup(port.stopListening)
        return port.getHost().port, received, closed

    async def exchange(self, host: str, port: int) -> str:
        endpoint = clientEndpoint(reactor, f"tls:{host}:{port}:trustRoots={self.paths['ca-dir']}")
        return await exchangeNames(endpoint, "Ana", reactor, timeout=10)

    async def assertRefused(self, certificate: str, host: str, message: str) -> None:
        """The client refuses the server, saying C{message}; the name never left."""
        port, received, closed = await self.serve(certificate)
        with self.assertRaises(NotTrusted) as caught:
            await self.exchange(host, port)
        self.assertEqual(str(caught.exception), f"cannot trust the server: {message}")
        await closed
        self.assertNotIn(b"Ana", b"".join(received))

    async def test_trusted(self) -> None:
        for host in ["localhost", "127.0.0.1"]:
            port, received, closed = await self.serve("server")
            self.assertEqual(await self.exchange(host, port), "Bob")
            await closed
            self.assertEqual(b"".join(received), b"Ana\n")

    async def test_noSubjectAltName(self) -> None:
        """
        Signed by the trusted authority, CN=evil.example, no subjectAltName:
        Twisted alone took it for any host (and logged the
        C{CertificateError} it let through).
        """
        for host in ["localhost", "127.0.0.1"]:
            await self.assertRefused(
                "nosan",
                host,
                "its certificate has no subjectAltName (its subject: CN=evil.example),"
                f" so it is for no host, not {host}",
            )
        self.assertEqual(len(self.flushLoggedErrors(CertificateError)), 2)

    async def test_otherHost(self) -> None:
        """A subjectAltName for another host: one line saying whose it is, not a repr."""
        for host in ["localhost", "127.0.0.1"]:
            await self.assertRefused(
                "wrongsan", host, f"its certificate is for evil.example, not {host}"
            )

    async def test_otherAuthority(self) -> None:
        port, received, closed = await self.serve("server")
        endpoint = clientEndpoint(
            reactor, f"tls:localhost:{port}:trustRoots={self.paths['other-ca-dir']}"
        )
        with self.assertRaises(NotTrusted) as caught:
            await exchangeNames(endpoint, "Ana", reactor, timeout=10)
        self.assertIn("certificate verify failed", str(caught.exception))
        await closed
        self.assertEqual(received, [])


class FakeTLSTransport(StringTransport):
    """A transport after a handshake: it has the server's certificate."""

    def __init__(self, certificate: Any) -> None:
        super().__init__()
        self.certificate = X509.from_cryptography(certificate)
        self.aborted = False

    def getPeerCertificate(self) -> X509:
        return self.certificate

    def abortConnection(self) -> None:
        self.aborted = True


class Client(Protocol):
    def __init__(self) -> None:
        self.lost: list[Failure] = []

    def connectionMade(self) -> None:
        self.transport.write(b"Ana\n")  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.append(reason)


@skipIf(NO_TLS is not None, NO_TLS or "")
class HoldingTests(SynchronousTestCase):
    """Nothing the protocol writes leaves before the certificate passed."""

    def connect(self, names: list[str] | None) -> tuple[Any, Client, FakeTLSTransport]:
        memory = MemoryReactor()
        client = Client()
        endpoint = checkingHost(TCP4ClientEndpoint(memory, "127.0.0.1", 1), "localhost")
        connected = endpoint.connect(Factory.forProtocol(lambda: client))
        wrapper = memory.tcpClients[0][2].buildProtocol(None)
        assert wrapper is not None
        transport = FakeTLSTransport(selfSigned("x", names))
        wrapper.makeConnection(transport)
        self.assertIs(self.successResultOf(connected), client)
        return wrapper, client, transport

    def test_heldUntilTrusted(self) -> None:
        wrapper, client, transport = self.connect(["localhost"])
        client.transport.loseConnection()  # type: ignore[union-attr]
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        wrapper.handshakeCompleted()
        self.assertEqual(transport.value(), b"Ana\n")
        self.assertTrue(transport.disconnecting)

    def test_droppedWhenRefused(self) -> None:
        wrapper, client, transport = self.connect(None)
        wrapper.handshakeCompleted()
        self.assertTrue(transport.aborted)
        client.transport.write(b"more\n")  # type: ignore[union-attr]
        self.assertEqual(transport.value(), b"")
        wrapper.connectionLost(Failure(ConnectionError()))
        [reason] = client.lost
        self.assertIsInstance(reason.value, NotTrusted)
