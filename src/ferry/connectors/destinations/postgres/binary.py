"""PostgreSQL's binary COPY format built from Arrow arrays, vectorised (no Python object per row or value).

Each field becomes an Arrow binary array whose elements are the field as COPY wants it (a big-endian
int32 length, then the value's bytes; -1 and no bytes for NULL). One `binary_join_element_wise`
then lays the fields of each row side by side, after the row's field count, so the joined array's
data buffer is the COPY stream itself.

Measured on the 12-column benchmark table, the server loads binary COPY about 1.5x faster than CSV:
it skips parsing integers, timestamps, dates, UUIDs and numerics. Numeric is the one non-trivial
encoding: its value as base-10000 digit groups, made here from the value's decimal spelling.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
EPOCH_DAYS = 10_957
"""Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's)."""
EPOCH_MICROS = EPOCH_DAYS * 86_400_000_000

_NUMERIC_POS, _NUMERIC_NEG, _NUMERIC_NAN = 0x0000, 0x4000, 0xC000
_NUMERIC_PINF, _NUMERIC_NINF = 0xD000, 0xF000
_DECIMAL = r"^-?\d*\.?\d*(?:e[+-]?\d+)?$"
_SPECIALS = pa.array(["NaN", "Infinity", "-Infinity"])


def _binary(offsets: np.ndarray[Any, Any], data: np.ndarray[Any, Any]) -> pa.Array[Any]:
    n = len(offsets) - 1
    buffers = [None, pa.py_buffer(offsets.astype(np.int32).tobytes()), pa.py_buffer(data.tobytes())]
    return pa.BinaryArray.from_buffers(pa.binary(), n, buffers)


def _join(*arrays: Any) -> Any:
    """Element-wise concatenation of binary arrays (and scalars) with no separator."""
    return pc.binary_join_element_wise(*arrays, b"")


def _bools(array: Any) -> np.ndarray[Any, Any]:
    """A boolean Arrow array (NULL as False) as numpy."""
    return np.asarray(pc.fill_null(array, pa.scalar(False)).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _ints(array: Any) -> np.ndarray[Any, Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _values(array: Any) -> np.ndarray[Any, Any]:
    """The data buffer of a binary/string array (all of it; slice with the array's offsets)."""
    buffer = array.buffers()[2]
    return np.empty(0, dtype=np.uint8) if buffer is None else np.frombuffer(buffer, dtype=np.uint8)


def _offsets(array: Any) -> np.ndarray[Any, Any]:
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    return offsets[array.offset : array.offset + len(array) + 1]


def fixed(values: np.ndarray[Any, Any], valid: np.ndarray[Any, Any] | None) -> pa.Array[Any]:
    """Fields of a fixed-width type: `values` is an (n, width) uint8 matrix of big-endian payloads."""
    n, width = values.shape
    out = np.empty((n, 4 + width), dtype=np.uint8)
    out[:, :4] = np.frombuffer(struct.pack(">i", width), dtype=np.uint8)
    out[:, 4:] = values
    if valid is None or valid.all():
        return _binary(np.arange(n + 1, dtype=np.int64) * (4 + width), out.reshape(-1))
    out[~valid, :4] = 0xFF  # length -1: NULL
    keep = np.ones((n, 4 + width), dtype=bool)
    keep[~valid, 4:] = False
    lengths = np.where(valid, 4 + width, 4)
    return _binary(np.concatenate([[0], np.cumsum(lengths)]), out[keep])


def big_endian(values: np.ndarray[Any, Any], dtype: str) -> np.ndarray[Any, Any]:
    """`values` as an (n, width) matrix of big-endian bytes of `dtype` (e.g. '>i8')."""
    converted = np.ascontiguousarray(values.astype(dtype))
    return converted.view(np.uint8).reshape(len(values), -1)


def constant(payload: bytes | None, n: int) -> pa.Array[Any]:
    """`n` copies of one field (None for NULL)."""
    element = struct.pack(">i", -1) if payload is None else struct.pack(">i", len(payload)) + payload
    matrix = np.tile(np.frombuffer(element, dtype=np.uint8), (n, 1))
    return _binary(np.arange(n + 1, dtype=np.int64) * len(element), matrix.reshape(-1))


def varlena(text: pa.Array[Any], prefix: bytes = b"") -> pa.Array[Any]:
    """Fields of a variable-length type from their bytes (text, json; jsonb's version byte as `prefix`)."""
    data: Any = text.cast(pa.binary()) if not pa.types.is_binary(text.type) else text
    valid = _bools(data.is_valid())
    lengths = _ints(pc.binary_length(data).fill_null(0))
    sizes = np.where(valid, lengths + len(prefix), -1)
    lengths_field = big_endian(sizes, ">i4").reshape(-1)
    heads = _binary(np.arange(len(data) + 1, dtype=np.int64) * 4, lengths_field)
    body = data.fill_null(b"")
    if prefix:
        with_prefix = _join(pa.scalar(prefix), body)
        body = pc.if_else(pa.array(valid), with_prefix, body)
    out: Any = _join(heads, body)
    return out  # type: ignore[no-any-return]


def random_uuids(n: int) -> pa.Array[Any]:
    """`n` random version-4 UUIDs as uuid fields."""
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return fixed(raw, None)


def numeric(text: pa.Array[Any], *, checked: bool = False) -> pa.Array[Any]:
    """numeric fields from decimal spellings (`-12.5`, `1e+39`, `NaN`, `Infinity`); NULL stays NULL.

    `checked` says the spellings are Arrow's own (numbers cast to text), which need no validation.
    """
    n = len(text)
    valid = _bools(text.is_valid())
    spelled: Any = text.fill_null("0")
    special = pc.is_in(spelled, value_set=_SPECIALS)
    if (
        not checked
        and not pc.all(pc.or_(pc.match_substring_regex(spelled, _DECIMAL, ignore_case=True), special)).as_py()
    ):
        raise ValueError("a numeric value is spelled neither as a decimal number nor as NaN or ±Infinity")
    plain = pc.if_else(special, "0", spelled) if pc.any(special).as_py() else spelled
    plain = plain if checked else pc.ascii_lower(plain)  # Arrow spells decimals' exponents `E`
    has_exp = pc.greater_equal(pc.find_substring(plain, "e"), pa.scalar(0))
    any_exp = bool(pc.any(has_exp).as_py())
    mantissa: Any = pc.replace_substring_regex(plain, "e.*", "") if any_exp else plain
    digits: Any = pc.replace_substring(mantissa, ".", "")
    significant = pc.utf8_length(pc.utf8_ltrim(digits, "-0"))
    fits = int(pc.max(significant).as_py() or 0) <= _SMALL_DIGITS
    parsed: _Small | _Decimals = (
        _Small(plain, mantissa, digits, has_exp if any_exp else None) if fits else _Decimals(plain)
    )
    sign, ndigits, weight, dscale = _specials(
        spelled, parsed.sign, parsed.ndigits, parsed.weight, parsed.dscale
    )
    header = np.stack([ndigits, weight, sign, dscale], axis=1)
    head_bytes = big_endian(header.reshape(-1), ">i2").reshape(n, 8)
    sizes = np.where(valid, 8 + 2 * ndigits, -1)
    lead = np.concatenate([big_endian(sizes, ">i4"), head_bytes], axis=1)
    keep = np.ones((n, 12), dtype=bool)
    keep[~valid, 4:] = False
    lead_offsets = np.concatenate([[0], np.cumsum(np.where(valid, 12, 4))])
    out: Any = _join(_binary(lead_offsets, lead[keep]), parsed.groups())
    return out  # type: ignore[no-any-return]


_SMALL_DIGITS = 18
"""Mantissas of at most this many significant digits fit an int64 (every float's shortest spelling)."""
_GROUPS = 6
"""Base-10000 groups of an int64 mantissa shifted by up to 3 places (< 10^22)."""


class _Small:
    """Spellings whose mantissa fits an int64 (every float's shortest spelling, every int64), parsed
    by Arrow's kernels: the mantissa without its point is an integer D, and the value is D * 10^p."""

    def __init__(self, spelled: Any, mantissa: Any, digits: Any, has_exp: Any) -> None:
        if has_exp is None:
            exponent = np.zeros(len(spelled), dtype=np.int64)
        else:
            exp_text = pc.replace_substring_regex(spelled, r"^.*e\+?", "")
            exponent = _ints(pc.cast(pc.if_else(has_exp, exp_text, "0"), pa.int64()))
        dot = _ints(pc.find_substring(mantissa, "."))
        frac_len = np.where(dot >= 0, _ints(pc.utf8_length(mantissa)) - dot - 1, 0)
        signed = _ints(pc.cast(digits, pa.int64()))
        power = exponent - frac_len
        self.dscale = np.maximum(0, -power)
        magnitude = np.abs(signed)
        shift = np.mod(power, 4)
        groups = np.zeros((len(signed), _GROUPS), dtype=np.int64)
        groups[:, 0] = (magnitude % _POW10_64[4 - shift]) * _POW10_64[shift]
        for i in range(1, _GROUPS):
            places = 4 * i - shift
            divisor = _POW10_64[np.minimum(places, 18)]
            groups[:, i] = np.where(places > 18, 0, (magnitude // divisor) % 10_000)
        nonzero = groups != 0
        any_digit = nonzero.any(axis=1)
        low = nonzero.argmax(axis=1)
        high = _GROUPS - 1 - nonzero[:, ::-1].argmax(axis=1)
        self.weight = np.where(any_digit, np.floor_divide(power, 4) + high, 0)
        self.ndigits = np.where(any_digit, high - low + 1, 0)
        self.sign = np.where((signed < 0) & any_digit, _NUMERIC_NEG, _NUMERIC_POS)
        position = _GROUPS - 1 - np.arange(_GROUPS)  # most significant group first
        keep = (position >= low[:, None]) & (position <= high[:, None]) & any_digit[:, None]
        self._flat = groups[:, ::-1][keep]
        self._starts = np.concatenate([[0], np.cumsum(self.ndigits)])

    def groups(self) -> pa.Array[Any]:
        return _binary(self._starts * 2, big_endian(self._flat, ">i2").reshape(-1))


_POW10_64 = np.array([10**k for k in range(19)], dtype=np.int64)
_POW10 = np.array([1, 10, 100, 1000, 10_000, 100_000], dtype=np.int64)


class _Decimals:
    """Decimal spellings parsed in numpy: padded to one width, the characters form a matrix.

    A value is its mantissa digits times a power of ten. Each nonzero digit's power p puts it in
    base-10000 group floor(p / 4) with weight 10^(p mod 4); summing digits per group gives the
    groups, from the first nonzero digit's group (the numeric `weight`) down to the last's.
    """

    def __init__(self, spelled: Any) -> None:
        n = len(spelled)
        width = max(1, int(pc.max(pc.utf8_length(spelled)).as_py() or 0))
        padded: Any = pc.utf8_rpad(spelled, width=width, padding=" ")
        start = int(_offsets(padded)[0])
        chars = _values(padded)[start : start + n * width].reshape(n, width).astype(np.int16)
        columns = np.arange(width)
        digit = (chars >= ord("0")) & (chars <= ord("9"))
        length = (chars != ord(" ")).sum(axis=1)
        e_at = _first_or(chars == ord("e"), length)
        dot_at = _first_or(chars == ord("."), e_at)
        mantissa = digit & (columns < e_at[:, None])
        frac_len = (mantissa & (columns > dot_at[:, None])).sum(axis=1)
        exponent = self._exponent(chars, digit & (columns > e_at[:, None]), e_at, length)
        # digits of the mantissa right of each column give that column's power of ten
        after: np.ndarray[Any, Any] = np.cumsum(mantissa[:, ::-1], axis=1)[:, ::-1] - mantissa
        power = (exponent - frac_len)[:, None] + after
        value = np.where(mantissa, chars - ord("0"), 0)
        nonzero = value > 0
        any_digit = nonzero.any(axis=1)
        rows = np.arange(n)
        high = power[rows, nonzero.argmax(axis=1)]
        low = power[rows, width - 1 - nonzero[:, ::-1].argmax(axis=1)]
        self.weight = np.where(any_digit, np.floor_divide(high, 4), 0)
        self.ndigits = np.where(any_digit, self.weight - np.floor_divide(low, 4) + 1, 0)
        self.sign = np.where((chars[:, 0] == ord("-")) & any_digit, _NUMERIC_NEG, _NUMERIC_POS)
        self.dscale = np.maximum(0, frac_len - exponent)
        span = max(1, int(self.ndigits.max(initial=0)))
        at_row, at_col = np.nonzero(nonzero)
        slot = at_row * span + self.weight[at_row] - np.floor_divide(power[at_row, at_col], 4)
        amount = value[at_row, at_col] * _POW10[np.mod(power[at_row, at_col], 4)]
        sums = np.bincount(slot, weights=amount, minlength=n * span).reshape(n, span).astype(np.int64)
        self._flat = sums[np.arange(span) < self.ndigits[:, None]]
        self._starts = np.concatenate([[0], np.cumsum(self.ndigits)])

    @staticmethod
    def _exponent(
        chars: np.ndarray[Any, Any],
        digits: np.ndarray[Any, Any],
        e_at: np.ndarray[Any, Any],
        length: np.ndarray[Any, Any],
    ) -> np.ndarray[Any, Any]:
        place = np.clip(length[:, None] - 1 - np.arange(chars.shape[1]), 0, len(_POW10) - 1)
        magnitude = np.where(digits, (chars - ord("0")) * _POW10[place], 0).sum(axis=1)
        sign_at = np.minimum(e_at + 1, chars.shape[1] - 1)
        negative = (e_at < length) & (chars[np.arange(len(chars)), sign_at] == ord("-"))
        signed: np.ndarray[Any, Any] = np.where(negative, -magnitude, magnitude).astype(np.int64)
        return signed

    def groups(self) -> pa.Array[Any]:
        """Each row's base-10000 groups as big-endian int16s."""
        return _binary(self._starts * 2, big_endian(self._flat, ">i2").reshape(-1))


def _first_or(mask: np.ndarray[Any, Any], default: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Per row, the first column where `mask` holds, else `default`."""
    first: np.ndarray[Any, Any] = np.where(mask.any(axis=1), mask.argmax(axis=1), default)
    return first


def _specials(
    spelled: Any,
    sign: np.ndarray[Any, Any],
    ndigits: np.ndarray[Any, Any],
    weight: np.ndarray[Any, Any],
    dscale: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], ...]:
    """NaN and ±Infinity: no digits, the kind in the sign word."""
    for word, code in (("NaN", _NUMERIC_NAN), ("Infinity", _NUMERIC_PINF), ("-Infinity", _NUMERIC_NINF)):
        mask = _bools(pc.equal(spelled, pa.scalar(word)))
        if mask.any():
            sign = np.where(mask, code, sign)
            ndigits, weight, dscale = (np.where(mask, 0, a) for a in (ndigits, weight, dscale))
    return sign, ndigits, weight, dscale


def payload(fields: list[pa.Array[Any]], n: int) -> bytes:
    """The COPY stream for `n` rows of `fields` (each an array of n encoded fields)."""
    rows: Any = _join(_field_count(len(fields), n), *fields)
    offsets = _offsets(rows)
    return HEADER + _values(rows)[int(offsets[0]) : int(offsets[-1])].tobytes() + TRAILER


def _field_count(count: int, n: int) -> pa.Array[Any]:
    matrix = np.tile(np.frombuffer(struct.pack(">h", count), dtype=np.uint8), (n, 1))
    return _binary(np.arange(n + 1, dtype=np.int64) * 2, matrix.reshape(-1))
