"""The JSON-lines codec: one Airbyte message per line, decoded with orjson into the protocol models."""

from __future__ import annotations

from typing import Any

import orjson

from ferry.protocol._convert import ProtocolError, from_obj, to_obj
from ferry.protocol.models import Message, RecordMessage, Type

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    # Records may carry Decimal, datetime subclasses orjson does not know, bytes, sets: make them JSON.
    import base64
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dumps(obj: Any) -> bytes:
    """JSON bytes with a trailing newline; tolerant of the Python values records commonly hold."""
    try:
        return orjson.dumps(obj, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        return _dumps_slow(obj, exc)


def _dumps_slow(obj: Any, error: orjson.JSONEncodeError) -> bytes:
    # orjson stops at 64-bit integers; a source may hold bigger ones (numeric(38,0)), so the rare
    # record that has one goes through the standard library, which writes every digit.
    import json

    try:
        text = json.dumps(obj, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8") + b"\n"
    except (TypeError, ValueError):
        raise error from None


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def message_from_obj(obj: Any) -> Message:
    """A Message from a decoded JSON object, with a fast path for RECORD (the hot one)."""
    if not isinstance(obj, dict) or "type" not in obj:
        raise ProtocolError("not an Airbyte message: expected an object with a 'type'")
    if obj["type"] == "RECORD" and len(obj) == 2:
        rec = obj.get("record")
        if isinstance(rec, dict) and "meta" not in rec and "file_reference" not in rec:
            try:
                stream, data, emitted_at = rec["stream"], rec["data"], rec["emitted_at"]
            except KeyError:
                pass
            else:
                namespace = rec.get("namespace")
                # Anything the slow path would convert or reject (bool is an int subclass) goes there.
                if (
                    isinstance(stream, str)
                    and isinstance(data, dict)
                    and type(emitted_at) is int
                    and (namespace is None or isinstance(namespace, str))
                ):
                    known = 4 if "namespace" in rec else 3
                    extra = (
                        {k: v for k, v in rec.items() if k not in _RECORD_KEYS} if len(rec) > known else {}
                    )
                    return Message(
                        Type.RECORD, record=RecordMessage(stream, data, emitted_at, namespace, extra=extra)
                    )
    return from_obj(Message, obj, "AirbyteMessage")


_RECORD_KEYS = frozenset({"stream", "data", "emitted_at", "namespace"})


def decode(line: bytes | str) -> Message:
    """Decode one line; raises ProtocolError when it is not JSON or not an Airbyte message."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    return message_from_obj(obj)


def message_to_obj(message: Message) -> dict[str, Any]:
    return to_obj(message)


def encode(message: Message) -> bytes:
    """One line of JSON (newline included)."""
    return dumps(to_obj(message))
