"""the contact log (issue 13): plan_contacts, and the plan's contact snooze and do-not-contact

Revision ID: 0010_contacts
Revises: 0009_whatif
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0010_contacts"
down_revision: str | None = "0010_webauth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_contacts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("snooze_until", sa.Date(), nullable=True),
        sa.Column("actor_key_id", sa.String(40), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_plan_contacts_plan_created", "plan_contacts",
                    ["plan_id", "created_at", "id"])
    op.create_index("ix_plan_contacts_plan_day", "plan_contacts", ["plan_id", "local_date"])
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("contact_snoozed_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("do_not_contact_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("do_not_contact_at")
        batch.drop_column("contact_snoozed_until")
    op.drop_index("ix_plan_contacts_plan_day", table_name="plan_contacts")
    op.drop_index("ix_plan_contacts_plan_created", table_name="plan_contacts")
    op.drop_table("plan_contacts")
