"""scheduler bookkeeping: heartbeats, nightly passes per clinic, plan job columns

Revision ID: 0004_scheduler
Revises: 0003_webhooks
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0004_scheduler"
down_revision: str | None = "0003_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("instance_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("beat_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_scheduler_heartbeats_beat_at", "scheduler_heartbeats", ["beat_at"])
    op.create_table(
        "clinic_nightly",
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("local_date", sa.Date(), primary_key=True),
        sa.Column("plans", sa.Integer(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=False),
    )
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("override_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("window_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("nightly_date", sa.Date(), nullable=True))
        batch.drop_index("ix_plans_clinic_target")
        batch.create_index("ix_plans_clinic_target", ["clinic_id", "next_target", "id"])
        batch.create_index("ix_plans_clinic_nightly", ["clinic_id", "nightly_date"])


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_index("ix_plans_clinic_nightly")
        batch.drop_index("ix_plans_clinic_target")
        batch.create_index("ix_plans_clinic_target", ["clinic_id", "next_target"])
        batch.drop_column("nightly_date")
        batch.drop_column("window_state")
        batch.drop_column("override_until")
    op.drop_table("clinic_nightly")
    op.drop_table("scheduler_heartbeats")
