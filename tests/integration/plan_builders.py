"""Build clinics, patients and plans through the services, and replay a stored plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

import rules
from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.models import Clinic, DecisionRow, Plan, PlanEvent, Report
from scheduler.services import clinics, patients, plans
from scheduler.services.common import Actor
from scheduler.services.rulesets import resolve

ACTOR = Actor(key_id=None, name="physio:1234")
UowFactory = Callable[[], UnitOfWork]


def a_patient(uow_factory: UowFactory, now: datetime, external_id: str = "MRN-1") -> str:
    clinic = clinics.create_clinic(uow_factory(), name="Kits Physio",
                                   timezone="America/Vancouver", open_weekdays=[0, 1, 2, 3, 4],
                                   holiday_region="CA-BC", actor=ACTOR, now=now)
    return patients.create_patient(uow_factory(), clinic_id=clinic.id, external_id=external_id,
                                   actor=ACTOR, now=now).id


def a_plan(uow_factory: UowFactory, now: datetime, **extra: Any) -> plans.PlanView:
    """A consented, severe plan (2 per week) started on the clinic's today."""
    return plans.create_plan(
        uow_factory(), patient_id=a_patient(uow_factory, now), condition="lumbar pain",
        onset_date=date(2026, 10, 1), baseline={"pain": 8, "function": 3},
        neuropathic_symptoms=False,
        consent={"recorded_at": now - timedelta(hours=1), "recorded_by": "physio:7"},
        actor=ACTOR, now=now, **extra)


def stored(uow_factory: UowFactory, plan_id: str) -> dict[str, Any]:
    """The plan row's state and version, its events in arrival order, decisions and reports."""
    uow = uow_factory()
    with uow:
        session = uow.session
        row = session.get(Plan, plan_id)
        clinic = session.get(Clinic, row.clinic_id)
        events = session.scalars(select(PlanEvent).where(PlanEvent.plan_id == plan_id)
                                 .order_by(PlanEvent.seq)).all()
        decisions = session.scalars(select(DecisionRow)
                                    .where(DecisionRow.plan_id == plan_id)).all()
        reports = session.scalars(select(Report).where(Report.plan_id == plan_id)).all()
        return {"state": row.state, "version": row.version,
                "ruleset": resolve(session, row.ruleset), "calendar": calendar_of(clinic),
                "events": [(e.id, e.seq, e.kind, e.payload) for e in events],
                "decisions": [(d.event_id, d.position, d.payload) for d in decisions],
                "reports": [(r.id, r.event_id) for r in reports]}


def replay(found: dict[str, Any]) -> rules.Fold:
    """rules.fold over every stored event of the plan, with its ruleset and clinic calendar."""
    events = [rules.event_from_dict(payload) for _, _, _, payload in found["events"]]
    return rules.fold(events, found["ruleset"], found["calendar"].local_date)
