"""A connector's spec (JSON schema) as form fields: types, enums, oneOf groups, arrays, defaults, secrets.

Field names encode where a value goes: `cfg.streams.0.path` is `config["streams"][0]["path"]`; a oneOf
group at `cfg.ssl_mode` posts the chosen option as `cfg.ssl_mode.__option` and that option's fields
under `cfg.ssl_mode.__<i>`. `spec_values.parse` reads a posted form back by walking the same schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ferry.web.spec_schema import (
    MISSING,
    as_text,
    choose_variant,
    items_of,
    properties_of,
    schema_type,
    variant_label,
    variants_of,
)

PREFIX = "cfg"


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass
class Field:
    """One control (or group of controls) of the form, ready for the template."""

    kind: str
    name: str
    path: str
    label: str
    description: str | None = None
    required: bool = False
    value: str = ""
    checked: bool = False
    options: list[Option] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    template: Field | None = None
    token: str = ""
    next_index: int = 0
    placeholder: str | None = None
    minimum: str | None = None
    maximum: str | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    @property
    def has_error(self) -> bool:
        """True when this field or one inside it has an error (its group is then shown open)."""
        return bool(self.error) or any(c.has_error for c in self.children)

    @property
    def add_label(self) -> str:
        return f"Add {_singular(self.label).lower()}"


def build(schema: Mapping[str, Any], config: Any, errors: Mapping[str, str] | None = None) -> list[Field]:
    """The fields of a connector config form, filled from `config` (or the spec's defaults)."""
    builder = _Builder(errors or {})
    return builder.properties(schema, config if isinstance(config, Mapping) else {}, PREFIX, "", 0)


class _Builder:
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = errors

    def properties(
        self, schema: Mapping[str, Any], value: Mapping[str, Any], name: str, path: str, depth: int
    ) -> list[Field]:
        required = set(schema.get("required") or [])
        return [
            self.field(
                sub,
                value.get(key, MISSING),
                name=f"{name}.{key}",
                path=_join(path, key),
                key=key,
                required=key in required,
                depth=depth,
            )
            for key, sub in properties_of(schema)
        ]

    def field(
        self,
        schema: Mapping[str, Any],
        value: Any,
        *,
        name: str,
        path: str,
        key: str,
        required: bool,
        depth: int,
    ) -> Field:
        if value is MISSING and "default" in schema:
            value = schema["default"]
        base = Field(
            kind="text",
            name=name,
            path=path,
            label=str(schema.get("title") or _humanise(key)),
            description=schema.get("description"),
            required=required,
            error=self.errors.get(path),
        )
        if variants_of(schema):
            return self.one_of(base, schema, value, depth)
        if "const" in schema:
            base.kind, base.value = "const", as_text(schema["const"])
            return base
        kind = schema_type(schema)
        if isinstance(schema.get("enum"), list) and kind != "array":
            return _select(base, schema["enum"], value, required)
        if kind == "object":
            return self.group(base, schema, value, depth)
        if kind == "array":
            return self.array(base, schema, value, depth)
        return _scalar(base, schema, kind, value)

    def group(self, base: Field, schema: Mapping[str, Any], value: Any, depth: int) -> Field:
        if not schema.get("properties"):
            base.kind, base.value = "json", "" if value in (MISSING, None) else json.dumps(value, indent=2)
            return base
        base.kind = "object"
        base.children = self.properties(
            schema, value if isinstance(value, Mapping) else {}, base.name, base.path, depth
        )
        return base

    def array(self, base: Field, schema: Mapping[str, Any], value: Any, depth: int) -> Field:
        items = items_of(schema)
        values = value if isinstance(value, list) else []
        if isinstance(items.get("enum"), list):
            base.kind = "checks"
            base.options = [Option(as_text(e), as_text(e), e in values) for e in items["enum"]]
            return base
        if schema_type(items) in ("string", "integer", "number"):
            base.kind, base.value = "lines", "\n".join(as_text(v) for v in values)
            return base
        if schema_type(items) != "object" or not items.get("properties"):
            base.kind, base.value = "json", "" if value in (MISSING, None) else json.dumps(value, indent=2)
            return base
        count = len(values) if values else int(schema.get("minItems") or 0)
        base.kind, base.token = "array", f"__IDX{depth}__"
        base.children = [
            self.item(base, items, values[i] if i < len(values) else MISSING, str(i), depth)
            for i in range(count)
        ]
        base.template = self.item(base, items, MISSING, base.token, depth)
        base.next_index = count
        return base

    def item(self, array: Field, schema: Mapping[str, Any], value: Any, index: str, depth: int) -> Field:
        name, path = f"{array.name}.{index}", _join(array.path, index)
        number = int(index) + 1 if index.isdigit() else 0
        label = f"{_singular(array.label)} {number}" if number else _singular(array.label)
        children = self.properties(schema, value if isinstance(value, Mapping) else {}, name, path, depth + 1)
        return Field(
            kind="item", name=name, path=path, label=label, children=children, error=self.errors.get(path)
        )

    def one_of(self, base: Field, schema: Mapping[str, Any], value: Any, depth: int) -> Field:
        variants = variants_of(schema)
        chosen = choose_variant(variants, value)
        base.kind = "oneof"
        base.options = [Option(str(i), variant_label(v, i), i == chosen) for i, v in enumerate(variants)]
        for i, variant in enumerate(variants):
            own = value if i == chosen else MISSING
            vname = f"{base.name}.__{i}"
            if schema_type(variant) == "object":
                mapping = own if isinstance(own, Mapping) else {}
                children = self.properties(variant, mapping, vname, base.path, depth)
            else:
                children = [
                    self.field(
                        variant, own, name=vname, path=base.path, key="value", required=True, depth=depth
                    )
                ]
                children[0].label = base.label
            base.children.append(
                Field(
                    kind="variant",
                    name=vname,
                    path=base.path,
                    label=base.options[i].label,
                    description=variant.get("description"),
                    checked=i == chosen,
                    children=children,
                )
            )
        return base


def _select(base: Field, choices: list[Any], value: Any, required: bool) -> Field:
    base.kind = "select"
    selected = as_text(value) if value not in (MISSING, None) else ""
    base.options = (
        []
        if required and selected
        else [Option("", "— choose —" if required else "— not set —", not selected)]
    )
    base.options += [Option(as_text(c), as_text(c), as_text(c) == selected) for c in choices]
    return base


def _scalar(base: Field, schema: Mapping[str, Any], kind: str, value: Any) -> Field:
    present = value not in (MISSING, None)
    if kind == "boolean":
        base.kind, base.checked = "checkbox", value is True
        return base
    if kind == "any":
        base.kind, base.value = "json", json.dumps(value, indent=2) if present else ""
        return base
    base.value = as_text(value) if present else ""
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        base.placeholder = as_text(examples[0])
    if kind in ("integer", "number"):
        base.kind = kind
        base.minimum, base.maximum = _bound(schema, "minimum"), _bound(schema, "maximum")
    elif schema.get("airbyte_secret"):
        base.kind = "password"
    elif schema.get("multiline"):
        base.kind = "textarea"
    return base


def _bound(schema: Mapping[str, Any], key: str) -> str | None:
    # Exclusive bounds are left to the server's check: a browser's min would wrongly allow the bound.
    value = schema.get(key)
    return as_text(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _humanise(key: str) -> str:
    words = re.sub(r"[_\-]+", " ", key).strip()
    return words[:1].upper() + words[1:] if words else key


def _singular(label: str) -> str:
    if label.endswith("ies"):
        return label[:-3] + "y"
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else label
