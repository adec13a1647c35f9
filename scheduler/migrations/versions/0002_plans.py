"""plans, their event history, decisions, progress reports and visits

Revision ID: 0002_plans
Revises: 0001_initial
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0002_plans"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_PLAN = sa.text("status != 'discharged'")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("patient_id", sa.String(40),
                  sa.ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("condition", sa.String(200), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("ruleset", sa.String(100), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_kind", sa.String(16), nullable=True),
        sa.Column("next_earliest", sa.Date(), nullable=True),
        sa.Column("next_target", sa.Date(), nullable=True),
        sa.Column("next_latest", sa.Date(), nullable=True),
        sa.Column("lapse_after", sa.Date(), nullable=True),
        sa.Column("booked_until", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_plans_created_at_id", "plans", ["created_at", "id"])
    op.create_index("ix_plans_clinic_target", "plans", ["clinic_id", "next_target"])
    op.create_index("ix_plans_patient", "plans", ["patient_id"])
    op.create_index("uq_plans_one_open_per_patient", "plans", ["patient_id"], unique=True,
                    sqlite_where=OPEN_PLAN, postgresql_where=OPEN_PLAN)
    op.create_table(
        "plan_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("plan_id", "seq", name="uq_plan_events_plan_seq"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event_id", sa.String(40),
                  sa.ForeignKey("plan_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("plan_id", "position", name="uq_decisions_plan_pos"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("event_id", sa.String(40),
                  sa.ForeignKey("plan_events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=False),
        sa.Column("function", sa.Integer(), nullable=True),
        sa.Column("global_change", sa.Integer(), nullable=True),
        sa.Column("soreness_hours", sa.Integer(), nullable=True),
        sa.Column("adverse_event", sa.Boolean(), nullable=False),
        sa.Column("adverse_event_note", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_reports_plan_recorded", "reports", ["plan_id", "recorded_at", "id"])
    op.create_table(
        "visits",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("clinic_id", sa.String(40), sa.ForeignKey("clinics.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("clinic_id", "external_id", name="uq_visits_clinic_external"),
    )
    op.create_index("ix_visits_plan_starts", "visits", ["plan_id", "starts_at", "id"])


def downgrade() -> None:
    for table in ("visits", "reports", "decisions", "plan_events", "plans"):
        op.drop_table(table)
