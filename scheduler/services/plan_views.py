"""Plain views of plans, windows and decisions returned by the plan services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import rules
from scheduler.services.plan_core import Loaded

# The contact log's flag (outcome do_not_contact): held by the plan's `do_not_contact_at`,
# not by the engine's state, and shown beside the engine's flags.
DO_NOT_CONTACT = "do_not_contact"


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
    authorization: dict[str, Any] | None = None


def plan_view(loaded: Loaded, now: datetime, state: rules.PlanState | None = None) -> PlanView:
    """The plan as of `now`: the frequency in force and the window on the clinic's today."""
    row, cal = loaded.row, loaded.calendar
    state = state or loaded.state
    today = cal.local_date(now)
    window = rules.next_window(state, loaded.ruleset, today, cal.is_open)
    next_visit = {**window.values(), "snoozed_until": effective_snooze(
        today, window.snoozed_until, row.contact_snoozed_until)}
    flags = [str(f) for f in rules.flags_on(state, loaded.ruleset, today)]
    in_force = rules.in_force(state, today)
    override = state.override if state.override and today <= state.override.until else None
    return PlanView(
        id=row.id, patient_id=row.patient_id, clinic_id=row.clinic_id, condition=row.condition,
        status=str(state.status), phase=str(state.phase), phase_since=state.phase_since,
        frequency=in_force.to_dict(), interval_days=in_force.interval_days,
        computed_frequency=state.computed.to_dict(),
        override=override.to_dict() if override else None,
        review={"required": state.review_required, "reasons": list(state.review_reasons)},
        flags=sorted([*flags, DO_NOT_CONTACT]) if row.do_not_contact_at else flags,
        next_visit=next_visit, ruleset=row.ruleset, version=row.version, today=today,
        created_at=row.created_at, updated_at=row.updated_at,
        authorization=authorization_view(state))


def authorization_view(state: rules.PlanState) -> dict[str, Any] | None:
    """The plan's authorization with what is used and left (rule 21), or None."""
    auth = state.authorization
    if auth is None:
        return None
    return {"payer": auth.payer, "visits_allowed": auth.visits_allowed,
            "valid_until": auth.valid_until, "count_no_shows": auth.count_no_shows,
            "visits_used": len(state.authorized_visits), "visits_left": state.visits_left}


def effective_snooze(on: date, *snoozes: date | None) -> date | None:
    """The last day outreach waits, of rule 23's and the contact log's snoozes (each the last
    day off the worklist, inclusive), or None when none reaches `on`."""
    return max((d for d in snoozes if d is not None and d >= on), default=None)
