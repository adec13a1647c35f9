"""API keys: optional expiry and last use; no secret left in stored idempotent responses

Revision ID: 0006_keys
Revises: 0005_caps
Create Date: 2026-12-02
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db import UtcDateTime

revision: str = "0006_keys"
down_revision: str | None = "0005_caps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Responses that carried a secret (a new API key, a webhook signing secret). Before this
# revision their bodies were kept for Idempotency-Key replays, plaintext secret included;
# they are rewritten to what a replay answers from now on (409 naming the created id).
SECRET_LOCATIONS = ("/api/v1/api-keys/", "/api/v1/webhooks/")


def _replay_conflict(location: str) -> tuple[str, dict[str, str]]:
    created_id = location.rsplit("/", 1)[-1]
    body = {
        "type": "urn:ims-cadence:problem:secret-not-replayed", "title": "Conflict",
        "status": 409,
        "detail": f"This request already created {created_id}; its secret was shown once "
                  "and is not stored, so it cannot be replayed. Revoke or delete "
                  f"{created_id} if the secret was lost, and create another.",
        "created_id": created_id,
    }
    return json.dumps(body), {"Content-Type": "application/problem+json", "Location": location}


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", UtcDateTime(), nullable=True))

    records = sa.table("idempotency_keys", sa.column("id", sa.Integer()),
                       sa.column("response_status", sa.Integer()),
                       sa.column("response_body", sa.Text()),
                       sa.column("response_headers", sa.JSON()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(records.c.id, records.c.response_headers)
                              .where(records.c.response_body.is_not(None))).all()
    for row in rows:
        location = (row.response_headers or {}).get("Location", "")
        if location.startswith(SECRET_LOCATIONS):
            body, headers = _replay_conflict(location)
            connection.execute(records.update().where(records.c.id == row.id).values(
                response_status=409, response_body=body, response_headers=headers))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of api_keys on SQLite
    # would drop the table its key-clinic links cascade from.
    op.execute("ALTER TABLE api_keys DROP COLUMN last_used_at")
    op.execute("ALTER TABLE api_keys DROP COLUMN expires_at")
