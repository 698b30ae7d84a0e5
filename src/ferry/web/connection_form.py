"""The connection form's settings besides streams: name, schedule, namespace, prefix, status.

`Values` holds what the form shows, from a stored connection or from a post; `settings` turns a
post into the connections service's `Settings`, which checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ferry.control.schedule import BASIC_UNITS
from ferry.control.services.connections import NAMESPACE_DEFINITIONS, Schedule, Settings
from ferry.control.store.models import Connection

Fields = Mapping[str, list[str]]
TIME_UNITS = (*BASIC_UNITS, "months")
SCHEDULE_TYPES = (("manual", "Manual"), ("basic", "Every…"), ("cron", "Cron expression"))
NAMESPACES = {
    "destination": "Destination default",
    "source": "Mirror the source (its namespace)",
    "custom_format": "Custom format",
}


@dataclass
class Values:
    name: str = ""
    schedule_type: str = "manual"
    units: str = "24"
    time_unit: str = "hours"
    cron_expression: str = "0 0 * * * ?"
    time_zone: str = "UTC"
    namespace_definition: str = "destination"
    namespace_format: str = "${SOURCE_NAMESPACE}"
    prefix: str = ""
    status: str = "active"


def values_of(row: Connection) -> Values:
    return Values(
        name=row.name,
        schedule_type=row.schedule_type,
        units=str(row.basic_units or 24),
        time_unit=row.basic_time_unit or "hours",
        cron_expression=row.cron_expression or "0 0 * * * ?",
        time_zone=row.cron_time_zone or "UTC",
        namespace_definition=row.namespace_definition,
        namespace_format=row.namespace_format or "${SOURCE_NAMESPACE}",
        prefix=row.prefix,
        status=row.status,
    )


def posted_values(fields: Fields) -> Values:
    def get(name: str, default: str) -> str:
        values = fields.get(name)
        return values[0] if values else default

    defaults = Values()
    return Values(
        name=get("name", "").strip(),
        schedule_type=get("schedule_type", "manual"),
        units=get("units", defaults.units).strip(),
        time_unit=get("time_unit", defaults.time_unit),
        cron_expression=get("cron_expression", "").strip(),
        time_zone=get("time_zone", "UTC").strip() or "UTC",
        namespace_definition=get("namespace_definition", "destination"),
        namespace_format=get("namespace_format", "").strip(),
        prefix=get("prefix", "").strip(),
        # The edit form posts a hidden "inactive" before the checkbox; the last value is the box's.
        status="active" if (fields.get("status") or ["active"])[-1] == "active" else "inactive",
    )


def settings(values: Values, streams: list[dict[str, object]] | None) -> Settings:
    """The service's settings for the posted values; the service says what is wrong with them."""
    schedule = Schedule(values.schedule_type)
    if values.schedule_type == "basic":
        units = int(values.units) if values.units.isdigit() else 0
        schedule = Schedule("basic", units=units, time_unit=values.time_unit)
    elif values.schedule_type == "cron":
        schedule = Schedule("cron", values.cron_expression, values.time_zone)
    custom = values.namespace_definition == "custom_format"
    return Settings(
        name=values.name or None,
        streams=streams,
        schedule=schedule,
        namespace_definition=values.namespace_definition
        if values.namespace_definition in NAMESPACE_DEFINITIONS
        else "destination",
        namespace_format=values.namespace_format if custom else None,
        prefix=values.prefix,
        status=values.status,
    )


def schedule_text(row: Connection) -> str:
    if row.schedule_type == "basic":
        return f"every {row.basic_units} {row.basic_time_unit}"
    if row.schedule_type == "cron":
        return f"cron {row.cron_expression} ({row.cron_time_zone})"
    return "manual"


def section_of(field: str | None) -> str:
    """Where on the form an error of the service belongs."""
    where = field or ""
    for prefix, section in (
        ("configurations.streams", "streams"),
        ("schedule", "schedule"),
        ("namespace", "namespace"),
    ):
        if where.startswith(prefix):
            return section
    return "general"
