"""
Whether a TLS server is the host the user named.

Twisted's C{tls:} endpoints check the chain of a server's certificate, and its
names through C{service_identity}; but a certificate with no subjectAltName
makes C{service_identity} raise C{CertificateError}, which Twisted's verify
callback logs and lets through (twisted#12074, pyca/service-identity#66): any
certificate the authority signed is then taken for any host.
L{checkingHost} wraps an endpoint so that, once the handshake is done, the
certificate is checked again for the host, and nothing the protocol wrote
leaves before it passed.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_names.display import shown
from twisted_names.errors import NotTrusted
from twisted_names.i18n import _

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

#: How many of a certificate's names a message lists, and how much of each.
_NAMES_SHOWN = 3
_NAME_LENGTH = 64


def endpointKind(description: str) -> str:
    """
    The kind of a client endpoint string, in capitals (C{TCP}, C{TLS}, ...),
    as C{clientFromString} reads it; C{""} if there is none.
    """
    args, _ = _parse(description)
    return str(args[0]).upper() if args else ""


def tlsHost(description: str) -> str | None:
    """
    The host a C{tls:} client endpoint string names (C{tls:HOST:PORT...} or
    C{tls:host=HOST...}), or C{None} for any other kind of endpoint.
    """
    args, kwargs = _parse(description)
    if not args or str(args[0]).upper() != "TLS":
        return None
    host = kwargs.get("host", args[1] if len(args) > 1 else None)
    return None if host is None else str(host)


def _parse(description: str) -> tuple[list[Any], dict[str, Any]]:
    """
    Split an endpoint string into its arguments with the parser
    C{clientFromString} itself uses: the same string means the same host to
    both.
    """
    from twisted.internet.endpoints import _parse as parse

    args, kwargs = parse(description)
    return list(args), dict(kwargs)


def certificateProblem(certificate: Certificate, host: str) -> str | None:
    """
    Why C{certificate} is not one for C{host}, for a person; C{None} if it is.

    Only the names are checked: the chain was checked in the handshake.
    """
    from service_identity import CertificateError, VerificationError
    from service_identity.cryptography import (
        verify_certificate_hostname,
        verify_certificate_ip_address,
    )

    try:
        if isIPAddress(host) or isIPv6Address(host):
            verify_certificate_ip_address(certificate, host)
        else:
            verify_certificate_hostname(certificate, host)
    except VerificationError:
        names = _namesOf(certificate)
        if not names:
            return _(
                "its certificate names no host name or address, so it is not for {host}"
            ).format(host=shown(host))
        return _("its certificate is for {names}, not {host}").format(
            names=names, host=shown(host)
        )
    except CertificateError:
        subject = _subjectOf(certificate)
        if not subject:
            return _(
                "its certificate has no subjectAltName (and no readable subject), so it is"
                " for no host, not {host}"
            ).format(host=shown(host))
        return _(
            "its certificate has no subjectAltName (its subject: {subject}), so it is for no"
            " host, not {host}"
        ).format(subject=subject, host=shown(host))
    return None


def refusal(host: str, certificate: Any = None) -> NotTrusted:
    """
    The error for a server whose certificate is not for C{host}.

    @param certificate: the server's certificate (pyOpenSSL's C{X509}) if
        known, to say whom it is for.
    """
    problem = None
    if certificate is not None:
        problem = certificateProblem(certificate.to_cryptography(), host)
    if problem is None:
        problem = _("its certificate is not for {host}").format(host=shown(host))
    return untrusted(problem)


def untrusted(problem: str) -> NotTrusted:
    """The error for a server that cannot be trusted, C{problem} saying why."""
    return NotTrusted(_("cannot trust the server: {problem}").format(problem=problem))


def checkingHost(endpoint: IStreamClientEndpoint, host: str) -> IStreamClientEndpoint:
    """
    C{endpoint} (a TLS one), checking after each handshake that the server's
    certificate is for C{host}; a connection whose certificate is not ends,
    its protocol's C{connectionLost} getting a L{NotTrusted}.
    """
    return _HostCheckingEndpoint(endpoint, host)


@implementer(IStreamClientEndpoint)
class _HostCheckingEndpoint:
    def __init__(self, endpoint: IStreamClientEndpoint, host: str) -> None:
        self._endpoint = endpoint
        self._host = host

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        connecting: Deferred[Any] = self._endpoint.connect(
            _HostCheckingFactory(protocolFactory, self._host)
        )
        return connecting.addCallback(lambda wrapper: wrapper.wrappedProtocol)


@implementer(IHandshakeListener)
class _HostChecked(ProtocolWrapper):
    """
    Between the TLS layer and the protocol: holds what the protocol writes
    until the handshake is done and the certificate found to be for the
    host, then lets it through.

    @ivar _held: what the protocol wrote before that; C{None} once trusted.
    """

    factory: _HostCheckingFactory
    transport: Any  # TLSMemoryBIOProtocol: an ISSLTransport

    def __init__(self, factory: _HostCheckingFactory, wrappedProtocol: IProtocol) -> None:
        super().__init__(factory, wrappedProtocol)
        self._held: list[bytes] | None = []
        self._closeWhenTrusted = False
        self._refusal: NotTrusted | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self.transport.write(data)
        elif self._refusal is None:
            self._held.append(data)

    def writeSequence(self, data: Any) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        if self._held is None:
            super().loseConnection()
        else:
            self.disconnecting = True
            self._closeWhenTrusted = True

    def handshakeCompleted(self) -> None:
        """Check the certificate; send what was held, or end the connection."""
        certificate = self.transport.getPeerCertificate()
        host = self.factory.host
        if certificate is None:
            problem: str | None = _("it sent no certificate")
        else:
            problem = certificateProblem(certificate.to_cryptography(), host)
        if problem is not None:
            self._refusal = untrusted(problem)
            self._held = []
            self.transport.abortConnection()
            return
        held, self._held = self._held, None
        if held:
            self.transport.write(b"".join(held))
        if self._closeWhenTrusted:
            self.transport.loseConnection()
        if IHandshakeListener.providedBy(self.wrappedProtocol):
            self.wrappedProtocol.handshakeCompleted()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._refusal is not None:
            reason = Failure(self._refusal)
        elif _isNameMismatch(reason.value):
            # Twisted's own check refused the names (a subjectAltName for
            # another host): say whose they are, not a repr.
            reason = Failure(refusal(self.factory.host, self._peerCertificate()))
        super().connectionLost(reason)

    def _peerCertificate(self) -> Any:
        """
        The server's certificate, after a failed handshake too: then OpenSSL
        keeps it only at the head of the peer's chain.
        """
        with suppress(Exception):
            certificate = self.transport.getPeerCertificate()
            if certificate is not None:
                return certificate
            chain = self.transport.getHandle().get_peer_cert_chain()
            if chain:
                return chain[0]
        return None


if TYPE_CHECKING:
    _WrappingFactory = WrappingFactory[_HostChecked]
else:
    _WrappingFactory = WrappingFactory  # Not generic at run time in older Twisted.


class _HostCheckingFactory(_WrappingFactory):
    protocol = _HostChecked

    def __init__(self, wrappedFactory: IProtocolFactory, host: str) -> None:
        super().__init__(wrappedFactory)
        self.host = host


def _isNameMismatch(value: BaseException | None) -> bool:
    try:
        from service_identity import VerificationError
    except ImportError:  # pragma: no cover - TLS extra not installed
        return False
    return isinstance(value, VerificationError)


def _namesOf(certificate: Certificate) -> str:
    """
    The host names and addresses C{certificate} is for, bounded and escaped;
    C{""} if it names none.
    """
    from cryptography import x509

    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ""
    values = [str(value) for value in names.value.get_values_for_type(x509.DNSName)]
    values += [str(value) for value in names.value.get_values_for_type(x509.IPAddress)]
    return _few(values)


def _subjectOf(certificate: Certificate) -> str:
    """C{certificate}'s subject, bounded and escaped; C{""} if unreadable or empty."""
    try:
        subject = certificate.subject.rfc4514_string()
    except Exception:
        return ""
    return _few([subject]) if subject else ""


def _few(values: list[str]) -> str:
    """At most L{_NAMES_SHOWN} of C{values}, each cut and escaped, and how many more."""
    cut = ", ".join(
        shown(value if len(value) <= _NAME_LENGTH else value[:_NAME_LENGTH] + "...")
        for value in values[:_NAMES_SHOWN]
    )
    more = len(values) - _NAMES_SHOWN
    if more > 0:
        return _("{names} and {count} more").format(names=cut, count=more)
    return cut
