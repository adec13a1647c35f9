"""Due / overdue detection: a plan's window state on a clinic date, emitted once per change.

`window_state` on the plan row remembers the state jobs last saw; the guarded UPDATE below is
the claim, so two sweeps (or a sweep and the nightly pass) never emit the same event twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from scheduler.plan_models import Plan
from scheduler.services.proposals import state_on
from scheduler.webhooks.outbox import emit

NOTIFY = {"due": "followup.due", "overdue": "followup.overdue"}


def followup_data(row: Plan, state: str, on: date) -> dict:
    return {"plan_id": row.id, "patient_id": row.patient_id, "clinic_id": row.clinic_id,
            "state": state, "on": on.isoformat(), "kind": row.next_kind,
            "earliest": row.next_earliest.isoformat() if row.next_earliest else None,
            "target": row.next_target.isoformat() if row.next_target else None,
            "latest": row.next_latest.isoformat() if row.next_latest else None}


def observe(session: Session, row: Plan, on: date, now: datetime) -> str | None:
    """Record the plan's state on `on`; emit followup.due / .overdue when it just became so.
    Returns the event type emitted, if any."""
    state = state_on(row, on)
    if row.window_state == state:
        return None
    claimed = session.execute(
        update(Plan).where(Plan.id == row.id, or_(Plan.window_state.is_(None),
                                                  Plan.window_state != state))
        .values(window_state=state).execution_options(synchronize_session=False)).rowcount
    row.window_state = state
    if not claimed or state not in NOTIFY:
        return None
    emit(session, clinic_id=row.clinic_id, plan_id=row.id, type=NOTIFY[state],
         data=followup_data(row, state, on), now=now)
    return NOTIFY[state]


def changed_candidates(clinic_id: str, on: date):  # type: ignore[no-untyped-def]
    """Plans of a clinic whose due/overdue state on `on` differs from what jobs last saw."""
    not_booked = or_(Plan.booked_until.is_(None), Plan.booked_until < on)
    due = and_(not_booked, Plan.next_earliest <= on, Plan.next_latest >= on)
    overdue = and_(not_booked, Plan.next_latest < on, Plan.lapse_after >= on)
    return (select(Plan).where(Plan.clinic_id == clinic_id, Plan.next_target.is_not(None))
            .where(or_(and_(due, or_(Plan.window_state.is_(None), Plan.window_state != "due")),
                       and_(overdue, or_(Plan.window_state.is_(None),
                                         Plan.window_state != "overdue"))))
            .order_by(Plan.id))
