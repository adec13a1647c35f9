"""Proposals: the next-visit window, the series, the decision trail and the front desk's
worklist of follow-ups (overdue first, then by target date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

import rules
from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import Clinic, DecisionRow, Patient
from scheduler.services.common import Page, Scope, check_limit, decode, encode
from scheduler.services.contacts import actor_label
from scheduler.services.plan_core import load, load_for_proposal
from scheduler.services.plan_views import DO_NOT_CONTACT, effective_snooze
from scheduler.services.rulesets import resolve
from scheduler.store import plans as store
from scheduler.store import window_sql

STATES = tuple(str(s) for s in rules.WindowState if s is not rules.WindowState.NONE)
# Flags the worklist can filter on: those stored with the plan (rule 21's depend on the day),
# the contact log's do_not_contact included.
STORED_FLAGS = (*(str(f) for f in rules.Flag if f not in rules.AUTHORIZATION_FLAGS),
                DO_NOT_CONTACT)


def next_visit(uow: UnitOfWork, plan_id: str, *, now: datetime,
               scope: Scope = None) -> dict[str, Any]:
    with uow:
        state, ruleset, calendar, contact_snooze = load_for_proposal(uow.session, plan_id,
                                                                     scope)
    today = calendar.local_date(now)
    window = rules.next_window(state, ruleset, today, calendar.is_open)
    return {**window.values(),
            "snoozed_until": effective_snooze(today, window.snoozed_until, contact_snooze)}


def schedule(uow: UnitOfWork, plan_id: str, *, count: int, now: datetime,
             scope: Scope = None) -> list[dict[str, date]]:
    """The next `count` targets at the current frequency, each on an open day."""
    with uow:
        state, ruleset, calendar, _ = load_for_proposal(uow.session, plan_id, scope)
    items = rules.series(state, ruleset, calendar.local_date(now), calendar.is_open, count)
    return [{"target": t, "earliest": e, "latest": lt} for t, e, lt in items]


def decisions(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
              cursor: str | None = None) -> Page[dict[str, Any]]:
    """The explanation trail, newest first (by the event's place in the history)."""
    check_limit(limit)
    with uow:
        load(uow.session, plan_id, scope)
        query = select(DecisionRow).where(DecisionRow.plan_id == plan_id)
        if cursor:
            (position,) = decode(cursor, (int,))
            query = query.where(DecisionRow.position < position)
        rows = uow.session.scalars(query.order_by(DecisionRow.position.desc())
                                   .limit(limit + 1)).all()
        more, rows = len(rows) > limit, rows[:limit]
        return Page(tuple({"id": r.id, "event_id": r.event_id, **r.payload} for r in rows),
                    encode([rows[-1].position]) if more else None)


def followups(uow: UnitOfWork, *, clinic_id: str, on: date | None, now: datetime,
              state: str | None = None, scope: Scope = None, limit: int = 50,
              cursor: str | None = None, flag: str | None = None,
              include_snoozed: bool = False) -> Page[dict[str, Any]]:
    """Open plans of one clinic with their window on `on` (default: the clinic's today).

    `flag` keeps plans with that stored flag (e.g. review_suggested: the physiotherapist's
    review list). Plans held off outreach are left off unless `include_snoozed`: snoozed by
    rule 23 or by a contact (through the snooze's last day), or flagged do_not_contact
    (until cleared); `flag=do_not_contact` lists those plans, snoozed or not. Items carry the
    plan's flags on `on` (rule 21's and do_not_contact included), the later snooze still in
    force, the last contact and the contacts logged since the window's earliest day.

    Overdue (and lapsed) plans first, then the rest, each by target date. Each part is one
    query walking the (clinic_id, next_target, id) index, so a page costs the same among ten
    plans or a million; patients are looked up for the page only.
    """
    check_limit(limit)
    with uow:
        session = uow.session
        clinic = session.get(Clinic, clinic_id)
        if clinic is None or (scope is not None and clinic_id not in scope):
            raise NotFound("clinic", clinic_id)
        on = on or calendar_of(clinic).local_date(now)
        wanted = rules.WindowState(state) if state is not None else None
        if flag is not None and flag not in STORED_FLAGS:
            raise ValidationFailed.single("flag", f"One of {', '.join(STORED_FLAGS)}.")
        after: tuple[int, date, str] | None = None
        if cursor:
            bucket, target, plan_id = decode(cursor, (int, str, str))
            try:
                after = (bucket, date.fromisoformat(target), plan_id)
            except ValueError:
                raise ValidationFailed.single("cursor", "Not a valid cursor.") from None
        rows: list[tuple[int, Any]] = []
        for bucket in (0, 1):  # 0: overdue and lapsed, 1: the rest
            if len(rows) > limit or (after is not None and after[0] > bucket):
                continue
            rows += [(bucket, row) for row in window_sql.worklist_part(
                session.connection(), clinic_id=clinic_id, on=on, overdue=bucket == 0,
                state=wanted, after=after[1:] if after is not None and after[0] == bucket
                else None, limit=limit + 1 - len(rows), flag=flag,
                include_snoozed=include_snoozed)]
        more, rows = len(rows) > limit, rows[:limit]
        names = {pid: (ext, name) for pid, ext, name in session.execute(
            select(Patient.id, Patient.external_id, Patient.display_name).where(
                Patient.id.in_([row.patient_id for _, row in rows])))} if rows else {}
        items = tuple(_followup(row, *names.get(row.patient_id, ("", None)), on,
                                resolve(session, row.ruleset)) for _, row in rows)
        next_cursor = None
        if more:
            last_bucket, last = rows[-1]
            next_cursor = encode([last_bucket, last.next_target.isoformat(), last.id])
        return Page(items, next_cursor)


def _followup(row: Any, external_id: str, display_name: str | None, on: date,
              ruleset: rules.Ruleset) -> dict[str, Any]:
    stored = [f for f in store.flags_of(row.flags) if f not in rules.AUTHORIZATION_FLAGS]
    capped = rules.authorization_flags(row.authorization_left, row.authorization_until, on,
                                       ruleset)
    contacted = [DO_NOT_CONTACT] if row.do_not_contact_at is not None else []
    last = None if row.last_contact_at is None else {
        "at": row.last_contact_at, "channel": row.last_contact_channel,
        "outcome": row.last_contact_outcome,
        "actor": actor_label(row.last_contact_key_id, row.last_contact_name)}
    return {"plan_id": row.id, "patient_id": row.patient_id,
            "patient_external_id": external_id, "patient_display_name": display_name,
            "phase": row.phase, "status": row.status,
            "on": on, "flags": sorted({*stored, *map(str, capped), *contacted}),
            "snoozed_until": effective_snooze(on, row.snoozed_until, row.contact_snoozed_until),
            "last_contact": last, "contact_attempts": row.contact_attempts,
            "window": {"kind": row.next_kind, "earliest": row.next_earliest,
                       "target": row.next_target, "latest": row.next_latest,
                       "state": str(rules.window_state(on, row.next_earliest, row.next_latest,
                                                       row.lapse_after, row.booked_until))}}
