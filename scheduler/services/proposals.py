"""Proposals: the next-visit window, the series, the decision trail and the front desk's
worklist of follow-ups (overdue first, then by target date)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, or_, select

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import Clinic, Patient
from scheduler.plan_models import DecisionRow, Plan
from scheduler.services.common import MAX_LIMIT, Page, Scope
from scheduler.services.plan_core import calendar_of, load
from scheduler.services.plan_views import window_view

STATES = ("upcoming", "due", "overdue", "lapsed", "booked")


def next_visit(uow: UnitOfWork, plan_id: str, *, now: datetime,
               scope: Scope = None) -> dict[str, Any]:
    with uow:
        loaded = load(uow.session, plan_id, scope)
        today = loaded.calendar.local_date(now)
        window = rules.next_window(loaded.state, loaded.ruleset, today, loaded.calendar.is_open)
        return window_view(window)


def schedule(uow: UnitOfWork, plan_id: str, *, count: int, now: datetime,
             scope: Scope = None) -> list[dict[str, date]]:
    """The next `count` targets at the current frequency, each on an open day."""
    with uow:
        loaded = load(uow.session, plan_id, scope)
        today = loaded.calendar.local_date(now)
        items = rules.series(loaded.state, loaded.ruleset, today, loaded.calendar.is_open, count)
        return [{"target": t, "earliest": e, "latest": lt} for t, e, lt in items]


def decisions(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """The explanation trail, newest first (by the event's place in the history)."""
    _limit(limit)
    with uow:
        load(uow.session, plan_id, scope)
        query = select(DecisionRow).where(DecisionRow.plan_id == plan_id)
        if cursor:
            (position,) = _decode(cursor, 1)
            query = query.where(DecisionRow.position < position)
        rows = uow.session.scalars(query.order_by(DecisionRow.position.desc())
                                   .limit(limit + 1)).all()
        more, rows = len(rows) > limit, rows[:limit]
        return Page(tuple({"id": r.id, **r.payload} for r in rows),
                    _encode([rows[-1].position]) if more else None)


def state_on(row: Plan, on: date) -> str:
    """The window state of a plan row on `on`, from its stored window columns."""
    if row.next_earliest is None or row.next_latest is None:
        return "none"
    if row.booked_until is not None and row.booked_until >= on:
        return "booked"
    if on < row.next_earliest:
        return "upcoming"
    if on <= row.next_latest:
        return "due"
    if row.lapse_after is not None and on > row.lapse_after:
        return "lapsed"
    return "overdue"


def followups(uow: UnitOfWork, *, clinic_id: str, on: date | None, now: datetime,
              state: str | None = None, scope: Scope = None, limit: int = 50,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """Open plans of one clinic with their window on `on` (default: the clinic's today)."""
    _limit(limit)
    with uow:
        session = uow.session
        clinic = session.get(Clinic, clinic_id)
        if clinic is None or (scope is not None and clinic_id not in scope):
            raise NotFound("clinic", clinic_id)
        on = on or calendar_of(clinic).local_date(now)
        not_booked = or_(Plan.booked_until.is_(None), Plan.booked_until < on)
        conditions = {
            "booked": Plan.booked_until >= on,
            "upcoming": and_(not_booked, Plan.next_earliest > on),
            "due": and_(not_booked, Plan.next_earliest <= on, Plan.next_latest >= on),
            "overdue": and_(not_booked, Plan.next_latest < on, Plan.lapse_after >= on),
            "lapsed": and_(not_booked, Plan.lapse_after < on),
        }
        bucket = case((and_(not_booked, Plan.next_latest < on), 0), else_=1)
        query = (select(Plan, Patient.external_id, bucket.label("bucket"))
                 .join(Patient, Patient.id == Plan.patient_id)
                 .where(Plan.clinic_id == clinic_id, Plan.next_target.is_not(None)))
        if state is not None:
            query = query.where(conditions[state])
        if cursor:
            after_bucket, after_target, after_id = _decode(cursor, 3)
            after_day = date.fromisoformat(after_target)
            query = query.where(or_(bucket > after_bucket,
                                    and_(bucket == after_bucket, Plan.next_target > after_day),
                                    and_(bucket == after_bucket, Plan.next_target == after_day,
                                         Plan.id > after_id)))
        rows = session.execute(query.order_by(bucket, Plan.next_target, Plan.id)
                               .limit(limit + 1)).all()
        more, rows = len(rows) > limit, rows[:limit]
        items = tuple(_followup(row, external_id, on) for row, external_id, _ in rows)
        next_cursor = None
        if more:
            last, _, last_bucket = rows[-1]
            next_cursor = _encode([last_bucket, last.next_target.isoformat(), last.id])
        return Page(items, next_cursor)


def _followup(row: Plan, external_id: str, on: date) -> dict[str, Any]:
    return {"plan_id": row.id, "patient_id": row.patient_id,
            "patient_external_id": external_id, "phase": row.phase, "status": row.status,
            "on": on, "window": {"kind": row.next_kind, "earliest": row.next_earliest,
                                 "target": row.next_target, "latest": row.next_latest,
                                 "state": state_on(row, on)}}


def _limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.single("limit", f"Must be between 1 and {MAX_LIMIT}.")


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return values
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.single("cursor", "Not a valid cursor.") from None
