"""ORM models of webhooks: subscriptions, the outbox of events and one delivery per subscriber."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import UtcDateTime
from scheduler.models.base import Base


class Webhook(Base):
    """A clinic's subscription: `url` receives the listed event types.

    `secret` is the Standard Webhooks signing secret (`whsec_` + base64 of 32 random bytes).
    Unlike API keys it cannot be stored as a hash: every delivery is signed with it (HMAC), so
    it is kept as issued and only ever shown to the integrator once, at creation (or rotation:
    `previous_secret` keeps signing beside it until `previous_secret_expires_at`).

    Endpoint health, read and written by delivery: `consecutive_failures` across messages,
    `failing_since` (the first failure after the last success), `breaker_until` (no attempt to
    this endpoint before then: the circuit breaker and a receiver's Retry-After). A disabled
    subscription (`enabled` false: 410 Gone, failing too long, or by hand) keeps its pending
    deliveries, which resume in order once it is enabled again.
    """

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    breaker_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_webhooks_created_at_id", "created_at", "id"),
        Index("ix_webhooks_clinic", "clinic_id"),
    )


class OutboxEvent(Base):
    """An event written in the transaction of the change that caused it.

    `id` (`msg_...`) is the Standard Webhooks `webhook-id`: the same on every attempt, so a
    receiver dedupes on it. `seq` orders a plan's events (0 for events of no plan).
    """

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    request_id: Mapped[str | None] = mapped_column(String(128))  # the API request that caused it

    __table_args__ = (
        UniqueConstraint("plan_id", "seq", name="uq_outbox_events_plan_seq"),
        Index("ix_outbox_events_clinic_created", "clinic_id", "created_at"),
    )


class WebhookDelivery(Base):
    """One event to one subscription: its attempts, last outcome and lease.

    `plan_id` and `seq` copy the event's so the per-plan order check is one indexed lookup.
    A worker claims a delivery by setting `status` to in_flight with `claim_token` and
    `claimed_until`; a lease that runs out makes the delivery claimable again.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    plan_id: Mapped[str | None] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id", name="uq_webhook_deliveries_event_webhook"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_status_created", "status", "created_at"),
        Index("ix_webhook_deliveries_order", "webhook_id", "plan_id", "seq"),
        Index("ix_webhook_deliveries_claim", "claim_token"),
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at", "id"),
    )
