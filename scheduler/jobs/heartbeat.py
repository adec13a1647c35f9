"""Scheduler heartbeats: the leader and standbys record that they are alive."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from scheduler.db import UnitOfWork
from scheduler.models import SchedulerHeartbeat

STALE_AFTER = timedelta(seconds=90)


def beat(uow: UnitOfWork, *, instance_id: str, role: str, started_at: datetime,
         now: datetime) -> None:
    with uow:
        row = uow.session.get(SchedulerHeartbeat, instance_id)
        if row is None:
            row = SchedulerHeartbeat(instance_id=instance_id, host=socket.gethostname()[:200],
                                     pid=os.getpid(), started_at=started_at)
            uow.session.add(row)
        row.role, row.beat_at = role, now
        # forget instances silent for a day (restarts leave one row each)
        uow.session.execute(delete(SchedulerHeartbeat).where(
            SchedulerHeartbeat.beat_at < now - timedelta(days=1)))
        uow.commit()


def leader_status(uow: UnitOfWork, now: datetime) -> dict:
    """{"status": "ok" | "stale" | "absent", "last_heartbeat": iso | None}."""
    with uow:
        last = uow.session.scalar(select(SchedulerHeartbeat.beat_at)
                                  .where(SchedulerHeartbeat.role == "leader")
                                  .order_by(SchedulerHeartbeat.beat_at.desc()).limit(1))
    if last is None:
        return {"status": "absent", "last_heartbeat": None}
    status = "ok" if now - last <= STALE_AFTER else "stale"
    return {"status": status, "last_heartbeat": last.isoformat()}
