"""A posted connector form back into a config, by walking the spec that `spec_form` rendered it from.

Empty inputs are left out, so the spec's defaults and `required` rules apply; values that do not
parse as their type are kept as typed, so the spec's validation names the field. A secret posted as
the mask stays the mask: the secrets service then keeps the stored secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ferry.web.spec_form import PREFIX
from ferry.web.spec_schema import MISSING, as_text, items_of, properties_of, schema_type, variants_of

Fields = Mapping[str, list[str]]


def parse(schema: Mapping[str, Any], fields: Fields, prefix: str = PREFIX) -> dict[str, Any]:
    """The config a form holds (an object, possibly empty)."""
    return _object(schema, fields, prefix)


def _object(schema: Mapping[str, Any], fields: Fields, name: str) -> dict[str, Any]:
    out = {}
    for key, sub in properties_of(schema):
        value = _value(sub, fields, f"{name}.{key}")
        if value is not MISSING:
            out[key] = value
    return out


def _value(schema: Mapping[str, Any], fields: Fields, name: str) -> Any:
    variants = variants_of(schema)
    if variants:
        chosen = _int(_first(fields, f"{name}.__option"))
        index = chosen if chosen is not None and 0 <= chosen < len(variants) else 0
        return _value(variants[index], fields, f"{name}.__{index}")
    if "const" in schema:
        return schema["const"]
    kind = schema_type(schema)
    if isinstance(schema.get("enum"), list) and kind != "array":
        return _enum(schema["enum"], _first(fields, name))
    if kind == "boolean":
        posted = fields.get(name)
        # A hidden "false" precedes each checkbox, so the last value is the box's state.
        return posted[-1] == "true" if posted else MISSING
    if kind == "object" and schema.get("properties"):
        return _object(schema, fields, name) or MISSING
    if kind == "array":
        return _array(schema, fields, name)
    if kind in ("object", "any"):
        return _json(_first(fields, name))
    return _scalar(kind, _first(fields, name))


def _array(schema: Mapping[str, Any], fields: Fields, name: str) -> Any:
    items = items_of(schema)
    item_kind = schema_type(items)
    if isinstance(items.get("enum"), list):
        chosen = [_enum(items["enum"], v) for v in fields.get(name, []) if v]
        return chosen or MISSING
    if item_kind in ("string", "integer", "number"):
        lines = [line.strip() for line in (_first(fields, name) or "").splitlines() if line.strip()]
        return [_scalar(item_kind, line) for line in lines] or MISSING
    if item_kind != "object" or not items.get("properties"):
        return _json(_first(fields, name))
    found = [_object(items, fields, f"{name}.{i}") for i in _indices(fields, name)]
    return [item for item in found if item] or MISSING


def _indices(fields: Fields, name: str) -> list[int]:
    """The item numbers posted under an array (gaps where items were removed are fine)."""
    prefix = f"{name}."
    seen = set()
    for key in fields:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                seen.add(int(head))
    return sorted(seen)


def _enum(choices: list[Any], text: str | None) -> Any:
    if not text:
        return MISSING
    return next((c for c in choices if as_text(c) == text), text)


def _scalar(kind: str, text: str | None) -> Any:
    if text is None or text == "":
        return MISSING
    if kind == "integer":
        return _number(text, integer=True)
    if kind == "number":
        return _number(text, integer=False)
    return text


def _number(text: str, *, integer: bool) -> Any:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    if integer:
        return text
    try:
        return float(stripped)
    except ValueError:
        return text


def _json(text: str | None) -> Any:
    if text is None or not text.strip():
        return MISSING
    try:
        return json.loads(text)
    except ValueError:
        return text


def _first(fields: Fields, name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
