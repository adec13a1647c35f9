"""merge point of the check-ins and web-auth branches (both revise 0009_whatif); no changes.
The integrator drops it when the 0010 migrations are re-chained into one line.

Revision ID: 0011_merge_checkins
Revises: 0010_checkins, 0010_webauth
Create Date: 2026-12-02
"""

from collections.abc import Sequence

revision: str = "0011_merge_checkins"
down_revision: str | tuple[str, ...] | None = ("0010_checkins", "0010_webauth")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
