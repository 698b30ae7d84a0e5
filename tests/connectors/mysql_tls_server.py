"""A private MariaDB server with TLS on, for tests: throwaway certificates, its own port and directory.

The shared test server has TLS off, so the mysql source's ssl_mode is proved against this one. Its
certificate names only `localhost` (see pg_tls_server.py for how it is made), so `verify_identity`
passes for `localhost` and fails for `127.0.0.1`. performance_schema is on: `threads.CONNECTION_TYPE`
says, for each session, whether the server sees it encrypted.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.connectors.tls_certs import Pem, free_port, write_private

_SEARCH_PATH = f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin:/usr/bin"
_OPTIONS = (
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=8M",
    "--innodb-log-file-size=4M",
    "--performance-schema=ON",
    "--max-connections=30",
)


def _binary(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name, path=_SEARCH_PATH))), None)


def what_is_missing() -> str | None:
    """What this machine lacks to run the server, or None."""
    if _binary("mariadbd", "mysqld") is None:
        return "mariadbd"
    if _binary("mariadb-install-db", "mysql_install_db") is None:
        return "mariadb-install-db"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("mysql")
        except KeyError:
            return "the OS user 'mysql' (the server is not run as root)"
    return None


class TlsServer:
    """mariadb-install-db and mariadbd in a private directory; as root, the server runs as `mysql`."""

    def __init__(self, ca_pem: Pem, server_pem: Pem) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ferry-mysql-tls-"))
        self.root.chmod(0o755)  # the server's user must reach its files below a root-owned /tmp entry
        self.data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        self.log = self.root / "server.log"
        self._owner = pwd.getpwnam("mysql") if os.geteuid() == 0 else None
        self._process: subprocess.Popen[bytes] | None = None
        self._write(self.root / "ca.pem", ca_pem.cert, 0o644)
        self._write(self.root / "server.crt", server_pem.cert, 0o644)
        self._write(self.root / "server.key", server_pem.key, 0o600)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir()
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
            os.chown(self.tmp, self._owner.pw_uid, self._owner.pw_gid)

    def _write(self, path: Path, text: str, mode: int) -> None:
        write_private(path, text, mode, self._owner)

    def _user(self) -> list[str]:
        return [f"--user={self._owner.pw_name}"] if self._owner is not None else []

    def start(self, timeout: float = 30.0) -> None:
        install = [
            str(_binary("mariadb-install-db", "mysql_install_db")),
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            f"--datadir={self.data}",
            *self._user(),
            *_OPTIONS,
        ]
        done = subprocess.run(install, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(
                f"mariadb-install-db failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
            )
        server = [
            str(_binary("mariadbd", "mysqld")),
            "--no-defaults",
            *self._user(),
            f"--datadir={self.data}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.socket}",
            f"--pid-file={self.root / 'mysqld.pid'}",
            f"--log-error={self.log}",
            f"--tmpdir={self.tmp}",  # its own: the shared /tmp is other tests' and other servers' too
            f"--ssl-ca={self.root / 'ca.pem'}",
            f"--ssl-cert={self.root / 'server.crt'}",
            f"--ssl-key={self.root / 'server.key'}",
            *_OPTIONS,
        ]
        self._process = subprocess.Popen(server, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        # The server makes its socket file once it accepts connections. Connecting earlier would fail
        # and leave PyMySQL's half-open socket to a ResourceWarning.
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while not self.socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start:\n{self._log_tail()}")
            time.sleep(0.05)
        self.connect().close()

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def stop(self) -> None:
        try:
            if self._process is not None and self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
                try:
                    self._process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, database: str | None = None) -> Any:
        """A root PyMySQL connection over the server's Unix socket (autocommit)."""
        import pymysql

        return pymysql.connect(
            unix_socket=str(self.socket),
            user="root",
            database=database,
            autocommit=True,
            charset="utf8mb4",
            connect_timeout=5,
        )
