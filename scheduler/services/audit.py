"""Audit trail writes: who did what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.orm import Session

from scheduler.ids import new_id
from scheduler.models import AuditEntry, table
from scheduler.services.common import Actor, Page, decode_cursor, encode_cursor
from scheduler.tracing import current_request_id

# Built once, with parameters passed at execution: `.values(...)` per call would build and
# cache-key a new statement on every plan write.
_INSERT = insert(table(AuditEntry))


def record(
    session: Session,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    clinic_id: str | None = None,
    plan_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction (committed with the change it records)."""
    session.connection().execute(_INSERT, {
        "id": new_id("aud"), "at": at, "clinic_id": clinic_id, "plan_id": plan_id,
        "actor_key_id": actor.key_id, "actor_name": actor.name, "action": action,
        "before": before, "after": after, "request_id": current_request_id()})


def list_entries(uow: Any, *, scope: frozenset[str] | None, clinic_id: str | None = None,
                 plan_id: str | None = None, limit: int = 50,
                 cursor: str | None = None) -> Page[dict[str, Any]]:
    """Audit entries of the caller's clinics, newest first (admins also see global ones)."""
    query = select(AuditEntry)
    if scope is not None:
        query = query.where(AuditEntry.clinic_id.in_(scope))
    if clinic_id is not None:
        query = query.where(AuditEntry.clinic_id == clinic_id)
    if plan_id is not None:
        query = query.where(AuditEntry.plan_id == plan_id)
    if cursor:
        at, entry_id = decode_cursor(cursor)
        query = query.where(or_(AuditEntry.at < at,
                                and_(AuditEntry.at == at, AuditEntry.id < entry_id)))
    with uow:
        rows = uow.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                   .limit(limit + 1)).all()
        more, rows = len(rows) > limit, rows[:limit]
        items = tuple({"id": r.id, "at": r.at, "clinic_id": r.clinic_id, "plan_id": r.plan_id,
                       "actor": {"key_id": r.actor_key_id, "name": r.actor_name},
                       "action": r.action, "before": r.before, "after": r.after,
                       "request_id": r.request_id} for r in rows)
        return Page(items, encode_cursor(rows[-1].at, rows[-1].id) if more else None)
