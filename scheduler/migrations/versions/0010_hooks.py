"""webhook operations: enabled/disabled, the endpoint's breaker and health, a rotated secret

Revision ID: 0010_hooks
Revises: 0009_whatif
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0010_hooks"
down_revision: str | None = "0010_checkins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("enabled", "disabled_at", "disabled_reason", "failing_since",
           "consecutive_failures", "breaker_until", "previous_secret",
           "previous_secret_expires_at")


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("enabled", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column("disabled_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("disabled_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("failing_since", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("consecutive_failures", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("breaker_until", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("previous_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
