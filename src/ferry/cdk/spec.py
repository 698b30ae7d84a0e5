"""Connector config: validation against the spec's JSON schema, and the secrets it marks."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema

from ferry.errors import ConfigError

MASK = "**********"


def _path(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "(config)"


def validate_config(
    schema: Mapping[str, Any], config: Mapping[str, Any], connector: str | None = None
) -> None:
    """Raise ConfigError naming the offending field when `config` does not satisfy `schema`."""
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors) or errors[0]
    field = _path(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        field = _path([*error.absolute_path, missing])
        message = f"config is missing the required field '{field}'"
    elif error.validator == "additionalProperties":
        message = f"config has an unknown field at '{field}': {error.message}"
    else:
        message = f"config field '{field}' is invalid: {_describe(schema, error)}"
    for secret in secret_values(schema, config):
        if len(secret) >= 4:  # a secret also typed into a plain field; shorter ones would garble the text
            message = message.replace(secret, MASK)
    raise ConfigError(
        message, hint="Fix the connector config and try again.", field=field, connector=connector
    )


def _describe(schema: Mapping[str, Any], error: jsonschema.ValidationError) -> str:
    """The rule a value breaks; the value itself only when it cannot be, or contain, a secret."""
    path = list(error.absolute_path)
    if not isinstance(error.instance, Mapping | list) and not _touches_secret(schema, path):
        return error.message
    rule = error.validator_value
    if error.validator == "type":
        return f"expected a value of type {rule!r}"
    if error.validator in ("oneOf", "anyOf"):
        return "the value matches none of the allowed options"
    if error.validator in ("enum", "const"):
        return f"the value must be {'one of ' if error.validator == 'enum' else ''}{rule!r}"
    return f"the value breaks the spec's '{error.validator}' rule"


def _touches_secret(schema: Mapping[str, Any], path: list[Any]) -> bool:
    # At or below a secret field, or above one (a string where the secret's parent object belongs).
    keys = tuple(str(p) for p in path if not isinstance(p, int))
    return any(keys[: len(p)] == p or p[: len(keys)] == keys for p in secret_paths(schema))


def _secret_paths(schema: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if not isinstance(schema, Mapping):
        return
    for name, prop in (schema.get("properties") or {}).items():
        path = (*prefix, name)
        if isinstance(prop, Mapping) and prop.get("airbyte_secret"):
            yield path
        yield from _secret_paths(prop, path)
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key) or []:
            yield from _secret_paths(option, prefix)
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from _secret_paths(items, prefix)


def secret_paths(schema: Mapping[str, Any]) -> set[tuple[str, ...]]:
    return set(_secret_paths(schema))


def is_secret_path(schema: Mapping[str, Any], path: list[Any]) -> bool:
    keys = tuple(str(p) for p in path if not isinstance(p, int))
    return any(keys[: len(p)] == p for p in secret_paths(schema))


def _walk(config: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield config
        return
    if isinstance(config, Mapping):
        if path[0] in config:
            yield from _walk(config[path[0]], path[1:])
    elif isinstance(config, list):
        for item in config:
            yield from _walk(item, path)


def secret_values(schema: Mapping[str, Any], config: Mapping[str, Any]) -> set[str]:
    """The secret strings in `config` (values of spec fields marked `airbyte_secret`)."""
    found: set[str] = set()
    for path in secret_paths(schema):
        for value in _walk(config, path):
            if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
                found.add(str(value))
    return found


def mask_config(schema: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `config` with every secret field replaced by the mask."""
    paths = secret_paths(schema)

    def walk(value: Any, prefix: tuple[str, ...]) -> Any:
        if isinstance(value, Mapping):
            return {k: MASK if (*prefix, k) in paths else walk(v, (*prefix, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, prefix) for v in value]
        return value

    out: dict[str, Any] = walk(config, ())
    return out


def typed_like_spec(value: Any, schema: Any) -> Any:
    """`value` with text turned into the integer, number or boolean the spec asks for.

    ${VAR} interpolation in pipeline files always yields text, so `count: ${N}` would otherwise fail
    a spec that wants an integer. Fields the spec types as strings are never touched.
    """
    schema = schema if isinstance(schema, Mapping) else {}
    if isinstance(value, Mapping):
        properties = schema.get("properties") or {}
        return {k: typed_like_spec(v, properties.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_like_spec(v, schema.get("items")) for v in value]
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if not isinstance(value, str) or "string" in kinds:
        return value
    text = value.strip()
    if "integer" in kinds and re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if "number" in kinds and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value
