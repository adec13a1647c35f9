"""ORM models of what-if jobs: a replay of a clinic under a candidate ruleset, too big to
answer at once, run by the scheduler process; the job and its changed plans are all it stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base


class WhatIfJob(Base):
    """One what-if request: queued -> running -> done | failed. `request` holds the candidate
    ruleset (its full body) and `as_of`; `result` the totals once done."""

    __tablename__ = "what_if_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_what_if_jobs_status_created", "status", "created_at"),)


class WhatIfItem(Base):
    """A plan the candidate would change, as the what-if answer's item (paged by plan id)."""

    __tablename__ = "what_if_items"

    job_id: Mapped[str] = mapped_column(ForeignKey("what_if_jobs.id", ondelete="CASCADE"),
                                        primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
