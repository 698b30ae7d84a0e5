"""Record batches of a stream's schema: values cast to the inferred types, the file columns added.

A value that does not fit its column becomes NULL and its row gets a change with a SOURCE_* reason.
The connector kit's casting names DESTINATION_* reasons (it is written for destinations), so this
module maps them to their SOURCE_* twins after casting: the bad value is in the file, not the target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ferry.cdk.casting import RowChanges, cast_values, with_changes
from ferry.cdk.schema import Column, Kind, arrow_schema, columns_of
from ferry.connectors.sources.file.files import SourceFile
from ferry.connectors.sources.file.names import RESERVED
from ferry.protocol import Reason

_SOURCE_REASONS = {
    Reason.DESTINATION_SERIALIZATION_ERROR.value: Reason.SOURCE_SERIALIZATION_ERROR.value,
    Reason.DESTINATION_FIELD_SIZE_LIMITATION.value: Reason.SOURCE_FIELD_SIZE_LIMITATION.value,
}
_MODIFIED_TYPE = pa.timestamp("us", tz="UTC")


def note(
    changes: RowChanges, row: int, field: str, reason: Reason = Reason.SOURCE_SERIALIZATION_ERROR
) -> None:
    """Record that `field` of `row` was set to NULL because of `reason`."""
    entry = {"field": field, "change": "NULLED", "reason": reason.value}
    existing = changes[row]
    if existing is None:
        changes[row] = [entry]
    else:
        existing.append(entry)


def _as_source_reasons(changes: RowChanges) -> RowChanges:
    for entries in changes:
        for entry in entries or ():
            entry["reason"] = _SOURCE_REASONS.get(entry["reason"], entry["reason"])
    return changes


@dataclass(frozen=True, slots=True)
class Plan:
    """What every batch of a stream looks like: its data columns, then the two file columns."""

    columns: list[Column]
    schema: pa.Schema
    names: frozenset[str]

    @classmethod
    def of(cls, json_schema: dict[str, Any]) -> Plan:
        columns = [c for c in columns_of(json_schema) if c.name not in RESERVED]
        return cls(columns, arrow_schema(json_schema), frozenset(c.name for c in columns))


def _empty_to_null(strings: pa.Array[Any]) -> pa.Array[Any]:
    trimmed = pc.utf8_trim_whitespace(strings)
    out: pa.Array[Any] = pc.if_else(pc.equal(trimmed, pa.scalar("")), pa.scalar(None, pa.string()), trimmed)
    return out


def cast_text(strings: pa.Array[Any], column: Column, changes: RowChanges) -> pa.Array[Any]:
    """Text values (CSV) cast to the column's type with one vectorised cast; only a failing chunk goes
    value by value. An empty value is a missing value: NULL without a reason."""
    if column.kind is Kind.STRING:
        return strings
    values = _empty_to_null(strings)
    if column.kind is not Kind.JSON:
        try:
            out = pc.cast(values, column.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        else:
            # Arrow reads 1e999 as infinity; the per-value path tells an overflow from a written "inf".
            if column.kind is not Kind.NUMBER or not pc.any(pc.is_inf(out)).as_py():
                return out
    return cast_values(values.to_pylist(), column, changes)


def warn_unknown(plan: Plan, names: Iterable[str], file: SourceFile) -> None:
    """Columns of a file that the stream's schema lacks are not read; say so, once per file."""
    unknown = sorted(set(names) - plan.names)
    if unknown:
        file.warn_once(
            "unknown-columns",
            "%s has columns that are not in stream %r's schema, so they are not read: %s. "
            "Discover the schema again to add them.",
            file.url,
            file.cfg.name,
            ", ".join(unknown),
        )


def assemble(
    plan: Plan, arrays: Mapping[str, pa.Array[Any]], num_rows: int, changes: RowChanges, file: SourceFile
) -> pa.RecordBatch:
    """One batch in the plan's column order; columns the file lacks are NULL."""
    out: list[pa.Array[Any]] = []
    for column in plan.columns:
        array = arrays.get(column.name)
        out.append(_nulls(num_rows, column.arrow_type) if array is None else array)
    out.append(pa.repeat(pa.scalar(file.url, pa.string()), num_rows))
    out.append(pa.repeat(pa.scalar(_utc(file.last_modified), _MODIFIED_TYPE), num_rows))
    # Nested Parquet columns keep their Arrow type; every other column has exactly the plan's type.
    fields = [f.with_type(a.type) for f, a in zip(plan.schema, out, strict=True)]
    batch = pa.RecordBatch.from_arrays(out, schema=pa.schema(fields))
    return with_changes(batch, _as_source_reasons(changes))


def _nulls(num_rows: int, dtype: pa.DataType) -> pa.Array[Any]:
    nulls: pa.Array[Any] = pa.nulls(num_rows, dtype)  # type: ignore[call-overload]  # stubs list each type
    return nulls


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)
