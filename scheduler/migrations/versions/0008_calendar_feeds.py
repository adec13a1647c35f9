"""calendar feeds: a clinic's revocable iCalendar URLs (tokens stored hashed)

Revision ID: 0008_feeds
Revises: 0007_reqids
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0008_feeds"
down_revision: str | None = "0007_reqids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_calendar_feeds_clinic", "calendar_feeds", ["clinic_id"])


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_clinic", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
