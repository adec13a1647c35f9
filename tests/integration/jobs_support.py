"""Builders shared by the job tests: clinics and plans made through the real services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from scheduler.models import OutboxEvent
from scheduler.services import clinics, patients, plans, visits
from scheduler.services.common import Actor

SETUP = Actor(key_id=None, name="test-setup")


def clinic(uow_factory: Any, now: datetime, **kw: Any) -> Any:
    values = {"name": "Kits Physio", "timezone": "America/Vancouver",
              "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC", **kw}
    return clinics.create_clinic(uow_factory(), **values, actor=SETUP, now=now)


def plan_with_session(uow_factory: Any, clinic_id: str, now: datetime, session_at: datetime,
                      n: int = 0, pain: int = 5) -> Any:
    """A consented 1/week plan (mild, recent) whose last needling session was `session_at`."""
    patient = patients.create_patient(uow_factory(), clinic_id=clinic_id,
                                      external_id=f"MRN-{n}-{now.timestamp()}", actor=SETUP,
                                      now=now)
    plan = plans.create_plan(uow_factory(), patient_id=patient.id, condition="shoulder",
                             onset_date=now.date() - timedelta(days=14),
                             start_date=session_at.date() - timedelta(days=1),
                             baseline={"pain": pain}, neuropathic_symptoms=False,
                             consent={"recorded_at": session_at - timedelta(days=1),
                                      "recorded_by": "physio:1"}, actor=SETUP, now=now)
    visits.record_visit(uow_factory(), plan.id, external_id=f"V-{plan.id}", kind="needling",
                        starts_at=session_at, status="attended", actor=SETUP, now=now)
    return plans.get_plan(uow_factory(), plan.id, now=now)


def events_of(uow_factory: Any, plan_id: str) -> list[tuple[str, str]]:
    with uow_factory() as uow:
        rows = uow.session.execute(select(OutboxEvent.type, OutboxEvent.payload)
                                   .where(OutboxEvent.plan_id == plan_id)
                                   .order_by(OutboxEvent.seq)).all()
    return [(t, p.get("on")) for t, p in rows]


def count_events(uow_factory: Any, type_: str) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(OutboxEvent)
                                  .where(OutboxEvent.type == type_)) or 0


def local(day: date, hour: int, minute: int, tz: str) -> datetime:
    from zoneinfo import ZoneInfo
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
