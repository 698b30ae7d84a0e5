"""Config keys connectors changed themselves (CONTROL messages, e.g. a rotated OAuth refresh token), kept
beside a pipeline's state as `.ferry/<pipeline>.config-overrides.json` and laid over the pipeline's
config on every later run. Delete the file to go back to the pipeline file's values.

The file may hold secrets: it is written with mode 0600, atomically, and never printed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ferry.errors import ConfigError

Role = Literal["source", "destination"]


def overrides_path_for(pipeline_file: str | os.PathLike[str]) -> Path:
    file = Path(pipeline_file)
    return file.parent / ".ferry" / f"{file.stem}.config-overrides.json"


class ConfigOverrides:
    """Per role (source, destination), the keys to lay over the pipeline's connector config."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"config overrides file {self.path} cannot be read ({exc})",
                hint="Delete it to use the pipeline file's config as written.",
            ) from None
        if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
            raise ConfigError(f"config overrides file {self.path} has an unknown format", hint="Delete it.")
        return raw

    def apply(self, role: Role, config: Mapping[str, Any]) -> dict[str, Any]:
        """`config` with the saved overrides of `role` laid over it."""
        return {**config, **self._data.get(role, {})}

    def record(self, role: Role, changed: Mapping[str, Any]) -> None:
        """Save keys a connector changed; called as soon as the connector says so."""
        with self._lock:
            self._data[role] = {**self._data.get(role, {}), **changed}
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(self._data, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
