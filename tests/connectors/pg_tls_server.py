"""A private PostgreSQL 15 server with TLS on, for tests: throwaway certificates, its own port and directory.

The shared test server has SSL off, so the SSL modes are proved against this one. Its server certificate
names only `localhost` (no IP address), so `verify-full` passes for `localhost` and fails for `127.0.0.1`.
"""

from __future__ import annotations

import datetime
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SSL_ONLY_DB = "tls_only"
"""A database pg_hba.conf refuses over plain TCP (`hostnossl ... reject`); every other one takes both."""

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


def what_is_missing() -> str | None:
    """What this machine lacks to run the server, or None."""
    if not (PG_BIN / "initdb").exists():
        return str(PG_BIN / "initdb")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "runuser (initdb and postgres refuse to run as root)"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "the OS user 'postgres' (initdb and postgres refuse to run as root)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_HBA = f"""\
local all all trust
hostnossl {SSL_ONLY_DB} all 127.0.0.1/32 reject
hostssl all all 127.0.0.1/32 trust
host all all 127.0.0.1/32 trust
"""


class TlsServer:
    """initdb and pg_ctl in a private directory; as root, they run as the OS user `postgres`."""

    def __init__(self, server_pem: Pem) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ferry-pg-tls-"))
        self.root.chmod(0o755)  # the server's user must reach its files below a root-owned /tmp entry
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self._write(self.root / "server.crt", server_pem.cert, 0o644)
        self._write(self.root / "server.key", server_pem.key, 0o600)  # the server refuses a readable key
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)

    def _write(self, path: Path, text: str, mode: int) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        if self._owner is not None:
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if self._owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N", "--no-instructions")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "ssl": "on",
            "ssl_cert_file": f"'{self.root / 'server.crt'}'",
            "ssl_key_file": f"'{self.root / 'server.key'}'",
            "fsync": "off",
            "log_connections": "on",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (self.data / "pg_hba.conf").write_text(_HBA)
        self._run("pg_ctl", "start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.log))

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> Any:
        """A superuser psycopg connection over TLS (autocommit)."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=dbname,
            sslmode="require",
            connect_timeout=5,
            autocommit=True,
            **kwargs,
        )
