"""Operations services: schema migrations, readiness and the scheduler leader's status.

The API's probes and CLI reach migrations and heartbeats only through these functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from scheduler import migrate
from scheduler.db import UnitOfWork
from scheduler.jobs import heartbeat


def upgrade_database(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to `revision`; returns the revision it is at afterwards."""
    migrate.upgrade(engine, revision)
    return migrate.current_revision(engine)


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's revision, the code's head revision)."""
    return migrate.current_revision(engine), migrate.head_revision()


def database_readiness(engine: Engine) -> tuple[bool, str]:
    """(ready, reason): the database answers and its schema is at the code's head."""
    return migrate.readiness(engine)


def leader_status(uow: UnitOfWork, now: datetime) -> dict[str, Any]:
    """{"status": "ok" | "stale" | "absent", "last_heartbeat": iso | None}."""
    return heartbeat.leader_status(uow, now)
