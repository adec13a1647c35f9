"""Audit trail writes: who did what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.ids import new_id
from scheduler.models import AuditEntry
from scheduler.services.common import Actor


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
    session.add(
        AuditEntry(
            id=new_id("aud"),
            at=at,
            clinic_id=clinic_id,
            plan_id=plan_id,
            actor_key_id=actor.key_id,
            actor_name=actor.name,
            action=action,
            before=before,
            after=after,
        )
    )
