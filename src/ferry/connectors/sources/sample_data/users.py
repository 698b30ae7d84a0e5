"""The `users` stream: people with an email, a birth date, an address (struct) and tags (list)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ferry.connectors.sources.sample_data import vocabulary as words
from ferry.connectors.sources.sample_data.blocks import (
    TIMESTAMP,
    Table,
    chance,
    concat,
    digits,
    pick,
    schema,
    timestamps,
    vocabulary,
)
from ferry.connectors.sources.sample_data.timeline import Timeline

ADDRESS = pa.struct([pa.field(name, pa.string()) for name in ("street", "city", "postal_code", "country")])
SCHEMA = schema(
    ("id", pa.int64()),
    ("first_name", pa.string()),
    ("last_name", pa.string()),
    ("email", pa.string()),
    ("birth_date", pa.date32()),
    ("is_active", pa.bool_()),
    ("address", ADDRESS),
    ("tags", pa.list_(pa.string())),
    ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
)
TIMELINE = Timeline.of(dt.datetime(2023, 1, 1, tzinfo=dt.UTC), dt.timedelta(seconds=10))

_DAY_US = 86_400 * 1_000_000
_EPOCH_DAY = dt.date(1970, 1, 1)
_BIRTH_RANGE = ((dt.date(1950, 1, 1) - _EPOCH_DAY).days, (dt.date(2006, 1, 1) - _EPOCH_DAY).days)
_TAG_STRIDE = 5  # coprime with len(TAGS): a user's (at most 3) tags are always distinct
_MAX_TAGS = 3

_FIRST = vocabulary(words.FIRST_NAMES)
_FIRST_LOWER = vocabulary([w.lower() for w in words.FIRST_NAMES])
_LAST = vocabulary(words.LAST_NAMES)
_LAST_LOWER = vocabulary([w.lower() for w in words.LAST_NAMES])
_DOMAINS = vocabulary(words.EMAIL_DOMAINS)
_CITY = vocabulary([city for city, _ in words.CITIES])
_COUNTRY = vocabulary([country for _, country in words.CITIES])
_STREETS = vocabulary(words.STREET_NAMES)
_SUFFIXES = vocabulary(words.STREET_SUFFIXES)
_TAGS = vocabulary(words.TAGS)


def _address(rng: np.random.Generator, n: int) -> pa.Array[Any]:
    number = pc.cast(pa.array(rng.integers(1, 2_000, n)), pa.string())
    street = concat(
        number,
        " ",
        pick(_STREETS, rng.integers(0, len(words.STREET_NAMES), n)),
        " ",
        pick(_SUFFIXES, rng.integers(0, len(words.STREET_SUFFIXES), n)),
    )
    city = rng.integers(0, len(words.CITIES), n)
    postal_code = digits(rng.integers(0, 100_000, n), 5)
    null = pa.array(chance(rng, 0.05, n))
    fields = [ADDRESS.field(i) for i in range(ADDRESS.num_fields)]
    children = [street, pick(_CITY, city), postal_code, pick(_COUNTRY, city)]
    return pa.StructArray.from_arrays(children, fields=fields, mask=null)


def _tags(rng: np.random.Generator, n: int) -> pa.Array[Any]:
    sizes = rng.integers(0, _MAX_TAGS + 1, n)
    first = rng.integers(0, len(words.TAGS), n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    row = np.repeat(np.arange(n), sizes)
    rank = np.arange(offsets[-1]) - offsets[row]
    values = pick(_TAGS, (first[row] + _TAG_STRIDE * rank) % len(words.TAGS))
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)


def _columns(rng: np.random.Generator, ids: np.ndarray, seed: int) -> list[pa.Array[Any]]:
    n = ids.size
    updated = TIMELINE.updated_at(rng, ids)
    created = updated - rng.integers(0, 365 * _DAY_US, n)
    first = rng.integers(0, len(words.FIRST_NAMES), n)
    last = rng.integers(0, len(words.LAST_NAMES), n)
    domain = rng.integers(0, len(words.EMAIL_DOMAINS), n)
    email = concat(
        pick(_FIRST_LOWER, first),
        ".",
        pick(_LAST_LOWER, last),
        pc.cast(pa.array(ids), pa.string()),  # the id keeps every email unique
        "@",
        pick(_DOMAINS, domain),
    )
    birth_days = rng.integers(*_BIRTH_RANGE, n, dtype=np.int32)
    birth_date = pa.array(birth_days, type=pa.date32(), mask=chance(rng, 0.08, n))
    is_active = pa.array(chance(rng, 0.85, n))
    return [
        pa.array(ids),
        pick(_FIRST, first),
        pick(_LAST, last),
        email,
        birth_date,
        is_active,
        _address(rng, n),
        _tags(rng, n),
        timestamps(created),
        timestamps(updated),
    ]


USERS = Table("users", 1, SCHEMA, TIMELINE, _columns)
