"""Offset paging of list queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 20
    offset: int = 0


def fetch(session: Session, statement: Select[Any], page: Page) -> list[Any]:
    return list(session.scalars(statement.limit(page.limit).offset(page.offset)))
