"""Due / overdue detection: a plan's window state on a clinic date, emitted once per change.

`window_state` on the plan row remembers the state jobs last saw; the store's guarded UPDATE
is the claim, so two sweeps (or a sweep and the nightly pass) never emit the same event twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.store import window_sql
from scheduler.store.plans import WindowColumns
from scheduler.webhooks.outbox import emit

NOTIFY = window_sql.NOTIFY


def followup_data(row: WindowColumns, state: str, on: date) -> dict[str, Any]:
    """A followup event's data: ids and the window, never patient details."""
    return {"plan_id": row.id, "patient_id": row.patient_id, "clinic_id": row.clinic_id,
            "state": state, "on": on.isoformat(), "kind": row.next_kind,
            "earliest": row.next_earliest.isoformat() if row.next_earliest else None,
            "target": row.next_target.isoformat() if row.next_target else None,
            "latest": row.next_latest.isoformat() if row.next_latest else None}


def observe(session: Session, row: WindowColumns, on: date, now: datetime) -> str | None:
    """Record the plan's state on `on`; emit followup.due / .overdue when it just became so.
    Returns the event type emitted, if any."""
    state = row.state_on(on)
    if row.window_state == state:
        return None
    claimed = window_sql.claim_window_state(session.connection(), row.id, str(state))
    if not claimed or state not in NOTIFY:
        return None
    emit(session, clinic_id=row.clinic_id, plan_id=row.id, type=NOTIFY[state],
         data=followup_data(row, str(state), on), now=now)
    return NOTIFY[state]
