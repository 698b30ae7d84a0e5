"""File names for the local-files destination: the path pattern and a safe spelling of stream names.

A stream or namespace name becomes one path segment. The spelling is deterministic and injective
(two different names never share a segment): characters that could escape the directory or confuse
a filesystem are written as `%XX` (the UTF-8 bytes, like URL encoding) and `%` itself is encoded
too. A leading dot is encoded so that `.` and `..` cannot appear and no name becomes a hidden file.
Names longer than a filesystem allows are cut and suffixed with a hash of the whole name.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Final

from ferry.errors import ConfigError

PLACEHOLDERS: Final = ("namespace", "stream", "sync_id", "part", "generation", "date", "ext")
DEFAULT_PATTERN: Final = "{namespace}/{stream}/{sync_id}-{part}.{ext}"
DEFAULT_NAMESPACE: Final = "default"
METADATA_DIR: Final = ".ferry"
"""Directory under the base path holding Ferry's own bookkeeping (manifests, locks); never data."""

PART_WIDTH: Final = 5

# Path separators, NUL and the characters Windows forbids, so that the files can be copied anywhere.
_UNSAFE: Final = frozenset('/\\%<>:"|?*')
_MAX_SEGMENT_BYTES: Final = 200  # leaves room for the pattern's own text within the usual 255-byte limit


def _escape(char: str) -> str:
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))


def _is_unsafe(char: str) -> bool:
    code = ord(char)
    # Lone surrogates (from JSON escapes) cannot be file names; they are escaped like control characters.
    return char in _UNSAFE or code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF


def safe_segment(name: str) -> str:
    """`name` spelled as one safe path segment (no separators, no `..`, no control characters)."""
    if not name:
        return "%"  # a bare % never comes from a non-empty name, which spells % as %25
    out = [_escape(c) if _is_unsafe(c) else c for c in name]
    if out[0] == ".":
        out[0] = _escape(".")
    segment = "".join(out)
    encoded = segment.encode("utf-8", "surrogatepass")
    if len(encoded) <= _MAX_SEGMENT_BYTES:
        return segment
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    head = encoded[: _MAX_SEGMENT_BYTES - 17].decode("utf-8", "ignore")
    while head.endswith("%") or head[-2:-1] == "%":
        head = head[:-1]  # never leave half an escape behind
    return f"{head}~{digest}"


def namespace_segment(namespace: str | None) -> str:
    return safe_segment(namespace) if namespace else DEFAULT_NAMESPACE


def _is_unknown(name: str | None, spec: str | None, conversion: str | None) -> bool:
    # Format specs and conversions ({part:03d}, {stream!r}) are not supported: the spelling is fixed.
    return name is not None and (name not in PLACEHOLDERS or bool(spec) or bool(conversion))


def _spelled(name: str | None, spec: str | None, conversion: str | None) -> str:
    return "{" + (name or "") + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A parsed `path_pattern`: literal text and placeholders, rendered without `str.format`.

    Values are inserted as text, so a stream name holding braces cannot inject a placeholder.
    """

    text: str
    tokens: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> PathPattern:
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ConfigError(
                f"path_pattern '{text}' is not a valid pattern: {exc}",
                hint="Write placeholders as {name}; write a literal brace as {{ or }}.",
                field="path_pattern",
            ) from None
        unknown = sorted(
            {_spelled(name, spec, conv) for _, name, spec, conv in parsed if _is_unknown(name, spec, conv)}
        )
        if unknown:
            raise ConfigError(
                f"path_pattern '{text}' has unknown placeholders: {', '.join(unknown)}",
                hint=f"Use only {', '.join('{' + p + '}' for p in PLACEHOLDERS)}.",
                field="path_pattern",
            )
        tokens = tuple((literal, name) for literal, name, _, _ in parsed)
        pattern = cls(text, tokens)
        pattern._check_shape()
        return pattern

    @property
    def placeholders(self) -> set[str]:
        return {name for _, name in self.tokens if name is not None}

    def _check_shape(self) -> None:
        if "part" not in self.placeholders:
            raise ConfigError(
                f"path_pattern '{self.text}' has no {{part}} placeholder",
                hint="Every file needs its own name; add {part}, e.g. '{stream}/{sync_id}-{part}.{ext}'.",
                field="path_pattern",
            )
        sample = dict.fromkeys(PLACEHOLDERS, "x")
        self.render(sample)

    def render(self, values: dict[str, str]) -> str:
        """The relative path for `values` (safe segments); ConfigError when it would leave the base."""
        path = "".join(literal + (values[name] if name is not None else "") for literal, name in self.tokens)
        segments = path.split("/")
        bad = path.startswith("/") or "\0" in path or "\\" in path
        if bad or any(s in ("", ".", "..") for s in segments) or segments[0] == METADATA_DIR:
            raise ConfigError(
                f"path_pattern '{self.text}' gives '{path}', which is not a plain relative file path",
                hint="Use a relative pattern without '..', empty segments, backslashes or the .ferry folder.",
                field="path_pattern",
            )
        return path


def part_label(part: int) -> str:
    return f"{part:0{PART_WIDTH}d}"
