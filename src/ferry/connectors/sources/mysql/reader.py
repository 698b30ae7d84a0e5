"""Runs one SELECT through connectorx (Rust, streaming, straight into Arrow) and turns each batch into
the stream's columns, with `_airbyte_meta.changes` for values that had to become NULL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ferry.cdk.casting import RowChanges, with_changes
from ferry.cdk.schema import JSON_METADATA, Kind, kind_of
from ferry.connectors.sources.mysql.connection import error_for
from ferry.connectors.sources.mysql.queries import Select, flag_alias, order_alias, value_alias
from ferry.connectors.sources.mysql.spec import Settings
from ferry.connectors.sources.mysql.types import ColumnPlan
from ferry.errors import FerryError

_SERVER_CODE = re.compile(r"ERROR (\d{4})")
_UNREACHABLE = ("Connection refused", "timed out", "os error", "Could not connect", "broken pipe")


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows of the stream and the raw order values of its last row (where the next read starts)."""

    data: pa.RecordBatch
    last: list[Any]


def _is_driver_failure(exc: BaseException) -> bool:
    # connectorx reports some failures as a Rust panic, which Python sees as a BaseException.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _error(exc: BaseException, settings: Settings, doing: str) -> FerryError:
    text = str(exc)
    found = _SERVER_CODE.search(text)
    code = int(found.group(1)) if found else None
    if code is None and any(marker in text for marker in _UNREACHABLE):
        code = 2003
    return error_for(code, text.splitlines()[0] if text else type(exc).__name__, settings, doing)


def run(
    url: str, sql: str, select: Select, settings: Settings, *, batch_rows: int, doing: str
) -> Iterator[Batch]:
    """The converted batches of one statement, in order; driver failures become Ferry errors."""
    import connectorx as cx

    try:
        reader = cx.read_sql(url, sql, return_type="arrow_stream", batch_size=batch_rows)
        for raw in reader:
            if raw.num_rows:
                yield Batch(convert_batch(raw, select.plans), _last_order_values(raw, len(select.order)))
    except BaseException as exc:
        if isinstance(exc, FerryError) or not _is_driver_failure(exc):
            raise
        raise _error(exc, settings, doing) from None


def _last_order_values(raw: pa.RecordBatch, count: int) -> list[Any]:
    return [raw.column(order_alias(i))[raw.num_rows - 1].as_py() for i in range(count)]


def convert_batch(raw: pa.RecordBatch, plans: tuple[ColumnPlan, ...]) -> pa.RecordBatch:
    """The stream's columns from a raw batch; values nulled on the way are noted per row."""
    arrays: list[Any] = []
    fields: list[pa.Field[Any]] = []
    changes: RowChanges | None = None
    names = set(raw.schema.names)
    for i, plan in enumerate(plans):
        flag = raw.column(flag_alias(i)) if flag_alias(i) in names else None
        array, bad, reason = plan.converter(raw.column(value_alias(i)), flag)
        if bad is not None:
            changes = changes if changes is not None else [None] * raw.num_rows
            _note(changes, bad, plan.name, reason.value)
        metadata = JSON_METADATA if kind_of(plan.prop) is Kind.JSON else None
        arrays.append(array)
        fields.append(pa.field(plan.name, array.type, nullable=True, metadata=metadata))
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    return with_changes(batch, changes) if changes is not None else batch


def _note(changes: RowChanges, bad: Any, field: str, reason: str) -> None:
    for row in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
        entry = {"field": field, "change": "NULLED", "reason": reason}
        existing = changes[row]
        if existing is None:
            changes[row] = [entry]
        else:
            existing.append(entry)
