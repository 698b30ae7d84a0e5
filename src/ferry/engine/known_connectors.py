"""The registry of external Airbyte connectors Ferry knows by name (known_connectors.json): package or
image, default version, documentation. Built-ins come from entry points (ferry.connectors.registry)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Kind = Literal["source", "destination"]


@dataclass(frozen=True, slots=True)
class KnownConnector:
    name: str
    kind: Kind
    package: str | None
    version: str | None
    image: str | None
    documentation_url: str | None

    @property
    def reference(self) -> str:
        """How a pipeline names it: the pinned PyPI package when there is one, else the image (tag to add)."""
        if self.package:
            return f"pypi:{self.package}=={self.version}" if self.version else f"pypi:{self.package}"
        return f"docker:{self.image}:TAG"

    def matches(self, text: str) -> bool:
        needle = text.lower()
        fields = (self.name, self.kind, self.package or "", self.image or "")
        return any(needle in f.lower() for f in fields)


@cache
def known() -> tuple[KnownConnector, ...]:
    raw = json.loads(resources.files("ferry.engine").joinpath("known_connectors.json").read_text("utf-8"))
    return tuple(
        KnownConnector(
            name=item["name"],
            kind=item["kind"],
            package=item.get("package"),
            version=item.get("version"),
            image=item.get("image"),
            documentation_url=item.get("documentation_url"),
        )
        for item in raw["connectors"]
    )


def search(text: str | None = None, kind: Kind | None = None) -> list[KnownConnector]:
    return [c for c in known() if (kind is None or c.kind == kind) and (not text or c.matches(text))]


def by_package(package: str) -> KnownConnector | None:
    wanted = package.lower().replace("_", "-")
    return next((c for c in known() if c.package == wanted), None)


def by_name(name: str, kind: Kind) -> KnownConnector | None:
    bare = name.removeprefix(f"{kind}-")
    return next((c for c in known() if c.kind == kind and c.name == bare), None)
