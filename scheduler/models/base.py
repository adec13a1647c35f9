"""The declarative base: every table of the service hangs off its metadata."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base; every table of the service hangs off its metadata."""
