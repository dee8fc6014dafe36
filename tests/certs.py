"""A throwaway certificate authority and server certificate, for TLS tests."""

from __future__ import annotations

import datetime
import ipaddress
import os

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
    Write C{ca/ca.pem} (a self-signed authority), C{other-ca/other-ca.pem}
    (an authority that signed nothing), and C{server.pem} / C{server-key.pem}
    (for C{host} and 127.0.0.1, signed by C{ca.pem}) into C{directory}.  Each
    authority has a folder of its own, for C{tls:...:trustRoots=FOLDER}.

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
    serverKey = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(serverKey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(caKey, hashes.SHA256())
    )
    for name, data in {
        "ca": ca.public_bytes(serialization.Encoding.PEM),
        "other-ca": otherCa.public_bytes(serialization.Encoding.PEM),
        "server": server.public_bytes(serialization.Encoding.PEM),
        "server-key": _pem(serverKey),
    }.items():
        folder = os.path.join(directory, name) if name.endswith("ca") else directory
        os.makedirs(folder, exist_ok=True)
        if folder != directory:
            paths[f"{name}-dir"] = folder
        path = paths[name] = os.path.join(folder, f"{name}.pem")
        with open(path, "wb") as f:
            f.write(data)
    return paths
