"""The scheduler process: win the election (or wait as a hot standby), then run APScheduler
with a persistent job store. Never started inside the web workers."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from config import Settings
from scheduler import log_setup, metrics
from scheduler.db import (
    UnitOfWork,
    database_unavailable,
    make_engine,
    make_session_factory,
    utcnow,
)
from scheduler.jobs import tasks
from scheduler.jobs.heartbeat import beat
from scheduler.jobs.leader import Leadership, leadership_for
from scheduler.webhooks.health import Policy

log = log_setup.get_logger("cadence.scheduler")
STANDBY_BEAT_SECONDS = 15
JOBSTORE_TABLE = "apscheduler_jobs"  # APScheduler's own table, kept out of Alembic


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1}, timezone=UTC)
    now = datetime.now(UTC)
    for job_id, (func, trigger, grace) in tasks.JOBS.items():
        first = {"next_run_time": now} if job_id in tasks.AT_ONCE else {}
        scheduler.add_job(func, id=job_id, replace_existing=True, misfire_grace_time=grace,
                          **trigger, **first)
    return scheduler


def run(settings: Settings, *, stop: threading.Event | None = None,
        poll_seconds: float = 2.0) -> int:
    """Block until `stop` is set (or SIGTERM / SIGINT). Returns an exit code.

    Stand by until elected, lead until stopped or until leadership is lost (a database
    outage kills the lock's connection), then stand by again: an outage never ends the
    process. While leading, a job runs only if the lock is still held when it starts, so
    during a handover the old leader starts none of the jobs the new one runs.
    """
    stop = stop or threading.Event()
    engine = make_engine(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms,
                         lock_timeout_ms=settings.lock_timeout_ms)
    sessions = make_session_factory(engine)
    instance_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{int(time.time())}"
    started = utcnow()
    state = metrics.SchedulerState(instance_id)
    lock = leadership_for(engine)
    policy = Policy(allow_private=settings.webhook_allow_private_networks,
                    disable_after=timedelta(hours=settings.webhook_disable_after_hours),
                    connect_timeout=settings.webhook_connect_timeout_ms / 1000,
                    read_timeout=settings.webhook_read_timeout_ms / 1000)
    tasks.configure(tasks.Runtime(
        lambda: UnitOfWork(sessions), utcnow, instance_id, started, state=state,
        leading=lock.still_held, webhook_policy=policy,
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        session_absolute=timedelta(hours=settings.session_absolute_hours)))
    server = metrics.start_server(state, settings.scheduler_metrics_host,
                                  settings.scheduler_metrics_port)
    try:
        while _stand_by(lock, sessions, instance_id, started, state, stop, poll_seconds):
            if _lead(engine, lock, instance_id, state, stop, poll_seconds):
                return 0
            engine.dispose()  # the dead connections of the outage: new ones once it is back
        return 0
    finally:
        engine.dispose()
        metrics.stop_server(server)


def _stand_by(lock: Leadership, sessions: Any, instance_id: str, started: datetime,
              state: metrics.SchedulerState, stop: threading.Event,
              poll_seconds: float) -> bool:
    """Wait for leadership: True once elected, False when stopped first."""
    log.info("standby, waiting for leadership", instance=instance_id)
    last_beat, down = float("-inf"), False
    while True:
        try:  # poll often, but write a standby heartbeat only as often as the leader's job
            if lock.try_acquire():
                return True
            if time.monotonic() - last_beat >= STANDBY_BEAT_SECONDS:
                beat(UnitOfWork(sessions), instance_id=instance_id, role="standby",
                     started_at=started, now=utcnow())
                state.beat()
                last_beat = time.monotonic()
            if down:
                log.info("database available again", instance=instance_id)
            down = False
        except Exception as error:
            if not database_unavailable(error):
                raise
            if not down:  # once per outage, not every poll
                log.warning("database unavailable; standing by", instance=instance_id,
                            error=type(error).__name__)
            down = True
        if stop.wait(poll_seconds):
            return False


def _lead(engine: Engine, lock: Leadership, instance_id: str, state: metrics.SchedulerState,
          stop: threading.Event, poll_seconds: float) -> bool:
    """Run the jobs: True when stopped, False when leadership was lost (stand by again)."""
    state.leader = True
    log.info("leader", instance=instance_id)
    scheduler: BackgroundScheduler | None = None
    try:
        tasks.on_elected()
        scheduler = build_scheduler(engine)
        scheduler.start()
        tasks.heartbeat_job()
        while not stop.wait(poll_seconds):
            if not lock.still_held():
                log.error("leadership lost; standing by", instance=instance_id)
                return False
        return True
    except Exception as error:
        if not database_unavailable(error):
            raise
        log.error("database unavailable while starting to lead; standing by",
                  instance=instance_id, error=type(error).__name__)
        return False
    finally:
        state.leader = False
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)  # the running jobs end before anyone else leads
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - its connection died with the outage: so did the lock
            log.warning("leadership lock released with its connection", instance=instance_id)


def main() -> int:
    settings = Settings.from_env()
    log_setup.configure(settings.log_level, settings.log_format)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return run(settings, stop=stop)



