"""ORM models of patient check-ins: single-use report links (token kept hashed) and the
record of which session a `checkin.suggested` webhook was emitted for (rule 24)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base


class Checkin(Base):
    __tablename__ = "checkins"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    created_by: Mapped[str | None] = mapped_column(String(40))  # the API key's id
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report_id: Mapped[str | None] = mapped_column(String(40))  # the report the answer made

    __table_args__ = (Index("ix_checkins_plan_created", "plan_id", "created_at", "id"),)


class CheckinSuggestion(Base):
    """One row per (plan, session) a `checkin.suggested` was emitted for: at most once each."""

    __tablename__ = "checkin_suggestions"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                         primary_key=True)
    session_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40))  # the outbox event
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
