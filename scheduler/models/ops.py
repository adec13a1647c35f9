"""ORM models of the scheduler's own bookkeeping: heartbeats and the nightly pass per clinic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base


class SchedulerHeartbeat(Base):
    """One row per scheduler process; the leader beats every few seconds (see /readyz)."""

    __tablename__ = "scheduler_heartbeats"

    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ClinicNightly(Base):
    """A clinic's nightly pass for one of its local dates, recorded when it completed."""

    __tablename__ = "clinic_nightly"

    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"),
                                           primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    plans: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
