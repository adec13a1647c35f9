"""patient check-ins: single-use report links (tokens stored hashed) and rule 24's record of
the sessions a checkin.suggested was emitted for

Revision ID: 0010_checkins
Revises: 0009_whatif
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0010_checkins"
down_revision: str | None = "0010_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("report_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_checkins_plan_created", "checkins", ["plan_id", "created_at", "id"])
    op.create_table(
        "checkin_suggestions",
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("session_at", UtcDateTime(), primary_key=True),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checkin_suggestions")
    op.drop_index("ix_checkins_plan_created", table_name="checkins")
    op.drop_table("checkins")
