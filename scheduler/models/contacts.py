"""ORM model of the contact log: the front desk's outreach attempts on a plan (issue 13)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base


class PlanContact(Base):
    """One contact attempt. Never part of the engine's history: outreach is operational, so
    the fold, its replay and what-if never see it (the plan's outreach columns hold its
    effect: `contact_snoozed_until`, `do_not_contact_at`)."""

    __tablename__ = "plan_contacts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    snooze_until: Mapped[date | None] = mapped_column(Date)
    actor_key_id: Mapped[str | None] = mapped_column(String(40))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    # The clinic-local day it was logged: attempts are counted from the window's earliest
    # day, a clinic date, so the comparison is a plain indexed date comparison.
    local_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_plan_contacts_plan_created", "plan_id", "created_at", "id"),
        Index("ix_plan_contacts_plan_day", "plan_id", "local_date"),
    )
