"""ORM models of staff accounts: the user, their clinics, failed sign-ins and web sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import UtcDateTime
from scheduler.models.base import Base
from scheduler.models.clinics import Clinic

staff_clinics = Table(
    "staff_clinics",
    Base.metadata,
    Column("staff_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True),
)


class StaffAccount(Base):
    __tablename__ = "staff_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as entered
    email_key: Mapped[str] = mapped_column(String(254), unique=True)  # casefolded: uniqueness
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id; None: unset
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    clinics: Mapped[list[Clinic]] = relationship(secondary=staff_clinics, lazy="selectin")

    __table_args__ = (Index("ix_staff_users_created_at_id", "created_at", "id"),)


class StaffLoginFailure(Base):
    """One wrong password for an account (the lockout counts them in a sliding window)."""

    __tablename__ = "staff_login_failures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_staff_login_failures_staff_at", "staff_id", "at"),)


class WebSession(Base):
    """A browser session, kept server-side; the cookie holds a token whose SHA-256 is the id."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class WebSecret(Base):
    """Signing keys the web layer needs, made once per database (shared by every worker)."""

    __tablename__ = "web_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
