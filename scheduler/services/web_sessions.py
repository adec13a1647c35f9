"""Server-side web sessions: the cookie carries a random token, the row (keyed by its SHA-256)
carries the staff user and the session's data; idle and absolute expiry are checked on load.

Also the web layer's signing key, made once per database so every worker shares it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from scheduler.db import UnitOfWork
from scheduler.models import StaffAccount, WebSecret, WebSession
from scheduler.services.staff import StaffUser, view

# last_seen_at is written at most this often: a page view reads its session, it need not write.
TOUCH_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: its staff user (None before sign-in) and its data."""

    staff: StaffUser | None
    data: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime


def new_token() -> str:
    """A fresh session token for the cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load(uow: UnitOfWork, token: str, *, now: datetime, idle: timedelta,
         absolute: timedelta) -> SessionRecord | None:
    """The live session of `token`, or None (unknown, idle too long, too old, or its staff
    user disabled); an expired one is deleted. Refreshes last_seen_at (at most once a minute)."""
    if not (token.isascii() and token.isprintable()) or len(token) > 100:
        return None
    with uow:
        row = uow.session.get(WebSession, _id(token))
        if row is None:
            return None
        staff = uow.session.get(StaffAccount, row.staff_id) if row.staff_id else None
        if (now - row.last_seen_at >= idle or now - row.created_at >= absolute
                or (staff is not None and staff.disabled_at is not None)):
            uow.session.delete(row)
            uow.commit()
            return None
        if now - row.last_seen_at >= TOUCH_RESOLUTION:
            row.last_seen_at = now
        record = SessionRecord(staff=view(staff) if staff is not None else None,
                               data=dict(row.data), created_at=row.created_at,
                               last_seen_at=row.last_seen_at)
        uow.commit()
        return record


def save(uow: UnitOfWork, token: str, *, data: dict[str, Any], staff_id: str | None,
         now: datetime, replaces: str | None = None) -> None:
    """Store the session of `token` (created now if new). `replaces`: a token whose session
    this one rotates; that one is deleted in the same transaction."""
    with uow:
        if replaces is not None:
            uow.session.execute(delete(WebSession).where(WebSession.id == _id(replaces)))
        row = uow.session.get(WebSession, _id(token))
        if row is None:
            uow.session.add(WebSession(id=_id(token), staff_id=staff_id, data=data,
                                       created_at=now, last_seen_at=now))
        else:
            row.data, row.staff_id = data, staff_id
        uow.commit()


def end(uow: UnitOfWork, token: str) -> None:
    """Delete the session of `token` (ending an ended one is harmless)."""
    with uow:
        uow.session.execute(delete(WebSession).where(WebSession.id == _id(token)))
        uow.commit()


def purge_expired(uow: UnitOfWork, *, now: datetime, idle: timedelta,
                  absolute: timedelta) -> int:
    """Delete every session past its idle or absolute limit; returns how many."""
    with uow:
        result = uow.session.execute(
            delete(WebSession).where((WebSession.last_seen_at <= now - idle)
                                     | (WebSession.created_at <= now - absolute)))
        uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def signing_key(uow: UnitOfWork, name: str, *, now: datetime) -> str:
    """The database's secret `name`, made on first use (two workers racing agree on one)."""
    with uow:
        value = uow.session.scalar(select(WebSecret.value).where(WebSecret.name == name))
        if value is not None:
            return value
        try:
            uow.session.add(WebSecret(name=name, value=secrets.token_urlsafe(48), created_at=now))
            uow.commit()
        except IntegrityError:
            uow.rollback()
    with uow:
        value = uow.session.scalar(select(WebSecret.value).where(WebSecret.name == name))
        assert value is not None
        return value


__all__ = ["SessionRecord", "end", "load", "new_token", "purge_expired", "save",
           "signing_key"]
