"""Where the server keeps its data and how it is configured: FERRY_HOME, FERRY_DATABASE_URL and friends."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TOKEN_SECONDS = 3600
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    secret_key: str | None = None
    admin_client_id: str | None = None
    admin_client_secret: str | None = None
    token_seconds: int = DEFAULT_TOKEN_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("FERRY_HOME") or Path.home() / ".ferry").expanduser()
        url = env.get("FERRY_DATABASE_URL") or f"sqlite:///{home / 'ferry.db'}"
        return cls(
            home=home,
            database_url=url,
            secret_key=env.get("FERRY_SECRET_KEY") or None,
            admin_client_id=env.get("FERRY_ADMIN_CLIENT_ID") or None,
            admin_client_secret=env.get("FERRY_ADMIN_CLIENT_SECRET") or None,
            token_seconds=int(env.get("FERRY_TOKEN_SECONDS") or DEFAULT_TOKEN_SECONDS),
            max_body_bytes=int(env.get("FERRY_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
        )
