"""The Arrow conversions on batches shaped like the driver's, without a server: edge cases of the layout."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pyarrow as pa

from ferry.cdk.schema import CHANGES_COLUMN
from ferry.connectors.sources.postgres.convert import BatchConverter
from ferry.connectors.sources.postgres.types import ColumnPlan, Handling, PgType
from ferry.connectors.sources.postgres.values import civil_from_days, date_text, timestamp_text


def _column(name: str, handling: Handling, typname: str) -> ColumnPlan:
    return ColumnPlan(name, handling, PgType(typname, "X", typname))


def test_uuids_with_nulls_and_an_offset_become_their_text() -> None:
    values = [uuid.uuid4() for _ in range(7)]
    raw = pa.array([None if i % 3 == 0 else v.bytes for i, v in enumerate(values)], pa.binary(16)).slice(2, 4)
    out = BatchConverter([_column("u", Handling.UUID, "uuid")]).convert(pa.record_batch([raw], names=["u"]))
    expected = [None if i % 3 == 0 else str(values[i]) for i in range(2, 6)]
    assert out.column(0).to_pylist() == expected
    out.validate(full=True)


def test_numeric_text_past_a_double_is_nulled_with_a_reason_and_infinity_is_kept() -> None:
    raw = pa.array(["1.5", "NaN", "Infinity", "-Infinity", "1" + "0" * 400, None, "-" + "9" * 400])
    out = BatchConverter([_column("n", Handling.NUMERIC, "numeric")]).convert(
        pa.record_batch([raw], names=["n"])
    )
    values = out.column(0).to_pylist()
    assert values[0] == 1.5
    assert isinstance(values[1], float)
    assert math.isnan(values[1])
    assert values[2:] == [math.inf, -math.inf, None, None, None]
    changes = out.column(CHANGES_COLUMN).to_pylist()
    reason = [{"field": "n", "change": "NULLED", "reason": "SOURCE_FIELD_SIZE_LIMITATION"}]
    assert changes == [None, None, None, None, reason, None, reason]


def test_reals_keep_their_shortest_decimal_value() -> None:
    raw = pa.array([0.1, 3.4e38, None], pa.float32())
    out = BatchConverter([_column("r", Handling.FLOAT, "float4")]).convert(
        pa.record_batch([raw], names=["r"])
    )
    assert out.column(0).to_pylist() == [0.1, 3.4e38, None]


def test_a_clean_batch_gets_no_changes_column() -> None:
    raw = pa.array([0, 19_000, None], pa.date32())
    out = BatchConverter([_column("d", Handling.DATE, "date")]).convert(pa.record_batch([raw], names=["d"]))
    assert out.schema.names == ["d"]


def test_civil_dates_match_the_calendar_and_postgres_spelling() -> None:
    epoch = dt.date(1970, 1, 1)
    for days in range(-719_162, 2_932_897, 997):
        day = epoch + dt.timedelta(days=days)
        assert civil_from_days(days) == (day.year, day.month, day.day)
    assert civil_from_days(-719_163) == (0, 12, 31)  # year 0 is 1 BC
    assert date_text(-719_163) == "0001-12-31 BC"
    assert date_text(-(2**31) + 10_956) == "infinity"  # the driver's wrapped +infinity
    assert timestamp_text(0, with_zone=True) == "1970-01-01 00:00:00.000000+00:00"
    assert timestamp_text(-1, with_zone=False) == "1969-12-31 23:59:59.999999"
