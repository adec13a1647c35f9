"""Plain views of plans, windows and decisions returned by the plan services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import rules
from scheduler.plan_models import DecisionRow, Plan
from scheduler.services.plan_core import Loaded


@dataclass(frozen=True, slots=True)
class PlanView:
    id: str
    patient_id: str
    clinic_id: str
    condition: str
    status: str
    phase: str
    phase_since: date
    frequency: dict[str, Any]
    interval_days: float
    computed_frequency: dict[str, Any]
    override: dict[str, Any] | None
    review: dict[str, Any]
    flags: list[str]
    next_visit: dict[str, Any]
    ruleset: str
    version: int
    today: date
    created_at: datetime
    updated_at: datetime


def window_view(window: rules.Window) -> dict[str, Any]:
    """The window with real dates (the API layer formats them)."""
    return {"kind": str(window.kind) if window.kind else None, "earliest": window.earliest,
            "target": window.target, "latest": window.latest, "state": str(window.state),
            "extended": window.extended, "interval_days": window.interval_days,
            "reasons": [r.to_dict() for r in window.reasons]}


def plan_view(loaded: Loaded, now: datetime, state: rules.PlanState | None = None) -> PlanView:
    """The plan as of `now`: the frequency in force and the window on the clinic's today."""
    row, cal = loaded.row, loaded.calendar
    state = state or loaded.state
    today = cal.local_date(now)
    window = rules.next_window(state, loaded.ruleset, today, cal.is_open)
    in_force = rules.in_force(state, today)
    override = state.override if state.override and today <= state.override.until else None
    return PlanView(
        id=row.id, patient_id=row.patient_id, clinic_id=row.clinic_id, condition=row.condition,
        status=str(state.status), phase=str(state.phase), phase_since=state.phase_since,
        frequency=in_force.to_dict(), interval_days=in_force.interval_days,
        computed_frequency=state.computed.to_dict(),
        override=override.to_dict() if override else None,
        review={"required": state.review_required, "reasons": list(state.review_reasons)},
        flags=[str(f) for f in state.flags], next_visit=window_view(window),
        ruleset=row.ruleset, version=row.version, today=today, created_at=row.created_at,
        updated_at=row.updated_at)


def decision_view(decision: rules.Decision, decision_id: str) -> dict[str, Any]:
    return {"id": decision_id, **decision.to_dict()}


def decision_row_view(row: DecisionRow) -> dict[str, Any]:
    return {"id": row.id, **row.payload}


def etag_of(row: Plan, today: date) -> str:
    """Plans change with the calendar too (due -> overdue): the tag carries the local date."""
    return f"{row.version}-{today.isoformat()}"
