"""The plan page's read: a plan with its patient, window, series, chart data and trails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

import rules
from scheduler.db import UnitOfWork
from scheduler.models import DecisionRow, Patient, Report, Visit
from scheduler.services import audit
from scheduler.services.plan_core import load
from scheduler.services.plan_views import PlanView, plan_view

SERIES_COUNT = 6
# The page shows at most this many of each (newest kept): a long plan stays one fast page.
MAX_REPORTS = 500
MAX_VISITS = 500
MAX_DECISIONS = 500
AUDIT_ENTRIES = 50


@dataclass(frozen=True, slots=True)
class ReportPoint:
    day: date
    recorded_at: datetime
    pain: int
    function: int | None
    soreness_hours: int | None
    adverse_event: bool


@dataclass(frozen=True, slots=True)
class VisitPoint:
    day: date
    starts_at: datetime
    kind: str
    status: str
    cancellation_reason: str | None


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    """One decision of the trail, with its explanations' sentences."""

    id: str
    day: date
    at: datetime
    trigger: str
    event_kind: str
    phase_before: str | None
    phase_after: str
    status_before: str | None
    status_after: str
    frequency_before: dict[str, Any] | None
    frequency_after: dict[str, Any]
    changed: bool
    explanations: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PlanPage:
    """Everything the plan page shows, in one read."""

    plan: PlanView
    patient_external_id: str
    patient_display_name: str | None
    consent_at: datetime | None
    start_date: date
    series: list[dict[str, date]]
    reports: list[ReportPoint]  # oldest first
    visits: list[VisitPoint]  # oldest first
    decisions: list[DecisionEntry]  # oldest first (the page shows the trail newest first)
    audit: list[dict[str, Any]] | None  # newest first; None when not asked for


def plan_page(uow: UnitOfWork, plan_id: str, *, now: datetime, scope: frozenset[str] | None,
              with_audit: bool) -> PlanPage:
    """The plan page's data; NotFound when the plan is missing or outside `scope`.
    `with_audit` for the roles that may read the audit trail (admin, physiotherapist)."""
    with uow:
        session = uow.session
        loaded = load(session, plan_id, scope)
        cal, state = loaded.calendar, loaded.state
        view = plan_view(loaded, now)
        patient = session.get(Patient, loaded.row.patient_id)
        assert patient is not None
        report_rows = session.scalars(
            select(Report).where(Report.plan_id == plan_id)
            .order_by(Report.recorded_at.desc(), Report.id.desc()).limit(MAX_REPORTS)).all()
        visit_rows = session.scalars(
            select(Visit).where(Visit.plan_id == plan_id)
            .order_by(Visit.starts_at.desc(), Visit.id.desc()).limit(MAX_VISITS)).all()
        decision_rows = session.execute(
            select(DecisionRow.id, DecisionRow.payload).where(DecisionRow.plan_id == plan_id)
            .order_by(DecisionRow.position.desc()).limit(MAX_DECISIONS)).all()
        reports = [ReportPoint(cal.local_date(r.recorded_at), r.recorded_at, r.pain, r.function,
                               r.soreness_hours, r.adverse_event) for r in reversed(report_rows)]
        visits = [VisitPoint(cal.local_date(v.starts_at), v.starts_at, v.kind, v.status,
                             v.cancellation_reason) for v in reversed(visit_rows)]
        decisions = [_decision(row_id, payload, cal.local_date)
                     for row_id, payload in reversed(decision_rows)]
        external_id, display_name = patient.external_id, patient.display_name
    series = rules.series(state, loaded.ruleset, view.today, cal.is_open, SERIES_COUNT)
    entries = None
    if with_audit:
        entries = list(audit.list_entries(uow, scope=scope, plan_id=plan_id,
                                          limit=AUDIT_ENTRIES).items)
    return PlanPage(
        plan=view, patient_external_id=external_id, patient_display_name=display_name,
        consent_at=state.consent_at, start_date=state.start_date,
        series=[{"target": t, "earliest": e, "latest": lt} for t, e, lt in series],
        reports=reports, visits=visits, decisions=decisions, audit=entries)


def _decision(row_id: str, payload: dict[str, Any], local_date: Any) -> DecisionEntry:
    at = datetime.fromisoformat(payload["at"])
    return DecisionEntry(
        id=row_id, day=local_date(at), at=at, trigger=payload["trigger"],
        event_kind=payload.get("event_kind", ""), phase_before=payload.get("phase_before"),
        phase_after=payload["phase_after"], status_before=payload.get("status_before"),
        status_after=payload["status_after"],
        frequency_before=payload.get("frequency_before"),
        frequency_after=payload["frequency_after"], changed=bool(payload.get("changed")),
        explanations=list(payload.get("explanations", [])))
