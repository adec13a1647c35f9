"""Progress reports: store the report and its event, fold it, return report + decision + plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

import rules
from scheduler.db import UnitOfWork
from scheduler.ids import new_id
from scheduler.models import Report, table
from scheduler.services.common import Actor, Expected, Page, Scope
from scheduler.services.plan_core import (
    Loaded,
    apply,
    check_version,
    engine_call,
    load,
    page_of_plan,
)
from scheduler.services.plan_views import PlanView, plan_view
from scheduler.services.plans import ensure_open, not_in_future


@dataclass(frozen=True, slots=True)
class ReportView:
    id: str
    plan_id: str
    recorded_at: datetime
    pain: int
    function: int | None
    global_change: int | None
    soreness_hours: int | None
    adverse_event: bool
    adverse_event_note: str | None
    notes: str | None
    created_at: datetime


def _view(row: Report) -> ReportView:
    return ReportView(row.id, row.plan_id, row.recorded_at, row.pain, row.function,
                      row.global_change, row.soreness_hours, row.adverse_event,
                      row.adverse_event_note, row.notes, row.created_at)


_INSERT_REPORT = insert(table(Report))


def record_report(uow: UnitOfWork, plan_id: str, *, recorded_at: datetime, pain: int,
                  function: int | None = None, global_change: int | None = None,
                  soreness_hours: int | None = None, adverse_event: bool = False,
                  adverse_event_note: str | None = None, notes: str | None = None,
                  actor: Actor, now: datetime, scope: Scope = None,
                  expected_version: Expected = None
                  ) -> tuple[ReportView, dict[str, Any], PlanView]:
    """A report dated before others is accepted and the plan is re-derived in order.
    `expected_version` (the web form's): PreconditionFailed when the plan has moved on."""
    with uow:
        report, decision, loaded, state = record_in(
            uow.session, plan_id, recorded_at=recorded_at, pain=pain, function=function,
            global_change=global_change, soreness_hours=soreness_hours,
            adverse_event=adverse_event, adverse_event_note=adverse_event_note, notes=notes,
            actor=actor, now=now, scope=scope, expected_version=expected_version)
        uow.commit()
    return report, decision, plan_view(loaded, now, state)  # after commit: outside the lock


def record_in(session: Session, plan_id: str, *, recorded_at: datetime, pain: int,
              function: int | None, global_change: int | None, soreness_hours: int | None,
              adverse_event: bool, adverse_event_note: str | None, notes: str | None,
              actor: Actor, now: datetime, scope: Scope, expected_version: Expected = None
              ) -> tuple[ReportView, dict[str, Any], Loaded, rules.PlanState]:
    """`record_report` inside the caller's transaction (a check-in answer marks its link used
    in the same one): the one path every report takes (validation, decision, audit, outbox).
    Returns the report, its decision, the plan as loaded and its new state (for `plan_view`,
    which callers build after commit)."""
    not_in_future("recorded_at", recorded_at, now)
    event = engine_call(rules.ProgressReport, recorded_at, pain, function, global_change,
                        soreness_hours, adverse_event)
    loaded = load(session, plan_id, scope, lock=True)
    check_version(loaded, expected_version)
    ensure_open(loaded)
    state, decision = apply(session, loaded, event, now=now, actor=actor,
                            action="plan.report_recorded")
    report = ReportView(new_id("rpt"), plan_id, recorded_at, pain, function, global_change,
                        soreness_hours, adverse_event, adverse_event_note, notes, now)
    session.connection().execute(_INSERT_REPORT, {
        **{f: getattr(report, f) for f in ReportView.__dataclass_fields__},
        "event_id": decision["event_id"]})
    return report, decision, loaded, state


def list_reports(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
                 cursor: str | None = None) -> Page[ReportView]:
    return page_of_plan(uow, plan_id, Report, scope=scope, limit=limit, cursor=cursor,
                        convert=_view)
