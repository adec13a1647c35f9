"""webhooks: subscriptions, the event outbox and deliveries

Revision ID: 0003_webhooks
Revises: 0002_plans
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0003_webhooks"
down_revision: str | None = "0002_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_webhooks_created_at_id", "webhooks", ["created_at", "id"])
    op.create_index("ix_webhooks_clinic", "webhooks", ["clinic_id"])
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("plan_id", "seq", name="uq_outbox_events_plan_seq"),
    )
    op.create_index("ix_outbox_events_clinic_created", "outbox_events",
                    ["clinic_id", "created_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("event_id", sa.String(40),
                  sa.ForeignKey("outbox_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("webhook_id", sa.String(40), sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("plan_id", sa.String(40), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("claim_token", sa.String(40), nullable=True),
        sa.Column("claimed_until", UtcDateTime(), nullable=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("event_id", "webhook_id",
                            name="uq_webhook_deliveries_event_webhook"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_order", "webhook_deliveries",
                    ["webhook_id", "plan_id", "seq"])
    op.create_index("ix_webhook_deliveries_claim", "webhook_deliveries", ["claim_token"])
    op.create_index("ix_webhook_deliveries_webhook_created", "webhook_deliveries",
                    ["webhook_id", "created_at", "id"])


def downgrade() -> None:
    for table in ("webhook_deliveries", "outbox_events", "webhooks"):
        op.drop_table(table)
