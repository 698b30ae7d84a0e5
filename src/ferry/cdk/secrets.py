"""Masking of secret values in every log line and error text a connector or the engine produces."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from ferry.cdk.spec import MASK


class Masker:
    """Replaces known secret strings with the mask. Short values (< 4 chars) are kept, to stay readable."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if len(s) >= 4} - self._secrets
        if not new:
            return
        self._secrets |= new
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


GLOBAL_MASKER = Masker()
"""The process-wide masker: every secret any connector in this process was configured with."""


def register_secrets(secrets: Iterable[str]) -> None:
    GLOBAL_MASKER.add(secrets)


def mask(text: str) -> str:
    return GLOBAL_MASKER(text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
