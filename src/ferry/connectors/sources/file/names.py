"""Column names: Airbyte's file metadata columns, and deterministic repair of duplicate or empty headers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

FILE_URL_COLUMN = "_ab_source_file_url"
FILE_MODIFIED_COLUMN = "_ab_source_file_last_modified"
RESERVED = frozenset({FILE_URL_COLUMN, FILE_MODIFIED_COLUMN})


def _free_name(base: str, taken: set[str]) -> str:
    k = 2
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"


def unique_names(header: Sequence[str], file: str, logger: logging.Logger) -> list[str]:
    """Header names made unique: `a, a` -> `a, a_2`; an empty name -> `column_N` (N = its 1-based position).

    A generated name never takes a name that appears elsewhere in the header, so a real `a_2` keeps its name.
    """
    originals = {n for n in header if n.strip()}
    assigned: set[str] = set()
    out: list[str] = []
    for position, name in enumerate(header, start=1):
        base = name if name.strip() else f"column_{position}"
        candidate = base
        # A generated `column_N` must not take a real header's name either.
        if candidate in assigned or candidate in RESERVED or (not name.strip() and candidate in originals):
            candidate = _free_name(base, assigned | originals | RESERVED)
        if candidate != name:
            why = "is empty" if not name.strip() else "repeats an earlier name or a reserved one"
            logger.warning(
                "%s: header column %d (%r) %s; it is read as %r", file, position, name, why, candidate
            )
        assigned.add(candidate)
        out.append(candidate)
    return out


def rename_reserved(names: Sequence[str]) -> list[str]:
    """Names with the file columns' names moved aside (`_ab_source_file_url` -> `_ab_source_file_url_2`)."""
    if RESERVED.isdisjoint(names):
        return list(names)
    taken = set(names) | RESERVED
    out = []
    for name in names:
        moved = _free_name(name, taken) if name in RESERVED else name
        taken.add(moved)
        out.append(moved)
    return out


def generated_names(count: int) -> list[str]:
    """Names for a file without a header row: column_1 .. column_N."""
    return [f"column_{i}" for i in range(1, count + 1)]
