"""Schedules: Quartz cron expressions (with a seconds field and a time zone) and basic intervals.

Airbyte's API takes Quartz syntax: `sec min hour day-of-month month day-of-week [year]`, with `?` in
one of the two day fields, names (JAN, MON), ranges, steps, lists, `L` (last day of the month),
`nL` (last weekday n of the month) and `n#k` (the k-th weekday n). A trailing time zone name
(`0 0 12 * * ? Europe/Paris`, or Airbyte's own `... UTC`) sets the zone.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ferry.control.errors import InvalidInputError

_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_FieldSpec = tuple[str, int, int, dict[str, int]]
_FIELDS: tuple[_FieldSpec, ...] = (  # name, low, high, names
    ("seconds", 0, 59, {}),
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)
_SEARCH_DAYS = 366 * 8
BASIC_UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400}


@dataclass(frozen=True, slots=True)
class Cron:
    expression: str
    time_zone: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: '?' (the other day field decides)
    last_day: bool
    months: frozenset[int]
    weekdays: frozenset[int] | None
    nth_weekday: tuple[int, int] | None  # (weekday 1-7, k) for n#k; k = -1 for nL
    years: frozenset[int]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing time strictly after `moment` (aware), in UTC; None if there is none soon."""
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                found = self._first_time_on(day, zone, moment)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _first_time_on(self, day: date, zone: ZoneInfo, moment: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                for second in sorted(self.seconds):
                    candidate = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
                    if candidate.astimezone(UTC) > moment:
                        return candidate.astimezone(UTC)
        return None

    def _day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.last_day:
            return day.day == last
        if self.days is not None:
            return day.day in self.days
        weekday = day.isoweekday() % 7 + 1  # Quartz: SUN=1 ... SAT=7
        if self.nth_weekday is not None:
            wanted, k = self.nth_weekday
            if weekday != wanted:
                return False
            return day.day + 7 > last if k == -1 else (day.day - 1) // 7 + 1 == k
        return self.weekdays is None or weekday in self.weekdays


def parse_cron(text: str, time_zone: str | None = None, field: str = "schedule.cronExpression") -> Cron:
    """A validated cron expression; InvalidInputError naming `field` when it is not one."""
    parts = text.split()
    zone = time_zone or "UTC"
    if len(parts) in (7, 8) and not _is_year(parts[-1]):
        zone = parts.pop()
    if zone not in _zones():
        raise InvalidInputError(
            f"unknown time zone '{zone}'", hint="Use an IANA name such as UTC or Europe/Paris.", field=field
        )
    if len(parts) not in (6, 7):
        raise InvalidInputError(
            f"cron expression '{text}' has {len(parts)} fields; Quartz syntax needs 6 or 7",
            hint="Fields: seconds minutes hours day-of-month month day-of-week [year], e.g. '0 0 12 * * ?'.",
            field=field,
        )
    if parts[0] == "*" or parts[1] == "*":
        raise InvalidInputError(
            f"cron expression '{text}' fires every second or every minute",
            hint="Give the seconds and minutes fields fixed values, e.g. '0 0 * * * ?' for hourly.",
            field=field,
        )
    try:
        return _build(" ".join(parts), zone, parts)
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid cron expression '{text}': {exc}",
            hint="Use Quartz syntax, e.g. '0 0 12 * * ?'.",
            field=field,
        ) from None


def _build(expression: str, zone: str, parts: list[str]) -> Cron:
    dom, dow = parts[3], parts[5]
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
    nth = None
    if dow != "?" and (match := re.fullmatch(r"(\w+)#([1-5])", dow)):
        nth = (_value(match.group(1), _FIELDS[5]), int(match.group(2)))
    elif dow != "?" and (match := re.fullmatch(r"(\w+)L", dow)):
        nth = (_value(match.group(1), _FIELDS[5]), -1)
    return Cron(
        expression=expression,
        time_zone=zone,
        seconds=_values(parts[0], _FIELDS[0]),
        minutes=_values(parts[1], _FIELDS[1]),
        hours=_values(parts[2], _FIELDS[2]),
        days=None if dom in ("?", "L") else _values(dom, _FIELDS[3]),
        last_day=dom == "L",
        months=_values(parts[4], _FIELDS[4]),
        weekdays=None if dow == "?" or nth else _values(dow, _FIELDS[5]),
        nth_weekday=nth,
        years=_values(parts[6], _FIELDS[6]) if len(parts) == 7 else frozenset(range(1970, 2200)),
    )


def _values(text: str, spec: tuple[str, int, int, dict[str, int]]) -> frozenset[int]:
    name, low, high, _names = spec
    out: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step '{step_text}' in the {name} field")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, spec), _value(last, spec)
        else:
            start = _value(base, spec)
            end = high if step else start
        if start > end:
            raise ValueError(f"range {base} runs backwards in the {name} field")
        out.update(range(start, end + 1, step or 1))
    return frozenset(out)


def _value(text: str, spec: tuple[str, int, int, dict[str, int]]) -> int:
    name, low, high, names = spec
    value = names.get(text.upper()) if not text.isdigit() else int(text)
    if value is None or not low <= value <= high:
        raise ValueError(f"'{text}' is not allowed in the {name} field ({low}-{high})")
    return value


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"[\d*,/\-]+", text))


@cache
def _zones() -> set[str]:
    return set(available_timezones()) | {"UTC"}


def check_time_zone(name: str, field: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone '{name}'", field=field) from None
    return name


def basic_interval(units: int, time_unit: str) -> timedelta:
    """A basic schedule's period (months count as 30 days)."""
    seconds = BASIC_UNITS.get(time_unit, 30 * 86400 if time_unit == "months" else None)
    if seconds is None or units <= 0:
        raise InvalidInputError(
            f"invalid basic schedule: every {units} {time_unit}", field="scheduleData.basicSchedule"
        )
    return timedelta(seconds=seconds * units)
