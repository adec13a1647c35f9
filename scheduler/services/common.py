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


def check_limit(limit: int) -> None:
    """A page size within 1..MAX_LIMIT, else a validation error on `limit`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"Must be between 1 and {MAX_LIMIT}.")


def encode(values: list[Any]) -> str:
    """An opaque keyset cursor: the last item's sort values, as URL-safe base64 JSON."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """A cursor's values, each of the given type (a tampered one is a 422, never a 500)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types) or not all(
                isinstance(v, t) and not isinstance(v, bool)
                for v, t in zip(values, types, strict=True)):
            raise ValueError
        return values
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.single("cursor", "Not a valid cursor.") from None


def encode_cursor(created_at: datetime, object_id: str) -> str:
    return encode([created_at.isoformat(), object_id])


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Reverse of encode_cursor; a tampered cursor is a validation error on `cursor`."""
    created, object_id = decode(cursor, (str, str))
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        raise ValidationFailed.single("cursor", "Not a valid cursor.") from None
    if moment.tzinfo is None:
        raise ValidationFailed.single("cursor", "Not a valid cursor.")
    return moment, object_id


def after_cursor(query: Select[Any], created_at: Any, object_id: Any,
                 cursor: str | None) -> Select[Any]:
    """`query` limited to rows after `cursor` in (created_at, id) order."""
    if not cursor:
        return query
    after_at, after_id = decode_cursor(cursor)
    return query.where(or_(created_at > after_at,
                           and_(created_at == after_at, object_id > after_id)))


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
    check_limit(limit)
    query = after_cursor(query, model.created_at, model.id, cursor)
    rows: Sequence[Any] = (
        session.scalars(query.order_by(model.created_at, model.id).limit(limit + 1)).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return Page(items=tuple(convert(row) for row in rows), next_cursor=next_cursor)
