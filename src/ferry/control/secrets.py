"""Connector secrets at rest: every spec field marked `airbyte_secret` is stored encrypted (Fernet).

A stored config keeps its shape; each secret value becomes `{"_ferry_secret": "<token>"}`. Responses show
the mask `**********` in its place, and a config sent back with the mask keeps the stored secret.
The key comes from FERRY_SECRET_KEY, or from a 0600 key file created on first start.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ferry.cdk.spec import MASK, secret_paths
from ferry.control.errors import InvalidInputError
from ferry.errors import InternalError

SEALED = "_ferry_secret"
Paths = set[tuple[str, ...]]


def load_key(secret_key: str | None, key_file: Path) -> bytes:
    """The Fernet key: FERRY_SECRET_KEY (a Fernet key or any passphrase), else the key file, made once."""
    if secret_key:
        return _as_fernet_key(secret_key)
    try:
        return key_file.read_bytes().strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: when two servers start at once, one creates the file and the other reads it.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _as_fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    # A passphrase: stretch it to a key so that any non-empty value works.
    return base64.urlsafe_b64encode(hashlib.sha256(b"ferry-secret-key:" + raw).digest())


class SecretBox:
    """Seals, opens, masks and merges the secret fields of connector configs."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self.signing_key = hashlib.sha256(b"ferry-token-signing:" + key).digest()

    def seal(
        self, schema: Mapping[str, Any], config: Mapping[str, Any], stored: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The config to store: secrets encrypted; a mask keeps the secret already in `stored`."""
        out: dict[str, Any] = _transform(config, stored, secret_paths(schema), (), self._seal_value)
        return out

    def open(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The plain config a connector gets."""
        out: dict[str, Any] = _map_sealed(stored, self._open_token)
        return out

    def secrets(self, stored: Mapping[str, Any]) -> set[str]:
        """Every plain secret in a stored config (to mask them in logs)."""
        found: set[str] = set()

        def collect(token: str) -> str:
            found.add(self._open_token(token))
            return MASK

        _map_sealed(stored, collect)
        return found

    def _seal_value(self, value: Any, previous: Any, path: tuple[str, ...]) -> Any:
        if value == MASK:
            if _is_sealed(previous):
                return previous
            raise InvalidInputError(
                f"configuration.{'.'.join(path)} holds the mask '{MASK}' but no secret is stored for it",
                hint="Send the secret's real value.",
                field=f"configuration.{'.'.join(path)}",
            )
        if value is None:
            return value
        token = self._fernet.encrypt(_encode(value)).decode()
        return {SEALED: token}

    def _open_token(self, token: str) -> Any:
        try:
            plain = self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise InternalError(
                "a stored secret cannot be decrypted with this server's key",
                hint="Start the server with the FERRY_SECRET_KEY (or key file) used to save it.",
            ) from None
        return _decode(plain)


def masked(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored config as a response shows it: each secret as the mask."""
    out: dict[str, Any] = _map_sealed(stored, lambda _token: MASK)
    return out


def _encode(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _decode(raw: bytes) -> Any:
    import json

    return json.loads(raw)


def _is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {SEALED} and isinstance(value[SEALED], str)


def _map_sealed(value: Any, on_token: Callable[[str], Any]) -> Any:
    if _is_sealed(value):
        return on_token(value[SEALED])
    if isinstance(value, Mapping):
        return {k: _map_sealed(v, on_token) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_sealed(v, on_token) for v in value]
    return value


def _transform(
    value: Any,
    previous: Any,
    paths: Paths,
    prefix: tuple[str, ...],
    seal: Callable[[Any, Any, tuple[str, ...]], Any],
) -> Any:
    if isinstance(value, Mapping):
        before = previous if isinstance(previous, Mapping) else {}
        out = {}
        for key, item in value.items():
            path = (*prefix, str(key))
            if path in paths:
                out[key] = seal(item, before.get(key), path)
            else:
                out[key] = _transform(item, before.get(key), paths, path, seal)
        return out
    if isinstance(value, list):
        before_list = previous if isinstance(previous, list) else []
        return [
            _transform(item, before_list[i] if i < len(before_list) else None, paths, prefix, seal)
            for i, item in enumerate(value)
        ]
    return value
