"""A private PostgreSQL 15 server with TLS on, for tests: throwaway certificates, its own port and directory.

The shared test server has SSL off, so the SSL modes are proved against this one. Its server certificate
names only `localhost` (no IP address), so `verify-full` passes for `localhost` and fails for `127.0.0.1`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.connectors.tls_certs import Pem, free_port, write_private

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SSL_ONLY_DB = "tls_only"
"""A database pg_hba.conf refuses over plain TCP (`hostnossl ... reject`); every other one takes both."""


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


_HBA = f"""\
local all all trust
hostnossl {SSL_ONLY_DB} all 127.0.0.1/32 reject
hostssl all all 127.0.0.1/32 trust
host all all 127.0.0.1/32 trust
"""


class TlsServer:
    """initdb and pg_ctl in a private directory; as root, they run as the OS user `postgres`."""

    def __init__(self, server_pem: Pem) -> None:
        self.port = free_port()
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
        write_private(path, text, mode, self._owner)

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
