"""What /readyz reports: the database round trip, the migration revisions, the scheduler
leader's heartbeat and the outbox backlog, each with the figure it was judged on."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from scheduler import migrate as schema
from scheduler.db import UnitOfWork
from scheduler.jobs.heartbeat import leader_status
from scheduler.services.ops_metrics import outbox_backlog


def readiness(engine: Engine, uow_factory: Callable[[], UnitOfWork], now: datetime, *,
              require_scheduler: bool, backlog_threshold_seconds: int) -> dict[str, Any]:
    """{"status": "ok" | "degraded" | "unavailable", "reason": str | None, "checks": {...}}.

    Unavailable: the database does not answer, its schema is not the code's head, or the
    leader's heartbeat is stale (or absent with `require_scheduler`). Degraded: the oldest
    pending webhook delivery is older than `backlog_threshold_seconds`.
    """
    checks: dict[str, Any] = {}
    head = schema.head_revision()
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            connection.execute(text("SELECT 1"))
            round_trip = time.perf_counter() - started
            current = _current_revision(connection)
    except SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        checks["migrations"] = {"ok": False, "current": None, "head": head}
        return {"status": "unavailable", "reason": "database unreachable", "checks": checks}
    checks["database"] = {"ok": True, "round_trip_ms": round(round_trip * 1000, 3)}
    migrated = current == head
    checks["migrations"] = {"ok": migrated, "current": current, "head": head}
    if not migrated:
        return {"status": "unavailable", "checks": checks,
                "reason": f"database schema at {current or 'nothing'}, code expects {head}"}
    leader = leader_status(uow_factory(), now)
    age = (now - datetime.fromisoformat(leader["last_heartbeat"])).total_seconds() \
        if leader["last_heartbeat"] else None
    leader_ok = leader["status"] == "ok" or (leader["status"] == "absent"
                                             and not require_scheduler)
    checks["scheduler"] = {"ok": leader_ok, **leader,
                           "age_seconds": round(age, 1) if age is not None else None}
    pending, oldest = outbox_backlog(uow_factory(), now)
    backlog_ok = oldest is None or oldest <= backlog_threshold_seconds
    checks["outbox"] = {"ok": backlog_ok, "pending": pending,
                        "oldest_pending_age_seconds": round(oldest, 1) if oldest else oldest,
                        "threshold_seconds": backlog_threshold_seconds}
    if not leader_ok:
        return {"status": "unavailable", "checks": checks,
                "reason": f"scheduler {leader['status']} (last heartbeat "
                          f"{leader['last_heartbeat']})"}
    return {"status": "ok" if backlog_ok else "degraded", "reason": None if backlog_ok else
            f"outbox backlog: oldest pending delivery {oldest:.0f} s old", "checks": checks}


def _current_revision(connection: Any) -> str | None:
    """alembic_version read directly (Alembic's MigrationContext logs two lines per call,
    and probes run every few seconds); None when the table does not exist yet."""
    try:  # the last statement on this connection: a failed one needs no savepoint
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
