"""Source names (namespaces, streams, columns) turned into safe, deterministic SQL identifiers.

The rules, applied in order, are the same for every destination so that one source name always
lands under one identifier:

1. Unicode NFC, then casefold (DuckDB and most warehouses compare identifiers case-insensitively,
   so `Center` and `center` must not become two tables that the database then confuses).
2. Every run of characters that are not letters, combining marks, digits or `_` becomes one `_`
   (marks are kept because scripts such as Devanagari cannot be written without them).
3. A leading digit gets a `_` prefix; an empty result becomes `_`.
4. A result longer than `max_bytes` (UTF-8) is cut and given `_` plus a short hash of the whole
   normalised name, so long names stay distinct and the mapping stays stable.

Reserved words need no special case: identifiers are always written through `quote()`.
Two source names that normalise to the same identifier are a configuration error naming both,
never a silent merge.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping

from ferry.errors import ConfigError

AIRBYTE_META_COLUMNS = ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_generation_id")
"""The columns a Destinations V2 final table adds to the stream's own columns."""

_HASH_CHARS = 8
_MIN_MAX_BYTES = 2 * (_HASH_CHARS + 1)


def _keeps(char: str) -> bool:
    return char == "_" or unicodedata.category(char)[0] in "LMN"


def _collapse(text: str) -> str:
    """Each run of characters outside letters/marks/digits/underscore becomes a single `_`."""
    out: list[str] = []
    in_run = False
    for char in text:
        if _keeps(char):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("_")
            in_run = True
    return "".join(out)


def _truncate(name: str, max_bytes: int) -> str:
    encoded = name.encode("utf-8")
    if len(encoded) <= max_bytes:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:_HASH_CHARS]
    # errors="ignore" drops a character cut in half by the byte limit.
    head = encoded[: max_bytes - _HASH_CHARS - 1].decode("utf-8", errors="ignore")
    return f"{head}_{digest}"


def normalize(name: str, max_bytes: int | None = None) -> str:
    """The identifier for a source name; `max_bytes` is the destination's limit (Postgres: 63)."""
    if max_bytes is not None and max_bytes < _MIN_MAX_BYTES:
        raise ValueError(f"max_bytes must be at least {_MIN_MAX_BYTES}, got {max_bytes}")
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    out = _collapse(folded) or "_"
    if unicodedata.category(out[0])[0] == "N":
        out = "_" + out
    return _truncate(out, max_bytes) if max_bytes is not None else out


def quote(identifier: str) -> str:
    """`identifier` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def map_identifiers(
    names: Iterable[str],
    *,
    max_bytes: int | None = None,
    reserved: Iterable[str] = (),
    what: str = "column",
    where: str | None = None,
) -> dict[str, str]:
    """Source name -> identifier for `names`; ConfigError when two names (or a name and a reserved
    identifier) end up the same. `what` and `where` only shape the message ("column", "of stream x")."""
    taken: dict[str, str] = {}
    reserved_set = set(reserved)
    mapping: dict[str, str] = {}
    for name in names:
        if name in mapping:
            continue
        ident = normalize(name, max_bytes)
        if ident in reserved_set:
            raise _reserved_error(name, ident, what, where)
        if ident in taken:
            raise _collision_error(f"{what} '{taken[ident]}'", f"{what} '{name}'", ident, where, field=name)
        taken[ident] = name
        mapping[name] = ident
    return mapping


def column_identifiers(
    names: Iterable[str], *, max_bytes: int | None = None, stream: str | None = None
) -> dict[str, str]:
    """Column identifiers of one stream, checked against each other and the Airbyte meta columns."""
    where = f"of stream '{stream}'" if stream is not None else None
    return map_identifiers(names, max_bytes=max_bytes, reserved=AIRBYTE_META_COLUMNS, where=where)


def check_unique(pairs: Mapping[str, str], *, where: str | None = None) -> None:
    """ConfigError when two things in `pairs` (description -> identifier, e.g. "stream 'a'" -> "a")
    would share one identifier."""
    seen: dict[str, str] = {}
    for label, ident in pairs.items():
        if ident in seen:
            raise _collision_error(seen[ident], label, ident, where)
        seen[ident] = label


def _collision_error(
    first: str, second: str, ident: str, where: str | None, field: str | None = None
) -> ConfigError:
    place = f" {where}" if where else ""
    return ConfigError(
        f"{first} and {second}{place} both become the identifier '{ident}' in the destination",
        hint="Rename one of them at the source or deselect one; identifiers are case-insensitive "
        "and characters other than letters, digits and '_' become '_'.",
        field=field,
    )


def _reserved_error(name: str, ident: str, what: str, where: str | None) -> ConfigError:
    place = f" {where}" if where else ""
    return ConfigError(
        f"{what} '{name}'{place} becomes the identifier '{ident}', which the destination uses for its own "
        f"metadata column",
        hint="Rename or deselect the column at the source.",
        field=name,
    )
