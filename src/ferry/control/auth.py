"""Client credentials and bearer tokens.

Client secrets are stored as salted scrypt hashes. Tokens are signed (HMAC-SHA256 with a key derived
from the server's secret key) and carry the user id and the expiry, so that every server process
sharing the store accepts them without a token table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
TOKEN_PREFIX = "ferry_"


def new_client_id() -> str:
    return secrets.token_hex(16)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    expires_at: int


def issue_token(signing_key: bytes, user_id: str, seconds: int, now: float | None = None) -> str:
    claims = {"sub": user_id, "exp": int((now if now is not None else time.time()) + seconds)}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{TOKEN_PREFIX}{body}.{_sign(signing_key, body)}"


def read_token(signing_key: bytes, token: str, now: float | None = None) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    if not token.startswith(TOKEN_PREFIX) or token.count(".") != 1:
        return None
    body, signature = token[len(TOKEN_PREFIX) :].split(".")
    if not hmac.compare_digest(signature, _sign(signing_key, body)):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        user_id, expires_at = str(claims["sub"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires_at <= (now if now is not None else time.time()):
        return None
    return TokenClaims(user_id, expires_at)


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
