"""
A throwaway certificate authority and server certificates, for TLS tests.

Importable where C{cryptography} cannot load (under Wine: see
L{tests.skips.NO_TLS}), so that the modules importing it still run their
other tests; the TLS tests are skipped there.
"""

from __future__ import annotations

import datetime
import ipaddress
import os

from tests.skips import NO_TLS

if NO_TLS is None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def makeCertificates(directory: str, host: str = "localhost") -> dict[str, str]:
    """
    Write into C{directory}:
      - C{ca/ca.pem}, a self-signed authority, and C{other-ca/other-ca.pem},
        an authority that signed nothing; each in a folder of its own, for
        C{tls:...:trustRoots=FOLDER};
      - C{server.pem} / C{server-key.pem}: for C{host} and 127.0.0.1;
      - C{nosan.pem} / C{nosan-key.pem}: C{CN=evil.example} and no
        subjectAltName at all (the subject's common name is not a host
        name that counts: RFC 6125);
      - C{wrongsan.pem} / C{wrongsan-key.pem}: for evil.example only;
    every server certificate signed by C{ca.pem}.

    @return: the paths, by those names without C{.pem}; and C{ca-dir},
        C{other-ca-dir}.
    """
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    paths: dict[str, str] = {}

    def authority(common: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(_name(common))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return key, cert

    caKey, ca = authority("twisted-names test CA")
    _, otherCa = authority("some other CA")

    def server(
        common: str, names: list[x509.GeneralName] | None
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
            .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        )
        if names is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(caKey, hashes.SHA256()), key

    files = {
        "ca": ca.public_bytes(serialization.Encoding.PEM),
        "other-ca": otherCa.public_bytes(serialization.Encoding.PEM),
    }
    for name, (cert, key) in {
        "server": server(
            host, [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        ),
        "nosan": server("evil.example", None),
        "wrongsan": server("evil.example", [x509.DNSName("evil.example")]),
    }.items():
        files[name] = cert.public_bytes(serialization.Encoding.PEM)
        files[f"{name}-key"] = _pem(key)
    for name, data in files.items():
        folder = os.path.join(directory, name) if name.endswith("ca") else directory
        os.makedirs(folder, exist_ok=True)
        if folder != directory:
            paths[f"{name}-dir"] = folder
        path = paths[name] = os.path.join(folder, f"{name}.pem")
        with open(path, "wb") as f:
            f.write(data)
    return paths


def selfSigned(common: str, names: list[str] | None) -> x509.Certificate:
    """
    A certificate for C{names} (host names, or IP addresses), no
    subjectAltName at all if C{None}: for checking names, not chains.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if names is not None:
        general: list[x509.GeneralName] = []
        for name in names:
            try:
                general.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                general.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    return builder.sign(key, hashes.SHA256())
