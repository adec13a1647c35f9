"""Proposals: the next-visit window, the series, the decision trail and the front desk's
worklist of follow-ups (overdue first, then by target date)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import Clinic, Patient
from scheduler.plan_models import DecisionRow, Plan
from scheduler.services.common import MAX_LIMIT, Page, Scope
from scheduler.services.plan_core import calendar_of, load, load_for_proposal
from scheduler.services.plan_views import window_view

STATES = ("upcoming", "due", "overdue", "lapsed", "booked")


def next_visit(uow: UnitOfWork, plan_id: str, *, now: datetime,
               scope: Scope = None) -> dict[str, Any]:
    with uow:
        state, ruleset, calendar = load_for_proposal(uow.session, plan_id, scope)
    window = rules.next_window(state, ruleset, calendar.local_date(now), calendar.is_open)
    return window_view(window)


def schedule(uow: UnitOfWork, plan_id: str, *, count: int, now: datetime,
             scope: Scope = None) -> list[dict[str, date]]:
    """The next `count` targets at the current frequency, each on an open day."""
    with uow:
        state, ruleset, calendar = load_for_proposal(uow.session, plan_id, scope)
    items = rules.series(state, ruleset, calendar.local_date(now), calendar.is_open, count)
    return [{"target": t, "earliest": e, "latest": lt} for t, e, lt in items]


def decisions(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """The explanation trail, newest first (by the event's place in the history)."""
    _limit(limit)
    with uow:
        load(uow.session, plan_id, scope)
        query = select(DecisionRow).where(DecisionRow.plan_id == plan_id)
        if cursor:
            (position,) = _decode(cursor, (int,))
            query = query.where(DecisionRow.position < position)
        rows = uow.session.scalars(query.order_by(DecisionRow.position.desc())
                                   .limit(limit + 1)).all()
        more, rows = len(rows) > limit, rows[:limit]
        return Page(tuple({"id": r.id, **r.payload} for r in rows),
                    _encode([rows[-1].position]) if more else None)


def state_on(row: Any, on: date) -> str:
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


WORKLIST_COLUMNS = (Plan.id, Plan.patient_id, Plan.phase, Plan.status, Plan.next_kind,
                    Plan.next_earliest, Plan.next_target, Plan.next_latest, Plan.lapse_after,
                    Plan.booked_until)


def followups(uow: UnitOfWork, *, clinic_id: str, on: date | None, now: datetime,
              state: str | None = None, scope: Scope = None, limit: int = 50,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """Open plans of one clinic with their window on `on` (default: the clinic's today).

    Overdue (and lapsed) plans first, then the rest, each by target date. Each part is one
    query walking the (clinic_id, next_target, id) index, so a page costs the same among ten
    plans or a million; patients are looked up for the page only.
    """
    _limit(limit)
    with uow:
        session = uow.session
        clinic = session.get(Clinic, clinic_id)
        if clinic is None or (scope is not None and clinic_id not in scope):
            raise NotFound("clinic", clinic_id)
        on = on or calendar_of(clinic).local_date(now)
        not_booked = or_(Plan.booked_until.is_(None), Plan.booked_until < on)
        late = and_(not_booked, Plan.next_latest < on)
        conditions = {
            "booked": Plan.booked_until >= on,
            "upcoming": and_(not_booked, Plan.next_earliest > on),
            "due": and_(not_booked, Plan.next_earliest <= on, Plan.next_latest >= on),
            "overdue": and_(late, Plan.lapse_after >= on),
            "lapsed": and_(not_booked, Plan.lapse_after < on),
        }
        after: tuple[int, date, str] | None = None
        if cursor:
            bucket, target, plan_id = _decode(cursor, (int, str, str))
            try:
                after = (int(bucket), date.fromisoformat(target), str(plan_id))
            except (TypeError, ValueError):
                raise ValidationFailed.single("cursor", "Not a valid cursor.") from None
        rows: list[tuple[int, Any]] = []
        for bucket, part in ((0, late), (1, ~late)):
            if len(rows) > limit or (after is not None and after[0] > bucket):
                continue
            query = (select(*WORKLIST_COLUMNS)
                     .where(Plan.clinic_id == clinic_id, Plan.next_target.is_not(None), part))
            if state is not None:
                query = query.where(conditions[state])
            if after is not None and after[0] == bucket:
                query = query.where(or_(Plan.next_target > after[1],
                                        and_(Plan.next_target == after[1], Plan.id > after[2])))
            found = session.execute(query.order_by(Plan.next_target, Plan.id)
                                    .limit(limit + 1 - len(rows))).all()
            rows += [(bucket, row) for row in found]
        more, rows = len(rows) > limit, rows[:limit]
        externals = dict(session.execute(select(Patient.id, Patient.external_id).where(
            Patient.id.in_([row.patient_id for _, row in rows]))).all()) if rows else {}
        items = tuple(_followup(row, externals.get(row.patient_id, ""), on) for _, row in rows)
        next_cursor = None
        if more:
            last_bucket, last = rows[-1]
            next_cursor = _encode([last_bucket, last.next_target.isoformat(), last.id])
        return Page(items, next_cursor)


def _followup(row: Any, external_id: str, on: date) -> dict[str, Any]:
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


def _decode(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """A cursor's values, each of the given type (a tampered one is a 422, never a 500)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types) or not all(
                isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types,
                                                                             strict=True)):
            raise ValueError
        return values
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.single("cursor", "Not a valid cursor.") from None
