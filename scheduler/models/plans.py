"""ORM models of care plans: the plan row, its event history, decisions, reports and visits.

The plan row keeps the folded engine state as JSON (the source of truth is the event history:
replaying `plan_events` reproduces it) and a denormalised copy of the next-visit window so the
front desk's worklist is one indexed query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base

OPEN_PLAN = text("status != 'discharged'")


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    condition: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24))
    phase: Mapped[str] = mapped_column(String(16))
    ruleset: Mapped[str] = mapped_column(String(100))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    next_kind: Mapped[str | None] = mapped_column(String(16))
    next_earliest: Mapped[date | None] = mapped_column(Date)
    next_target: Mapped[date | None] = mapped_column(Date)
    next_latest: Mapped[date | None] = mapped_column(Date)
    lapse_after: Mapped[date | None] = mapped_column(Date)
    booked_until: Mapped[date | None] = mapped_column(Date)
    override_until: Mapped[date | None] = mapped_column(Date)
    window_state: Mapped[str | None] = mapped_column(String(16))  # last state seen by jobs
    nightly_date: Mapped[date | None] = mapped_column(Date)  # clinic date of the last pass
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Rules 21-23 (0005_caps): the stored flags as ",a,b," (so one flag is a LIKE), the
    # authorization's visits left and end, the date its flags next change with time alone,
    # and the end of a declined reschedule's snooze.
    flags: Mapped[str | None] = mapped_column(String(400))
    authorization_left: Mapped[int | None] = mapped_column(Integer)
    authorization_until: Mapped[date | None] = mapped_column(Date)
    authorization_check_on: Mapped[date | None] = mapped_column(Date)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    # The contact log (0010_contacts): a contact's snooze (last day off the worklist) and
    # when the patient asked not to be contacted (until a physiotherapist clears it). Never
    # written by the engine's write-state, so a plan write keeps them.
    contact_snoozed_until: Mapped[date | None] = mapped_column(Date)
    do_not_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_plans_created_at_id", "created_at", "id"),
        Index("ix_plans_clinic_target", "clinic_id", "next_target", "id"),
        Index("ix_plans_clinic_nightly", "clinic_id", "nightly_date"),
        Index("ix_plans_clinic_id", "clinic_id", "id"),  # the what-if walks a clinic by id
        Index("ix_plans_patient", "patient_id"),
        Index("ix_plans_status_phase", "status", "phase"),
        Index("uq_plans_one_open_per_patient", "patient_id", unique=True,
              sqlite_where=OPEN_PLAN, postgresql_where=OPEN_PLAN),
    )


class PlanEvent(Base):
    """One event of a plan's history, as `rules.Event.to_dict()`; `seq` is arrival order."""

    __tablename__ = "plan_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_plan_events_plan_seq"),)


class DecisionRow(Base):
    """The engine's decision on one event; `position` is the event's place in the fold."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("plan_events.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("plan_id", "position", name="uq_decisions_plan_pos"),)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("plan_events.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    pain: Mapped[int] = mapped_column(Integer)
    function: Mapped[int | None] = mapped_column(Integer)
    global_change: Mapped[int | None] = mapped_column(Integer)
    soreness_hours: Mapped[int | None] = mapped_column(Integer)
    adverse_event: Mapped[bool] = mapped_column(Boolean)
    adverse_event_note: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_reports_plan_recorded", "plan_id", "recorded_at", "id"),)


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(32))  # rule 22
    needs_reschedule: Mapped[bool | None] = mapped_column(Boolean)  # rule 23

    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id", name="uq_visits_clinic_external"),
        Index("ix_visits_plan_starts", "plan_id", "starts_at", "id"),
    )
