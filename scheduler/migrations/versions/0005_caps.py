"""authorization caps and cancellation reasons (rules.md 21-23): plan and visit columns

Revision ID: 0005_caps
Revises: 0004_scheduler
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_caps"
down_revision: str | None = "0004_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("flags", sa.String(400), nullable=True))
        batch.add_column(sa.Column("authorization_left", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("authorization_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("authorization_check_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("cancellation_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("needs_reschedule", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("needs_reschedule")
        batch.drop_column("cancellation_reason")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("snoozed_until")
        batch.drop_column("authorization_check_on")
        batch.drop_column("authorization_until")
        batch.drop_column("authorization_left")
        batch.drop_column("flags")
