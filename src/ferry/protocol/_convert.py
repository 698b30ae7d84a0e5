"""Generic dict <-> dataclass conversion that keeps unknown fields (the protocol is additionalProperties: true)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

EXTRA = "extra"
"""Every model has an `extra` dict holding the keys this version of Ferry does not know."""


class ProtocolError(ValueError):
    """A message or payload does not have the shape the Airbyte protocol requires."""


_Conv = Callable[[Any, str], Any]


def _identity(value: Any, where: str) -> Any:
    return value


def _dict_value(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _scalar(kind: type) -> _Conv:
    def conv(value: Any, where: str) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ProtocolError(f"{where}: expected {kind.__name__}, got {type(value).__name__}")
        return value

    return conv


def _enum(kind: type[enum.Enum]) -> _Conv:
    def conv(value: Any, where: str) -> Any:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ProtocolError(f"{where}: {value!r} is not one of {allowed}") from None

    return conv


def _list(item: _Conv) -> _Conv:
    def conv(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise ProtocolError(f"{where}: expected an array, got {type(value).__name__}")
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]

    return conv


def _optional(inner: _Conv) -> _Conv:
    def conv(value: Any, where: str) -> Any:
        return None if value is None else inner(value, where)

    return conv


def _converter_for(hint: Any) -> _Conv:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _converter_for(args[0]) if len(args) == 1 else _identity
        return _optional(inner)
    if origin is list:
        (arg,) = typing.get_args(hint)
        return _list(_converter_for(arg))
    if origin is dict or hint is dict:
        return _dict_value
    if hint is Any:
        return _identity
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return lambda value, where: from_obj(hint, value, where)
        if issubclass(hint, enum.Enum):
            return _enum(hint)
        if hint in (str, int, float, bool):
            return _scalar(hint)
    return _identity


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldPlan:
    attr: str
    key: str
    required: bool
    convert: _Conv


_plans: dict[type, tuple[_FieldPlan, ...]] = {}


def _plan(cls: type) -> tuple[_FieldPlan, ...]:
    plan = _plans.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        fields = []
        for f in dataclasses.fields(cls):
            if f.name == EXTRA:
                continue
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            key = f.metadata.get("alias", f.name)
            fields.append(_FieldPlan(f.name, key, required, _converter_for(hints[f.name])))
        plan = _plans[cls] = tuple(fields)
    return plan


def from_obj(cls: type[T], obj: Any, where: str | None = None) -> T:
    """Build `cls` from a decoded JSON object; unknown keys go to `extra`, missing required keys raise."""
    where = where or cls.__name__
    if not isinstance(obj, dict):
        raise ProtocolError(f"{where}: expected an object, got {type(obj).__name__}")
    kwargs: dict[str, Any] = {}
    plan = _plan(cls)
    matched = 0
    for f in plan:
        if f.key in obj:
            matched += 1
            kwargs[f.attr] = f.convert(obj[f.key], f"{where}.{f.key}")
        elif f.required:
            raise ProtocolError(f"{where}: required field {f.key!r} is missing")
    if matched < len(obj):
        known = {f.key for f in plan}
        kwargs[EXTRA] = {k: v for k, v in obj.items() if k not in known}
    return cls(**kwargs)


def _out(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_obj(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_out(v) for v in value]
    return value


def to_obj(model: Any) -> dict[str, Any]:
    """The JSON object for a model: known fields that are set (None is left out, as Airbyte's CDK does), then extras."""
    out: dict[str, Any] = {}
    for f in _plan(type(model)):
        value = getattr(model, f.attr)
        if value is not None:
            out[f.key] = _out(value)
    extra = getattr(model, EXTRA, None)
    if extra:
        for k, v in extra.items():
            out.setdefault(k, v)
    return out
