"""request ids on audit entries and outbox events; indexes for the metrics' scrape queries

Revision ID: 0007_reqids
Revises: 0006_keys
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reqids"
down_revision: str | None = "0006_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("request_id", sa.String(128), nullable=True))
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(128), nullable=True))
    # GET /metrics: plans by status and phase, the oldest pending delivery (index-only scans)
    op.create_index("ix_plans_status_phase", "plans", ["status", "phase"])
    op.create_index("ix_webhook_deliveries_status_created", "webhook_deliveries",
                    ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_status_created", table_name="webhook_deliveries")
    op.drop_index("ix_plans_status_phase", table_name="plans")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("request_id")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("request_id")
