"""Reading a connector's spec (JSON schema) the way its form needs: types, options, properties, items."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MISSING: Any = object()
"""No value at all (different from None, which JSON can hold)."""


def schema_type(schema: Mapping[str, Any]) -> str:
    """The JSON type a form control edits: the first non-null type, or what the schema implies."""
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    return "string" if "enum" in schema or "const" in schema else "any"


def variants_of(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = schema.get("oneOf") or schema.get("anyOf") or []
    return [v for v in found if isinstance(v, Mapping)]


def items_of(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema of an array's items ({} when it does not say)."""
    items = schema.get("items")
    return items if isinstance(items, Mapping) else {}


def properties_of(schema: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Visible properties in the spec's `order` (then as written)."""
    props = schema.get("properties") or {}
    items = [(k, v) for k, v in props.items() if isinstance(v, Mapping) and not v.get("airbyte_hidden")]
    ranked = sorted(enumerate(items), key=lambda e: (_rank(e[1][1].get("order")), e[0]))
    return [item for _, item in ranked]


def _rank(order: Any) -> int:
    return order if isinstance(order, int) and not isinstance(order, bool) else 1_000_000


def choose_variant(variants: Sequence[Mapping[str, Any]], value: Any) -> int:
    """The option a stored value belongs to: by its constant fields, else by its JSON type."""
    if value is MISSING or value is None:
        return 0
    for i, variant in enumerate(variants):
        consts = {
            k: p["const"]
            for k, p in (variant.get("properties") or {}).items()
            if isinstance(p, Mapping) and "const" in p
        }
        if consts and isinstance(value, Mapping) and all(value.get(k) == c for k, c in consts.items()):
            return i
    for i, variant in enumerate(variants):
        if _fits(variant, value) and not any(
            "const" in p for p in (variant.get("properties") or {}).values() if isinstance(p, Mapping)
        ):
            return i
    return 0


def _fits(variant: Mapping[str, Any], value: Any) -> bool:
    kind = schema_type(variant)
    if isinstance(variant.get("enum"), list) and value not in variant["enum"]:
        return False
    checks = {
        "object": isinstance(value, Mapping),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }
    return checks.get(kind, True)


def variant_label(variant: Mapping[str, Any], index: int) -> str:
    if variant.get("title"):
        return str(variant["title"])
    consts = [
        as_text(p["const"])
        for p in (variant.get("properties") or {}).values()
        if isinstance(p, Mapping) and "const" in p
    ]
    if consts:
        return ", ".join(consts)
    kind = schema_type(variant)
    described = {"string": "a value", "object": "detailed settings"}.get(kind, kind)
    return f"Option {index + 1}: {described}"


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return str(value)
