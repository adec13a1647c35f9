"""what-if jobs: a clinic's replay under a candidate ruleset, run by the scheduler

Revision ID: 0009_whatif
Revises: 0008_feeds
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0009_whatif"
down_revision: str | None = "0008_feeds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "what_if_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_what_if_jobs_status_created", "what_if_jobs", ["status", "created_at"])
    op.create_table(
        "what_if_items",
        sa.Column("job_id", sa.String(40), sa.ForeignKey("what_if_jobs.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("plan_id", sa.String(40), primary_key=True),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    # the replay walks a clinic's plans in id order (keyset pages)
    op.create_index("ix_plans_clinic_id", "plans", ["clinic_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_plans_clinic_id", table_name="plans")
    op.drop_table("what_if_items")
    op.drop_index("ix_what_if_jobs_status_created", table_name="what_if_jobs")
    op.drop_table("what_if_jobs")
