"""ORM models of API keys: the key (hashed) and the clinics it may act for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import UtcDateTime
from scheduler.models.base import Base
from scheduler.models.clinics import Clinic

api_key_clinics = Table(
    "api_key_clinics",
    Base.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("clinic_id", ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True),
)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # to the minute
    clinics: Mapped[list[Clinic]] = relationship(secondary=api_key_clinics, lazy="selectin")

    __table_args__ = (Index("ix_api_keys_created_at_id", "created_at", "id"),)
