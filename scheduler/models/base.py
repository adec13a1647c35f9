"""The declarative base: every table of the service hangs off its metadata."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base; every table of the service hangs off its metadata."""


def table(model: type[Base]) -> Table:
    """A model's Table, for Core statements (`__table__` is typed as any FromClause)."""
    return cast(Table, model.__table__)
