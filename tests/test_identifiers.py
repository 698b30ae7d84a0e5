"""Identifier normalisation: deterministic, safe, collision-checked (reliability matrix B9/B10)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.cdk.identifiers import (
    AIRBYTE_META_COLUMNS,
    check_unique,
    column_identifiers,
    map_identifiers,
    normalize,
    quote,
)
from ferry.errors import ConfigError

# Airbyte's special-character fixtures (noCrashOnSpecialCharacters, weirdcolumnnames, reservedkeywords)
# plus long, emoji and CJK names.
TORTURE_COLUMNS = [
    "$starts_with_dollar_sign",
    "${foo}",
    'includes"doublequote',
    "includes'singlequote",
    "includes`backtick",
    "includes.period",
    "includes$$doubledollar",
    "endswithbackslash\\",
    "{braces}",
    "with space",
    "select",
    "from",
    "order",
    "MixedCase",
    "l" * 255,
    "emoji😀name",
    "用户名",
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("userName", "username"),
        ("User Id", "user_id"),
        ("user_id", "user_id"),
        ("$", "_"),
        ("$$", "_"),
        ("${foo}", "_foo_"),
        ('"', "_"),
        ("`", "_"),
        (".", "_"),
        ("\\", "_"),
        ("endswithbackslash\\", "endswithbackslash_"),
        ("a  -- b", "a_b"),
        ("__keep__", "__keep__"),
        ("", "_"),
        ("1st", "_1st"),
        ("٣rd", "_٣rd"),  # an Arabic-Indic digit is a digit too
        ("select", "select"),
        ("Straße", "strasse"),
        ("用户名", "用户名"),
        ("emoji😀name", "emoji_name"),
        ("हिन्दी", "हिन्दी"),  # combining vowel signs are part of the word
        ("tab\there\x00nul", "tab_here_nul"),
    ],
)
def test_normalize(name: str, expected: str) -> None:
    assert normalize(name) == expected


def test_normalize_composes_unicode_before_folding() -> None:
    decomposed = unicodedata.normalize("NFD", "Ünïcödé")
    assert decomposed != "Ünïcödé"
    assert normalize(decomposed) == normalize("Ünïcödé") == "ünïcödé"


def test_truncation_keeps_the_limit_and_a_stable_hash() -> None:
    long = "Column " * 20
    first = normalize(long, max_bytes=63)
    assert len(first.encode()) <= 63
    assert first == normalize(long, max_bytes=63)  # deterministic
    assert re.fullmatch(r"column_column_.*_[0-9a-f]{8}", first)
    assert normalize("short", max_bytes=63) == "short"


def test_truncation_keeps_long_names_that_differ_late_apart() -> None:
    a, b = "x" * 100 + "a", "x" * 100 + "b"
    assert normalize(a, max_bytes=63) != normalize(b, max_bytes=63)
    assert normalize(a, max_bytes=63)[:54] == normalize(b, max_bytes=63)[:54]


def test_truncation_never_splits_a_multibyte_character() -> None:
    name = "é" * 100  # two bytes each
    out = normalize(name, max_bytes=63)
    assert len(out.encode()) <= 63
    out.encode().decode("utf-8")  # still valid UTF-8
    assert out.startswith("é" * 26)


def test_max_bytes_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        normalize("abc", max_bytes=5)


def test_quote_doubles_embedded_quotes() -> None:
    assert quote('a"b') == '"a""b"'
    assert quote("select") == '"select"'


def test_torture_columns_map_to_distinct_identifiers() -> None:
    mapping = column_identifiers(TORTURE_COLUMNS, max_bytes=63, stream="weird")
    assert len(set(mapping.values())) == len(TORTURE_COLUMNS)
    for ident in mapping.values():
        assert len(ident.encode()) <= 63
        assert all(c == "_" or unicodedata.category(c)[0] in "LMN" for c in ident)


@pytest.mark.parametrize(
    ("first", "second"), [("userName", "username"), ("User Id", "user id"), ("a.b", "a$b")]
)
def test_collision_names_both_source_names(first: str, second: str) -> None:
    with pytest.raises(ConfigError) as raised:
        column_identifiers([first, "other", second], stream="users")
    message = str(raised.value)
    assert f"'{first}'" in message
    assert f"'{second}'" in message
    assert "users" in message


def test_collision_of_names_equal_after_truncation() -> None:
    long = "y" * 80
    truncated = normalize(long, max_bytes=63)
    with pytest.raises(ConfigError) as raised:
        map_identifiers([long, truncated], max_bytes=63)
    assert long in str(raised.value)
    assert truncated in str(raised.value)


@pytest.mark.parametrize("meta", [*AIRBYTE_META_COLUMNS, "_AIRBYTE_RAW_ID", "_Airbyte Meta"])
def test_column_colliding_with_a_meta_column_is_refused(meta: str) -> None:
    with pytest.raises(ConfigError) as raised:
        column_identifiers(["id", meta])
    assert f"'{meta}'" in str(raised.value)
    assert "metadata column" in str(raised.value)


def test_check_unique_names_both_labels() -> None:
    check_unique({"stream 'a'": "a", "stream 'b'": "b"})
    with pytest.raises(ConfigError, match=r"stream 'Center' and stream 'center' in schema 'main'"):
        check_unique({"stream 'Center'": "center", "stream 'center'": "center"}, where="in schema 'main'")


def test_repeated_name_is_not_a_collision() -> None:
    assert map_identifiers(["a", "a"]) == {"a": "a"}


@given(st.text(max_size=300), st.sampled_from([None, 18, 63, 255]))
def test_normalize_is_safe_bounded_and_idempotent(name: str, max_bytes: int | None) -> None:
    out = normalize(name, max_bytes)
    assert out
    assert all(c == "_" or unicodedata.category(c)[0] in "LMN" for c in out)
    assert unicodedata.category(out[0])[0] != "N"
    if max_bytes is not None:
        assert len(out.encode()) <= max_bytes
    assert normalize(out, max_bytes) == out
