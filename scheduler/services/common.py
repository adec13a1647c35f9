"""Shared service types: the acting caller, clinic scope, pages and keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_

from scheduler.errors import ValidationFailed

T = TypeVar("T")
R = TypeVar("R")

MAX_LIMIT = 200

# None means every clinic (admin keys); otherwise the clinic ids a caller may see.
Scope = frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the API key's id and the optional person behind it (X-Actor)."""

    key_id: str | None
    name: str | None = None


# If-Match: the version(s) a write may apply to; None means any version (`*`).
Expected = int | Collection[int] | None


def version_matches(expected: Expected, actual: int) -> bool:
    """Whether a write expecting `expected` may apply to a row at version `actual`."""
    if expected is None:
        return True
    return actual == expected if isinstance(expected, int) else actual in expected


def in_scope(scope: Scope, clinic_id: str | None) -> bool:
    return scope is None or (clinic_id is not None and clinic_id in scope)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list plus the cursor of the next page (None at the end)."""

    items: tuple[T, ...]
    next_cursor: str | None


def encode_cursor(created_at: datetime, object_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), object_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Reverse of encode_cursor; a tampered cursor is a validation error on `cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, object_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(object_id, str):
            raise ValueError
        return moment, object_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.single("cursor", "Not a valid cursor.") from None


def paginate(
    session: Any,
    query: Select[Any],
    model: Any,
    *,
    limit: int,
    cursor: str | None,
    convert: Callable[[Any], R],
) -> Page[R]:
    """Keyset pagination on (created_at, id), oldest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"Must be between 1 and {MAX_LIMIT}.")
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                model.created_at > after_at,
                and_(model.created_at == after_at, model.id > after_id),
            )
        )
    rows: Sequence[Any] = (
        session.scalars(query.order_by(model.created_at, model.id).limit(limit + 1)).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return Page(items=tuple(convert(row) for row in rows), next_cursor=next_cursor)
