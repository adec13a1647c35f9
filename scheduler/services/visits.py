"""Visits from the booking system: each booking or status change is an event of the plan.

Event times: a booking or cancellation happens when it is reported (`now`); an attended visit
or a no-show happened at `starts_at`, so it is folded in its place (and may not be future).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, NotFound
from scheduler.ids import new_id
from scheduler.models import Visit
from scheduler.services.common import Actor, Page, Scope
from scheduler.services.plan_core import apply, engine_call, load, page_of_plan
from scheduler.services.plans import not_in_future
from scheduler.store import contacts as contact_store


@dataclass(frozen=True, slots=True)
class VisitView:
    id: str
    plan_id: str
    clinic_id: str
    external_id: str
    kind: str
    starts_at: datetime
    status: str
    created_at: datetime
    updated_at: datetime
    cancellation_reason: str | None = None
    needs_reschedule: bool | None = None


def _view(row: Visit) -> VisitView:
    return VisitView(row.id, row.plan_id, row.clinic_id, row.external_id, row.kind,
                     row.starts_at, row.status, row.created_at, row.updated_at,
                     row.cancellation_reason, row.needs_reschedule)


def _event(visit_id: str, kind: str, status: str, starts_at: datetime, now: datetime,
           cancellation_reason: str | None, needs_reschedule: bool) -> rules.VisitChanged:
    """The visit's event; a cancellation's reason and reschedule wish are validated by the
    engine (rules 22-23: only a cancellation has them)."""
    happened = status in ("attended", "no_show")
    if happened:
        not_in_future("starts_at", starts_at, now)
    return engine_call(rules.VisitChanged, starts_at if happened else now, visit_id, kind,
                       status, starts_at, cancellation_reason, needs_reschedule)


def _cancellation(status: str, reason: str | None,
                  needs_reschedule: bool | None) -> tuple[str | None, bool | None]:
    """The columns stored for a visit: a reason and the reschedule wish on cancellations."""
    if status != "cancelled":
        return None, None
    return reason, True if needs_reschedule is None else needs_reschedule


def _duplicate(session: Any, clinic_id: str, external_id: str) -> Conflict:
    existing = session.scalar(select(Visit.id).where(Visit.clinic_id == clinic_id,
                                                     Visit.external_id == external_id))
    return Conflict(f"A visit with this external_id already exists: {existing}",
                    existing_id=existing)


def record_visit(uow: UnitOfWork, plan_id: str, *, external_id: str, kind: str,
                 starts_at: datetime, status: str, actor: Actor, now: datetime,
                 cancellation_reason: str | None = None, needs_reschedule: bool | None = None,
                 scope: Scope = None) -> VisitView:
    """A visit booked, attended, cancelled or missed; external_id is unique per clinic. A
    cancellation may carry a reason and `needs_reschedule` (rules 22-23)."""
    with uow:
        session = uow.session
        loaded = load(session, plan_id, scope, lock=True)
        clinic_id = loaded.row.clinic_id
        if session.scalar(select(Visit.id).where(Visit.clinic_id == clinic_id,
                                                 Visit.external_id == external_id)):
            raise _duplicate(session, clinic_id, external_id)
        reason, reschedule = _cancellation(status, cancellation_reason, needs_reschedule)
        row = Visit(id=new_id("vis"), clinic_id=clinic_id, plan_id=plan_id,
                    external_id=external_id, kind=kind, starts_at=starts_at, status=status,
                    created_at=now, updated_at=now, cancellation_reason=reason,
                    needs_reschedule=reschedule)
        event = _event(row.id, kind, status, starts_at, now, cancellation_reason,
                       needs_reschedule is not False)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            uow.rollback()
            raise _duplicate(uow.session, clinic_id, external_id) from None
        apply(session, loaded, event, now=now, actor=actor, action=f"visit.{status}",
              detail=_detail(reason, reschedule))
        _end_contact_snooze(session, plan_id, status)
        view = _view(row)
        uow.commit()
        return view


def _end_contact_snooze(session: Any, plan_id: str, status: str) -> None:
    """A new booking or an attended visit ends a contact's snooze, as it ends rule 23's (the
    engine's, in rules/visits.py): the two snoozes end alike."""
    if status in ("booked", "attended"):
        contact_store.end_snooze(session.connection(), plan_id)


def _detail(reason: str | None, reschedule: bool | None) -> dict[str, Any] | None:
    """What the audit entry adds for a cancellation (rules 22-23)."""
    if reason is None and reschedule is None:
        return None
    return {"cancellation_reason": reason, "needs_reschedule": reschedule}


def update_visit(uow: UnitOfWork, visit_id: str, *, status: str,
                 starts_at: datetime | None = None, actor: Actor, now: datetime,
                 cancellation_reason: str | None = None, needs_reschedule: bool | None = None,
                 scope: Scope = None) -> VisitView:
    """A status change (and optionally a new time) of a visit; the kind never changes."""
    with uow:
        session = uow.session
        found = session.get(Visit, visit_id)
        if found is None or (scope is not None and found.clinic_id not in scope):
            raise NotFound("visit", visit_id)
        loaded = load(session, found.plan_id, scope, lock=True)
        row = session.get(Visit, visit_id, populate_existing=True)
        assert row is not None
        event = _event(row.id, row.kind, status, starts_at or row.starts_at, now,
                       cancellation_reason, needs_reschedule is not False)
        row.status, row.updated_at = status, now
        row.cancellation_reason, row.needs_reschedule = _cancellation(
            status, cancellation_reason, needs_reschedule)
        if starts_at is not None:
            row.starts_at = starts_at
        apply(session, loaded, event, now=now, actor=actor, action=f"visit.{status}",
              detail=_detail(row.cancellation_reason, row.needs_reschedule))
        _end_contact_snooze(session, row.plan_id, status)
        view = _view(row)
        uow.commit()
        return view


def list_visits(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
                cursor: str | None = None) -> Page[VisitView]:
    return page_of_plan(uow, plan_id, Visit, scope=scope, limit=limit, cursor=cursor,
                        convert=_view)


