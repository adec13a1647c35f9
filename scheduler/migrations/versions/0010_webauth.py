"""staff accounts, their clinics, failed sign-ins, server-side web sessions, web secrets

Revision ID: 0010_webauth
Revises: 0009_whatif
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0010_webauth"
down_revision: str | None = "0009_whatif"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("email_key", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_staff_users_created_at_id", "staff_users", ["created_at", "id"])
    op.create_table(
        "staff_clinics",
        sa.Column("staff_id", sa.String(40),
                  sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("staff_id", sa.String(40),
                  sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_staff_login_failures_staff_at", "staff_login_failures",
                    ["staff_id", "at"])
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.String(40),
                  sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_web_sessions_staff_id", "web_sessions", ["staff_id"])
    op.create_index("ix_web_sessions_last_seen_at", "web_sessions", ["last_seen_at"])
    op.create_table(
        "web_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_secrets")
    op.drop_index("ix_web_sessions_last_seen_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_staff_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_staff_login_failures_staff_at", table_name="staff_login_failures")
    op.drop_table("staff_login_failures")
    op.drop_table("staff_clinics")
    op.drop_index("ix_staff_users_created_at_id", table_name="staff_users")
    op.drop_table("staff_users")
