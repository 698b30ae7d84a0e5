"""Forms generated from real connector specs: every control labelled, posted values read back exactly.

A form is rendered to HTML with the UI's own templates, "filled in" by reading the HTML's controls
the way a browser submits them, and parsed back with the same spec.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from ferry.cdk.spec import MASK, validate_config
from ferry.connectors import registry
from ferry.errors import ConfigError
from ferry.web import render, spec_form, spec_values
from ferry.web.pages.actors import typed_secrets_removed

Fields = dict[str, list[str]]


def spec(kind: str, name: str) -> dict[str, Any]:
    connector = registry.source(name) if kind == "source" else registry.destination(name)
    return dict(connector.spec().connection_specification)


class _Controls(HTMLParser):
    """What a browser would submit from a form (enabled controls only), and which controls have labels."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: Fields = {}
        self.ids: list[str] = []
        self.labelled: set[str] = set()
        self._disabled = 0
        self._template = 0
        self._select: tuple[str, bool] | None = None
        self._textarea: str | None = None
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("fieldset", "template"):
            self._stack.append(tag if tag == "template" else ("off" if "disabled" in a else "on"))
            self._disabled += self._stack[-1] == "off"
            self._template += tag == "template"
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])
        live = not self._disabled and not self._template
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden" and a.get("id") and live:
            self.ids.append(a["id"])
        if tag == "input" and live:
            checkable = a.get("type") in ("checkbox", "radio")
            if not checkable or "checked" in a:
                self.fields.setdefault(a["name"], []).append(a.get("value", "on"))
        elif tag == "select":
            self._select = (a["name"], live)
        elif tag == "option" and self._select and self._select[1] and "selected" in a:
            self.fields.setdefault(self._select[0], []).append(a.get("value", ""))
        elif tag == "textarea" and live:
            self._textarea = a["name"]
            self.fields.setdefault(a["name"], []).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("fieldset", "template") and self._stack:
            top = self._stack.pop()
            self._disabled -= top == "off"
            self._template -= top == "template"
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea][-1] += data


def submitted(schema: dict[str, Any], config: Any, errors: dict[str, str] | None = None) -> _Controls:
    fields = spec_form.build(schema, config, errors)
    html = render.ENV.from_string(
        '{% import "_spec_fields.html" as spec %}{% for f in fields %}{{ spec.field(f) }}{% endfor %}'
    ).render(fields=fields)
    controls = _Controls()
    controls.feed(html)
    return controls


def roundtrip(schema: dict[str, Any], config: Any) -> dict[str, Any]:
    return spec_values.parse(schema, submitted(schema, config).fields)


@pytest.mark.parametrize(
    ("kind", "name"),
    [(k, n) for k in ("source", "destination") for n in registry.names(k)],
)
def test_every_builtin_form_has_a_label_for_each_control(kind: str, name: str) -> None:
    controls = submitted(spec(kind, name), None)
    unlabelled = [i for i in controls.ids if i not in controls.labelled]
    assert not unlabelled, unlabelled


def test_file_source_with_two_streams_round_trips() -> None:
    schema = spec("source", "file")
    config = {
        "streams": [
            {"name": "orders", "path": "/data/orders.csv", "primary_key": ["id", "region"], "format": "csv"},
            {"name": "items", "path": "/data/items.tsv", "csv_options": {"delimiter": "|", "header": False}},
        ],
        "http_timeout_seconds": 12.5,
    }
    back = roundtrip(schema, config)
    assert back["streams"][0]["primary_key"] == ["id", "region"]
    assert back["streams"][0]["format"] == "csv"
    assert back["streams"][1]["csv_options"]["delimiter"] == "|"
    assert back["streams"][1]["csv_options"]["header"] is False
    assert back["http_timeout_seconds"] == 12.5
    validate_config(schema, back, "file")


def test_a_new_form_starts_from_the_defaults() -> None:
    schema = spec("source", "file")
    controls = submitted(schema, None)
    assert controls.fields["cfg.streams.0.compression"] == ["auto"]  # minItems 1 gives one stream
    assert controls.fields["cfg.http_timeout_seconds"] == ["60.0"]
    assert controls.fields["cfg.streams.0.csv_options.header"] == ["false", "true"]  # checked by default
    assert "cfg.streams.1.name" not in controls.fields
    assert spec_values.parse(schema, controls.fields)["streams"][0]["compression"] == "auto"


def test_array_items_can_be_added_removed_and_left_with_gaps() -> None:
    schema = spec("source", "file")
    fields: Fields = {
        "cfg.streams.0.name": ["a"],
        "cfg.streams.0.path": ["a.csv"],
        "cfg.streams.3.name": ["b"],
        "cfg.streams.3.path": ["b.csv"],
        "cfg.streams.5.name": [""],
        "cfg.streams.5.path": [""],
    }
    assert spec_values.parse(schema, fields) == {
        "streams": [{"name": "a", "path": "a.csv"}, {"name": "b", "path": "b.csv"}]
    }
    template = spec_form.build(schema, None)[0].template
    assert template is not None
    assert template.children[0].name == "cfg.streams.__IDX0__.name"


def test_one_of_groups_show_the_stored_option_and_post_only_the_chosen_one() -> None:
    schema = spec("source", "postgres")
    as_text = {"host": "h", "database": "d", "username": "u", "ssl_mode": "require"}
    as_object = {**as_text, "ssl_mode": {"mode": "verify-ca", "ca_certificate": "PEM"}}
    assert roundtrip(schema, as_text)["ssl_mode"] == "require"
    assert roundtrip(schema, as_object)["ssl_mode"] == {"mode": "verify-ca", "ca_certificate": "PEM"}
    controls = submitted(schema, as_object)
    assert controls.fields["cfg.ssl_mode.__option"] == ["1"]
    assert "cfg.ssl_mode.__0" not in controls.fields  # the other option's fieldset is disabled
    chosen = dict(controls.fields, **{"cfg.ssl_mode.__option": ["0"], "cfg.ssl_mode.__0": ["disable"]})
    assert spec_values.parse(schema, chosen)["ssl_mode"] == "disable"


def test_one_of_options_told_apart_by_constants() -> None:
    schema = spec("source", "mysql")
    config = {
        "host": "h",
        "database": "d",
        "username": "u",
        "ssl_mode": {"mode": "verify_ca", "ca_certificate": "PEM"},
    }
    ssl = next(f for f in spec_form.build(schema, config) if f.name == "cfg.ssl_mode")
    assert [o.label for o in ssl.options][:2] == ["preferred", "required"]
    assert [o.selected for o in ssl.options].index(True) == 2
    assert roundtrip(schema, config)["ssl_mode"] == {"mode": "verify_ca", "ca_certificate": "PEM"}


def test_secrets_are_password_inputs_and_the_mask_is_posted_back() -> None:
    schema = spec("destination", "postgres")
    stored = {"host": "h", "port": 5432, "database": "d", "username": "u", "password": MASK}
    password = next(f for f in spec_form.build(schema, stored) if f.name == "cfg.password")
    assert password.kind == "password"
    assert password.value == MASK
    assert roundtrip(schema, stored)["password"] == MASK
    typed = {**stored, "password": "hunter2-typed"}
    assert "password" not in typed_secrets_removed(schema, typed)
    assert typed_secrets_removed(schema, stored)["password"] == MASK


def test_values_that_do_not_fit_are_kept_for_validation_to_name() -> None:
    schema = spec("source", "sample-data")
    back = spec_values.parse(
        schema, {"cfg.count": ["lots"], "cfg.seed": [" 7 "], "cfg.records_per_checkpoint": [""]}
    )
    assert back == {"count": "lots", "seed": 7}
    with pytest.raises(ConfigError) as raised:
        validate_config(schema, back)
    assert raised.value.field == "count"
    field = next(f for f in spec_form.build(schema, back, {"count": "not a number"}) if f.name == "cfg.count")
    assert field.error == "not a number"


def test_enums_free_form_objects_and_lists() -> None:
    schema = {
        "type": "object",
        "required": ["level"],
        "properties": {
            "level": {"type": "string", "enum": ["low", "high"]},
            "size": {"type": "integer", "enum": [1, 2, 3]},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
            "ports": {"type": "array", "items": {"type": "integer"}},
            "extra": {"type": "object"},
            "flag": {"type": "boolean"},
        },
    }
    fields = {f.name: f for f in spec_form.build(schema, None)}
    assert fields["cfg.level"].kind == "select"
    assert [o.value for o in fields["cfg.size"].options] == ["", "1", "2", "3"]  # optional: "not set" first
    assert fields["cfg.tags"].kind == "checks"
    assert fields["cfg.ports"].kind == "lines"
    assert fields["cfg.extra"].kind == "json"
    config = {
        "level": "high",
        "size": 2,
        "tags": ["a", "c"],
        "ports": [80, 443],
        "extra": {"k": [1]},
        "flag": True,
    }
    assert roundtrip(schema, config) == config
    assert roundtrip(schema, {"level": "low"}) == {"level": "low", "flag": False}
