"""Calendar feeds: a clinic's revocable iCalendar URL for calendar apps (which cannot send a
bearer key). The token (256 random bits) is shown once, at creation; only its SHA-256 is
stored, so a database leak reveals no working URL."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound
from scheduler.ids import new_id
from scheduler.models import CalendarFeed, Clinic, table
from scheduler.services import audit
from scheduler.services.calendars import clinic_feed
from scheduler.services.common import Actor, Scope, in_scope

TOKEN_BYTES = 32
MAX_TOKEN = 100
_FEEDS = table(CalendarFeed)
_BY_HASH = (select(_FEEDS.c.clinic_id)
            .where(_FEEDS.c.token_hash == bindparam("token_hash"),
                   _FEEDS.c.revoked_at.is_(None)))


@dataclass(frozen=True, slots=True)
class FeedView:
    id: str
    clinic_id: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    """A new feed and its token, which is never retrievable again."""

    feed: FeedView
    token: str

    @property
    def path(self) -> str:
        return f"/feeds/{self.token}.ics"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(uow: UnitOfWork, clinic_id: str, *, actor: Actor, now: datetime,
                scope: Scope = None) -> IssuedFeed:
    """A new feed of the clinic's proposed follow-ups; NotFound outside `scope`."""
    with uow:
        session = uow.session
        if not in_scope(scope, clinic_id) or session.get(Clinic, clinic_id) is None:
            raise NotFound("clinic", clinic_id)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = CalendarFeed(id=new_id("cal"), clinic_id=clinic_id, token_hash=_hash(token),
                           created_by=actor.key_id, created_at=now, revoked_at=None)
        session.add(row)
        session.flush()
        audit.record(session, at=now, actor=actor, action="calendar_feed.create",
                     clinic_id=clinic_id, after={"id": row.id})
        uow.commit()
        return IssuedFeed(FeedView(row.id, clinic_id, now, None), token)


def revoke_feed(uow: UnitOfWork, feed_id: str, *, actor: Actor, now: datetime,
                scope: Scope = None) -> None:
    """Revoke a feed at once (its URL is a 404 from now on); NotFound outside `scope` or
    when already revoked."""
    with uow:
        session = uow.session
        row = session.get(CalendarFeed, feed_id)
        if row is None or row.revoked_at is not None or not in_scope(scope, row.clinic_id):
            raise NotFound("calendar feed", feed_id)
        row.revoked_at = now
        audit.record(session, at=now, actor=actor, action="calendar_feed.revoke",
                     clinic_id=row.clinic_id, before={"id": row.id})
        uow.commit()


def feed_calendar(uow: UnitOfWork, token: str, *, now: datetime) -> bytes:
    """The feed's iCalendar; NotFound for an unknown or revoked token (nothing more said)."""
    if not 1 <= len(token) <= MAX_TOKEN:
        raise NotFound("calendar feed", "-")
    with uow:
        session = uow.session
        connection = session.connection()
        clinic_id = connection.execute(_BY_HASH, {"token_hash": _hash(token)}).scalar()
        clinic = session.get(Clinic, clinic_id) if clinic_id is not None else None
        if clinic is None:
            raise NotFound("calendar feed", "-")
        return clinic_feed(connection, clinic_id=clinic.id, clinic_name=clinic.name,
                           clinic_version=clinic.version, calendar=calendar_of(clinic),
                           session=session, now=now)
