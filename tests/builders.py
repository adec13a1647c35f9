"""The one set of test builders: clinics, patients, plans, visits, reports, actions, API keys and
webhook subscriptions made through the real services, and readers of what the database holds.

Every builder takes the `uow_factory` fixture and `now`; whatever a test does not pass has the
default below. Pure-engine tests build rules events with tests/unit/rules/builders.py instead
(no database); HTTP-level helpers live in tests/api/plan_support.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

import rules
from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.models import (
    Clinic,
    DecisionRow,
    OutboxEvent,
    Plan,
    PlanContact,
    PlanEvent,
    Report,
    Visit,
)
from scheduler.services import api_keys, clinics, patients, plans, reports, visits
from scheduler.services import webhooks as webhook_service
from scheduler.services.common import Actor
from scheduler.services.rulesets import resolve
from scheduler.webhooks.outbox import EVENT_TYPES

UowFactory = Callable[[], UnitOfWork]

#: Who the builders (and the tests' own service calls) act as. No test reads this name back.
ACTOR = Actor(key_id=None, name="test-setup")

#: A plan whose patient has not consented yet (status assessment_pending), moderate pain.
AWAITING_CONSENT: dict[str, Any] = {"condition": "Low back pain", "onset_date": date(2026, 9, 1),
                                    "baseline": {"pain": 6}, "consent": None}


def local(day: date, hour: int, minute: int, tz: str) -> datetime:
    """That wall-clock time on `day` in the time zone `tz`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


# --- builders -------------------------------------------------------------------------------

def clinic(uow_factory: UowFactory, now: datetime, **overrides: Any) -> clinics.ClinicView:
    """Kits Physio: Vancouver, open Monday to Friday, BC holidays; any field can be overridden."""
    values: dict[str, Any] = {"name": "Kits Physio", "timezone": "America/Vancouver",
                              "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC"}
    return clinics.create_clinic(uow_factory(), **(values | overrides), actor=ACTOR, now=now)


def patient(uow_factory: UowFactory, now: datetime, clinic_id: str | None = None,
            external_id: str = "MRN-1") -> patients.PatientView:
    """A patient of `clinic_id` (of a new default clinic if None)."""
    if clinic_id is None:
        clinic_id = clinic(uow_factory, now).id
    return patients.create_patient(uow_factory(), clinic_id=clinic_id, external_id=external_id,
                                   actor=ACTOR, now=now)


def plan(uow_factory: UowFactory, now: datetime, clinic_id: str | None = None,
         external_id: str = "MRN-1", *, patient_id: str | None = None,
         **fields: Any) -> plans.PlanView:
    """A consented, severe plan (pain 8: 2 per week) started on the clinic's today.

    For a new patient `external_id` of `clinic_id` (of a new default clinic if None), or for
    `patient_id`. `fields` override create_plan's arguments: `consent=None` for no consent,
    `**AWAITING_CONSENT` for the webhook tests' plan.
    """
    values: dict[str, Any] = {
        "condition": "lumbar pain", "onset_date": date(2026, 10, 1),
        "baseline": {"pain": 8, "function": 3}, "neuropathic_symptoms": False,
        "consent": {"recorded_at": now - timedelta(hours=1), "recorded_by": "physio:7"},
    }
    if patient_id is None:
        patient_id = patient(uow_factory, now, clinic_id, external_id).id
    return plans.create_plan(uow_factory(), patient_id=patient_id, **(values | fields),
                             actor=ACTOR, now=now)


def visit(uow_factory: UowFactory, plan_id: str, now: datetime, *, external_id: str,
          starts_at: datetime, status: str = "attended",
          kind: str = "needling") -> visits.VisitView:
    """A visit of the plan (an attended needling session unless told otherwise)."""
    return visits.record_visit(uow_factory(), plan_id, external_id=external_id, kind=kind,
                               starts_at=starts_at, status=status, actor=ACTOR, now=now)


def report(uow_factory: UowFactory, plan_id: str, now: datetime, *, recorded_at: datetime,
           pain: int, **extra: Any
           ) -> tuple[reports.ReportView, dict[str, Any], plans.PlanView]:
    """A progress report recorded at `now`; returns what reports.record_report returns."""
    return reports.record_report(uow_factory(), plan_id, recorded_at=recorded_at, pain=pain,
                                 actor=ACTOR, now=now, **extra)


def act(uow_factory: UowFactory, plan_id: str, action: str, now: datetime,
        reason: str = "test", **data: Any) -> tuple[plans.PlanView, dict[str, Any]]:
    """A physiotherapist's action on the plan at whatever version it is."""
    return plans.act(uow_factory(), plan_id, {"action": action, "reason": reason, **data},
                     expected_version=None, actor=ACTOR, now=now)


def plan_with_session(uow_factory: UowFactory, clinic_id: str, now: datetime,
                      session_at: datetime, n: int = 0) -> plans.PlanView:
    """A consented 1/week plan (mild, recent) whose last needling session was `session_at`;
    `n` tells apart the patients of several such plans made at one `now`."""
    made = plan(uow_factory, now, clinic_id, f"MRN-{n}-{now.timestamp()}", condition="shoulder",
                onset_date=now.date() - timedelta(days=14),
                start_date=session_at.date() - timedelta(days=1), baseline={"pain": 5},
                consent={"recorded_at": session_at - timedelta(days=1),
                         "recorded_by": "physio:1"})
    visit(uow_factory, made.id, now, external_id=f"V-{made.id}", starts_at=session_at)
    return plans.get_plan(uow_factory(), made.id, now=now)


def api_key(uow_factory: UowFactory, now: datetime, role: str,
            *clinic_ids: str) -> api_keys.IssuedKey:
    """A new API key "<role> key" with that role for those clinics (none: every clinic)."""
    return api_keys.create_api_key(uow_factory(), name=f"{role} key", role=role,
                                   clinic_ids=clinic_ids, actor=ACTOR, now=now)


def subscribe(uow_factory: UowFactory, clinic_id: str, url: str, now: datetime,
              events: tuple[str, ...] = EVENT_TYPES) -> webhook_service.CreatedWebhook:
    """A webhook subscription of the clinic to `events` (all of them by default), with
    WEBHOOK_ALLOW_PRIVATE_NETWORKS on: the tests' receivers listen on 127.0.0.1."""
    return webhook_service.create_webhook(uow_factory(), clinic_id=clinic_id, url=url,
                                          events=list(events), actor=ACTOR, now=now,
                                          allow_private=True)


# --- readers --------------------------------------------------------------------------------

def deliveries(uow_factory: UowFactory, webhook_id: str,
               status: str | None = None) -> list[webhook_service.DeliveryView]:
    """The subscription's deliveries (up to 200), oldest first, maybe of one status."""
    return list(webhook_service.list_deliveries(uow_factory(), webhook_id, status=status,
                                                limit=200).items)


def outbox(uow_factory: UowFactory, plan_id: str) -> list[OutboxEvent]:
    """The plan's outbox events in order, readable after their unit of work is gone."""
    with uow_factory() as uow:
        rows = list(uow.session.scalars(select(OutboxEvent).where(OutboxEvent.plan_id == plan_id)
                                        .order_by(OutboxEvent.seq)))
        uow.session.expunge_all()  # keep the loaded values readable after the rollback
        return rows


def events_of(uow_factory: UowFactory, plan_id: str) -> list[tuple[str, str | None]]:
    """The plan's outbox events in order, as (type, the payload's "on" date)."""
    return [(event.type, event.payload.get("on")) for event in outbox(uow_factory, plan_id)]


def count_events(uow_factory: UowFactory, type_: str) -> int:
    """How many outbox events of that type there are, of every plan."""
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxEvent)
                                  .where(OutboxEvent.type == type_)) or 0


def _stored_in(uow: UnitOfWork, plan_id: str) -> dict[str, Any]:
    with uow:
        session = uow.session
        row = session.get(Plan, plan_id)
        clinic_row = session.get(Clinic, row.clinic_id)
        events = session.scalars(select(PlanEvent).where(PlanEvent.plan_id == plan_id)
                                 .order_by(PlanEvent.seq)).all()
        decisions = session.scalars(select(DecisionRow)
                                    .where(DecisionRow.plan_id == plan_id)).all()
        found = session.scalars(select(Report).where(Report.plan_id == plan_id)).all()
        visit_count = session.scalar(select(func.count()).select_from(Visit)
                                     .where(Visit.plan_id == plan_id))
        contact_count = session.scalar(select(func.count()).select_from(PlanContact)
                                       .where(PlanContact.plan_id == plan_id))
        return {"state": row.state, "version": row.version, "status": row.status,
                "contacts": contact_count,
                "outreach": (row.contact_snoozed_until, row.do_not_contact_at),
                "ruleset": resolve(session, row.ruleset), "calendar": calendar_of(clinic_row),
                "events": [(e.id, e.seq, e.kind, e.payload) for e in events],
                "decisions": [(d.event_id, d.position, d.payload) for d in decisions],
                "reports": [(r.id, r.event_id) for r in found], "visits": visit_count}


def stored(uow_factory: UowFactory, plan_id: str) -> dict[str, Any]:
    """The plan row's state, version and status, its events in arrival order, decisions and
    reports (with its ruleset and clinic calendar, for `replay`), and how many visits it has."""
    return _stored_in(uow_factory(), plan_id)


def footprint(uow: UnitOfWork, plan_id: str) -> dict[str, Any]:
    """What a write would change: the plan's version, state and status, and its row counts."""
    found = _stored_in(uow, plan_id)
    return {"version": found["version"], "state": found["state"], "status": found["status"],
            "events": len(found["events"]), "decisions": len(found["decisions"]),
            "reports": len(found["reports"]), "visits": found["visits"],
            "contacts": found["contacts"], "outreach": found["outreach"]}


def replay(found: dict[str, Any]) -> rules.Fold:
    """rules.fold over every stored event of the plan, with its ruleset and clinic calendar."""
    events = [rules.event_from_dict(payload) for _, _, _, payload in found["events"]]
    return rules.fold(events, found["ruleset"], found["calendar"].local_date)
