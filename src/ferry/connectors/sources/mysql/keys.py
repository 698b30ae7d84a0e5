"""Columns a read can be ordered and resumed by (chunk keys and cursors): how their values are read
for a state, kept in it as JSON, and written back into SQL as literals.

State values come back from a state file, so each is checked for its shape before it becomes SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from ferry.connectors.sources.mysql.discovery import ColumnInfo
from ferry.connectors.sources.mysql.spec import CONNECTOR
from ferry.connectors.sources.mysql.types import INTEGERS, quote_identifier
from ferry.errors import ConfigError

_DECIMAL = re.compile(r"-?\d{1,65}(\.\d{1,30})?")
_TEMPORAL = re.compile(r"-?[0-9][0-9:. -]{0,30}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

KEY_KINDS = frozenset({"int", "decimal", "text", "string", "hex"})
"""Kinds a keyset chunk can be cut by: exact values, ordered the same way by ORDER BY and by `>`."""
CURSOR_KINDS = frozenset({"int", "decimal", "float", "text", "string", "timestamp"})


def kind_of(column: ColumnInfo) -> str | None:
    """The orderable kind of a column, or None when it cannot order a read."""
    data_type = column.data_type
    if column.is_json:
        return None
    if data_type in INTEGERS or data_type == "year":
        return "int"
    kinds = {
        "decimal": "decimal",
        "numeric": "decimal",
        "float": "float",
        "double": "float",
        "date": "text",
        "datetime": "text",
        "time": "text",
        "char": "string",
        "varchar": "string",
        "binary": "hex",
        "varbinary": "hex",
        "timestamp": "timestamp",
    }
    return kinds.get(data_type)


@dataclass(frozen=True, slots=True)
class Orderable:
    """One column a read is ordered by."""

    name: str
    kind: str

    @property
    def sql(self) -> str:
        return quote_identifier(self.name)

    def raw_select(self) -> str:
        """SQL giving the value in the form a state keeps (exact, and never a value connectorx rejects)."""
        q = self.sql
        return {
            "decimal": f"CAST({q} AS CHAR)",
            "text": f"CAST({q} AS CHAR)",
            "hex": f"HEX({q})",
            "timestamp": f"CAST(UNIX_TIMESTAMP({q}) * 1000000 AS SIGNED)",
        }.get(self.kind, q)

    def state_value(self, raw: Any) -> Any:
        """The JSON value a state keeps for a value read by `raw_select`."""
        if raw is None:
            return None
        if self.kind == "timestamp":
            return (_EPOCH + dt.timedelta(microseconds=int(raw))).isoformat()
        if self.kind == "int":
            return int(raw)
        if self.kind == "float":
            return float(raw)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def literal(self, value: Any) -> str:
        """`value` (from a state) as a SQL literal of this column's kind; ConfigError when malformed."""
        literal = _LITERALS[self.kind](value)
        if literal is None:
            raise ConfigError(
                f"the state holds {value!r} for column '{self.name}', which is not a valid {self.kind} value",
                hint="Fix or clear the stream's state to read it from the start.",
                connector=CONNECTOR,
                field=self.name,
            )
        return literal


def _int(value: Any) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _decimal(value: Any) -> str | None:
    return value if isinstance(value, str) and _DECIMAL.fullmatch(value) else None


def _float(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return repr(float(value))


def _text(value: Any) -> str | None:
    return f"'{value}'" if isinstance(value, str) and _TEMPORAL.fullmatch(value) else None


def _string(value: Any) -> str | None:
    # A hex literal with a character set introducer is a string in that character set: it takes the
    # column's collation, and needs no escaping whatever the server's sql_mode.
    return f"_utf8mb4 X'{value.encode().hex()}'" if isinstance(value, str) else None


def _hex(value: Any) -> str | None:
    return f"X'{value}'" if isinstance(value, str) and _HEX.fullmatch(value) else None


def _timestamp(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    micros = (moment - _EPOCH) // dt.timedelta(microseconds=1)
    seconds, fraction = divmod(micros, 1_000_000)
    return f"FROM_UNIXTIME({seconds}.{fraction:06d})"


_LITERALS = {
    "int": _int,
    "decimal": _decimal,
    "float": _float,
    "text": _text,
    "string": _string,
    "hex": _hex,
    "timestamp": _timestamp,
}


def after(columns: list[Orderable], values: list[Any]) -> str:
    """SQL true for rows strictly after `values` in the order of `columns` (a keyset condition),
    spelled as ORs of ranges, which both MySQL and MariaDB turn into index range scans."""
    literals = [c.literal(v) for c, v in zip(columns, values, strict=True)]
    terms = []
    for i, column in enumerate(columns):
        equal = [f"{c.sql} = {lit}" for c, lit in zip(columns[:i], literals[:i], strict=True)]
        terms.append("(" + " AND ".join([*equal, f"{column.sql} > {literals[i]}"]) + ")")
    return "(" + " OR ".join(terms) + ")"
