"""What the TLS tests share: throwaway certificates (made with `cryptography`), a free port, and the
certificates and password a test hands to the connectors and checks no error ever repeats."""

from __future__ import annotations

import datetime
import os
import pwd
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pem:
    cert: str
    key: str


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pem:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Pem(cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + _DAY)
    )


def make_ca(name: str) -> tuple[Pem, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA: its PEMs, and the certificate and key to sign with."""
    key = _key()
    cert = (
        _builder(_name(name), _name(name), key.public_key())
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _pem(cert, key), cert, key


def make_server_cert(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, dns_names: Sequence[str]
) -> Pem:
    """A server certificate for `dns_names` (the first is also the CN), signed by `ca`."""
    key = _key()
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(_name(dns_names[0]), ca.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _pem(cert, key)


def write_private(path: Path, text: str, mode: int, owner: pwd.struct_passwd | None) -> None:
    """A new file created with `mode` from the start (a server refuses a key others could read), given to
    `owner` (the server's OS user when the tests run as root)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Certificates:
    """A CA, a server certificate it signed for `localhost` only (no IP address, so name checks fail
    for 127.0.0.1), and an unrelated CA that must not verify the server."""

    def __init__(self) -> None:
        self.ca, ca_cert, ca_key = make_ca("Ferry test CA")
        self.other_ca, _, _ = make_ca("Some other CA")
        self.server_pem = make_server_cert(ca_cert, ca_key, ["localhost"])

    def secrets(self, password: str) -> list[str]:
        """Text that must never appear in an error: the password and a line out of each PEM."""
        pems = [self.ca.cert, self.other_ca.cert, self.server_pem.cert, self.server_pem.key]
        return [password, *(pem.splitlines()[1] for pem in pems)]
