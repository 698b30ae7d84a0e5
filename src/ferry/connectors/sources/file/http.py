"""HTTP(S) files through the standard library: streamed, with a timeout, errors that never show a secret."""

from __future__ import annotations

import base64
import datetime as dt
import re
import socket
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from typing import BinaryIO, cast
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from ferry.cdk.secrets import register_secrets
from ferry.errors import ConfigError, FerryError, TransientError

HIDDEN = "***"
_SECRET_QUERY_KEY = re.compile(r"(?i)token|key|sig|secret|pass|auth|cred|session|code")
_RETRYABLE_STATUS = frozenset({408, 425, 429})


def is_url(path: str) -> bool:
    return urlsplit(path).scheme.lower() in ("http", "https")


def redact_url(url: str) -> str:
    """`url` fit to show and store: user info and every query value hidden (any of them may be a token)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(f"{k}={HIDDEN}" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _request(url: str) -> urllib.request.Request:
    """A GET without user info in the URL; user info becomes a Basic Authorization header."""
    parts = urlsplit(url)
    headers = {"User-Agent": "ferry-source-file", "Accept-Encoding": "identity"}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        register_secrets([unquote(password)])
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    register_secrets(v for k, v in parse_qsl(parts.query) if _SECRET_QUERY_KEY.search(k))
    return urllib.request.Request(
        urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), headers=headers
    )


def _status_error(status: int, reason: str, shown: str, field: str) -> FerryError:
    message = f"HTTP {status} {reason} from {shown}"
    if status >= 500 or status in _RETRYABLE_STATUS:
        return TransientError(
            message, hint="The server failed or is busy; the sync can be retried later.", field=field
        )
    hint = {
        401: "The server wants credentials: put them in the URL (https://user:password@host/...).",
        403: "The server refused access: check the credentials or token in the URL.",
        404: f"No file at this URL: check {field}.",
    }.get(status, f"Check {field}.")
    return ConfigError(message, hint=hint, field=field)


def _last_modified(header: str | None) -> dt.datetime | None:
    if not header:
        return None
    try:
        parsed = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def open_url(url: str, timeout: float, field: str) -> tuple[BinaryIO, dt.datetime | None]:
    """The response body as a stream, and the server's Last-Modified time when it sends one."""
    shown = redact_url(url)
    try:
        response = urllib.request.urlopen(_request(url), timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _status_error(exc.code, str(exc.reason), shown, field) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            raise ConfigError(
                f"cannot resolve the host of {shown}", hint=f"Check {field}.", field=field
            ) from None
        raise TransientError(
            f"cannot connect to {shown}: {exc.reason}", hint="Retry later.", field=field
        ) from None
    except (TimeoutError, ConnectionError) as exc:
        raise TransientError(f"no answer from {shown}: {exc}", hint="Retry later.", field=field) from None
    return cast(BinaryIO, response), _last_modified(response.headers.get("Last-Modified"))
