"""The JSON-lines codec: clear errors for lines that are not messages, a RECORD fast path that agrees
with the general path, and values (numbers, unicode, NUL) that come back exactly as they went in."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.protocol import (
    Message,
    ProtocolError,
    RecordMessage,
    Type,
    decode,
    dumps,
    encode,
    from_obj,
    loads,
    message_from_obj,
    record_message,
    to_obj,
)


def _record_line(data: dict[str, Any]) -> bytes:
    return dumps({"type": "RECORD", "record": {"stream": "s", "data": data, "emitted_at": 1}})


def _round_trip(data: dict[str, Any]) -> dict[str, Any]:
    message = decode(encode(decode(_record_line(data))))
    assert message.record is not None
    return message.record.data


# --- lines that are not messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"\n",
        b"hello world",
        b"Traceback (most recent call last):",
        b'{"type": "RECORD", ',
        b"{'type': 'LOG'}",
        b"\xff\xfe{}",
        b'{"type": "LOG", "log": {"level": "INFO", "message": "\xc3"}}',
        b'{"a": "\\ud800"}',  # a lone surrogate is not valid Unicode
        b"NaN",
    ],
)
def test_non_json_line_raises_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"^not JSON: "):
        decode(line)


@pytest.mark.parametrize("line", [b"[]", b"1", b'"RECORD"', b"null", b"{}", b'{"record": {"stream": "s"}}'])
def test_json_that_is_not_a_message_raises_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"^not an Airbyte message: expected an object with a 'type'"):
        decode(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"type": "BANANA"}', r"AirbyteMessage\.type: 'BANANA' is not one of RECORD, STATE, LOG"),
        (
            b'{"type": "RECORD", "record": {"stream": "s"}}',
            r"AirbyteMessage\.record: required field 'data' is missing",
        ),
        (b'{"type": "RECORD", "record": []}', r"AirbyteMessage\.record: expected an object, got list"),
        (
            b'{"type": "RECORD", "record": {"stream": "s", "data": [1], "emitted_at": 1}}',
            r"AirbyteMessage\.record\.data: expected an object, got list",
        ),
        (
            b'{"type": "RECORD", "record": {"stream": "s", "data": {}, "emitted_at": "yesterday"}}',
            r"AirbyteMessage\.record\.emitted_at: expected int, got str",
        ),
        (
            b'{"type": "RECORD", "record": {"stream": "s", "data": {}, "emitted_at": 1.5}}',
            r"AirbyteMessage\.record\.emitted_at: expected int, got float",
        ),
        (
            b'{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {}}}}',
            r"AirbyteMessage\.state\.stream\.stream_descriptor: required field 'name' is missing",
        ),
        (
            b'{"type": "STATE", "state": {"sourceStats": {"recordCount": "3"}}}',
            r"AirbyteMessage\.state\.sourceStats\.recordCount: expected float, got str",
        ),
        (
            b'{"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1, "error": {"message": "x", '
            b'"failure_type": "oops"}}}',
            r"AirbyteMessage\.trace\.error\.failure_type: 'oops' is not one of system_error, config_error",
        ),
        (
            b'{"type": "CATALOG", "catalog": {"streams": [{"name": "a", "json_schema": {}, '
            b'"supported_sync_modes": ["sometimes"]}]}}',
            r"AirbyteMessage\.catalog\.streams\[0\]\.supported_sync_modes\[0\]: 'sometimes' is not one of",
        ),
    ],
)
def test_malformed_message_error_names_the_place(line: bytes, expected: str) -> None:
    with pytest.raises(ProtocolError, match=expected):
        decode(line)


def test_protocol_error_is_a_value_error() -> None:
    # Callers that treat any bad input as ValueError keep working.
    assert issubclass(ProtocolError, ValueError)


def test_decode_accepts_str_and_line_endings() -> None:
    line = '{"type":"LOG","log":{"level":"INFO","message":"hi"}}'
    assert decode(line) == decode(line.encode() + b"\r\n") == decode(" " + line + "\n")


# --- the RECORD fast path ----------------------------------------------------------------------

_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=5,
)
_MAYBE_RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "stream": st.text(max_size=5) | st.integers() | st.none(),
        "data": st.dictionaries(st.text(max_size=4), _ANY_JSON, max_size=3)
        | st.lists(st.integers(), max_size=2),
        "emitted_at": st.integers(-1, 2**53)
        | st.booleans()
        | st.floats(allow_nan=False)
        | st.text(max_size=3),
        "namespace": st.text(max_size=5) | st.none() | st.integers(),
        "meta": st.just(
            {"changes": [{"field": "a", "change": "NULLED", "reason": "SOURCE_RETRIEVAL_ERROR"}]}
        ),
        "x_unknown": _ANY_JSON,
        "x_other": st.text(max_size=3),
    },
)
_RECORD_ENVELOPES = st.builds(
    lambda record, extra: {"type": "RECORD", "record": record, **extra},
    _MAYBE_RECORDS,
    st.just({}) | st.just({"x_envelope": 1}),
)


def _outcome(parse: Any, obj: dict[str, Any]) -> tuple[str, Any]:
    try:
        message = parse(obj)
    except ProtocolError as exc:
        return "error", str(exc)
    # orjson's bytes tell true from 1 and 1.0 from 1, which == would not.
    return "ok", dumps(to_obj(message))


@settings(max_examples=500)
@given(_RECORD_ENVELOPES)
def test_record_fast_path_equals_general_path(obj: dict[str, Any]) -> None:
    fast = _outcome(message_from_obj, obj)
    slow = _outcome(lambda o: from_obj(Message, o, "AirbyteMessage"), obj)
    assert fast == slow


def test_fast_path_keeps_unknown_record_fields_without_namespace() -> None:
    message = decode(b'{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1,"x_trace_id":"abc"}}')
    assert message.record is not None
    assert message.record.extra == {"x_trace_id": "abc"}
    assert b'"x_trace_id":"abc"' in encode(message)


def test_fast_path_gives_plain_record_message() -> None:
    message = decode(
        b'{"type":"RECORD","record":{"stream":"s","namespace":"n","data":{"a":1},"emitted_at":7}}'
    )
    assert message == Message(Type.RECORD, record=RecordMessage("s", {"a": 1}, 7, "n"))
    assert type(message.type) is Type


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [0, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, 9_007_199_254_740_993],
)
def test_64_bit_integers_survive_exactly(value: int) -> None:
    out = _round_trip({"v": value, "nested": [{"v": value}]})
    assert out == {"v": value, "nested": [{"v": value}]}
    assert type(out["v"]) is int


@pytest.mark.parametrize(
    "value", [2**64, -(2**63) - 1, 10**32, -(10**38) + 1, 123456789012345678901234567890]
)
def test_integers_beyond_64_bits_are_written_with_every_digit(value: int) -> None:
    # A source may hold numeric(38,0) values as Python ints; writing them must not fail or round.
    line = encode(record_message("s", {"v": value, "s": "ü"}, emitted_at=1))
    assert str(value).encode() in line
    assert json.loads(line)["record"]["data"] == {"v": value, "s": "ü"}
    assert line.endswith(b"}\n")
    assert line.count(b"\n") == 1


def test_integers_beyond_64_bits_decode_to_the_nearest_double() -> None:
    # orjson reads integers outside the 64-bit range as doubles. Pinned so that a change is deliberate:
    # such values only fit a `number` column (a double) downstream anyway.
    line = _record_line({"v": 10**32 + 1})
    assert b'"v":100000000000000000000000000000001' in line
    message = decode(line)
    assert message.record is not None
    assert message.record.data["v"] == float(10**32 + 1) == 1e32


@settings(max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_survive_exactly(value: float) -> None:
    out = _round_trip({"v": value})["v"]
    assert type(out) is float
    assert out == value
    assert math.copysign(1, out) == math.copysign(1, value)


@pytest.mark.parametrize("value", [0.1, 1.0, -0.0, 5e-324, 1.7976931348623157e308, 1e16, 2.5e-7, 100.0])
def test_float_edge_values_keep_their_type_and_value(value: float) -> None:
    out = _round_trip({"v": value})["v"]
    assert type(out) is float
    assert repr(out) == repr(value)


def test_out_of_range_float_is_a_protocol_error_not_a_crash() -> None:
    with pytest.raises(ProtocolError):
        decode(b'{"type":"RECORD","record":{"stream":"s","data":{"v":1e400},"emitted_at":1}}')


# --- text --------------------------------------------------------------------------------------

_TEXTS = [
    "plain",
    "Zoë Ærøskøbing",
    "Ελληνικά",
    "東京都",
    "한국어",
    "עברית العربية",
    "emoji 🚀👩‍👩‍👧‍👦🇩🇪",
    "e\u0301 combining",
    "nul \x00 inside",
    "\x00",
    "controls \x01\x1f\x7f",
    "line\nbreak\r\ttab",
    "separators \u2028 \u2029",
    "quotes \" \\ / '",
    "\ufeff bom",
    "\U0010ffff max code point",
]


@pytest.mark.parametrize("text", _TEXTS)
def test_unicode_and_nul_survive_in_values_and_keys(text: str) -> None:
    data = {text: text, "list": [text], "obj": {"k": text}}
    line = encode(record_message(text, data, namespace=text, emitted_at=1))
    assert line.count(b"\n") == 1, "a raw newline inside a value would split the message"
    line.decode("utf-8")  # valid UTF-8 throughout
    message = decode(line)
    assert message.record is not None
    assert message.record.data == data
    assert message.record.stream == text
    assert message.record.namespace == text


@settings(max_examples=300)
@given(st.dictionaries(st.text(), st.text() | st.lists(st.text(), max_size=3), max_size=5))
def test_any_text_survives(data: dict[str, Any]) -> None:
    line = encode(record_message("s", data, emitted_at=1))
    assert line.count(b"\n") == 1
    assert _round_trip(data) == data


def test_escaped_unicode_decodes() -> None:
    message = decode(b'{"type":"LOG","log":{"level":"INFO","message":"caf\\u00e9 \\ud83d\\ude80 \\u0000"}}')
    assert message.log is not None
    assert message.log.message == "café 🚀 \x00"


# --- Python values sources commonly hold -------------------------------------------------------


def test_python_values_records_hold_become_json() -> None:
    when = dt.datetime(2024, 2, 29, 12, 30, 15, 123456, tzinfo=dt.UTC)
    data = {
        "decimal": decimal.Decimal("12.50"),
        "decimal_nan": decimal.Decimal("NaN"),
        "bytes": b"\x00\xffbin",
        "datetime": when,
        "naive": dt.datetime(2024, 1, 1, 0, 0),
        "date": dt.date(2024, 2, 29),
        "time": dt.time(23, 59, 59),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "tuple": (1, "a"),
        "set": {7},
        "int_key_map": {1: "one"},
    }
    out = loads(dumps(data))
    assert out == {
        "decimal": 12.5,
        "decimal_nan": "NaN",
        "bytes": "AP9iaW4=",
        "datetime": "2024-02-29T12:30:15.123456+00:00",
        "naive": "2024-01-01T00:00:00",
        "date": "2024-02-29",
        "time": "23:59:59",
        "uuid": "12345678-1234-5678-1234-567812345678",
        "tuple": [1, "a"],
        "set": [7],
        "int_key_map": {"1": "one"},
    }
