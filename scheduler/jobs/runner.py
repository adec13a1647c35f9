"""The scheduler process: win the election (or wait as a hot standby), then run APScheduler
with a persistent job store. Never started inside the web workers."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from datetime import UTC, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from config import Settings
from scheduler import log_setup, metrics
from scheduler.db import UnitOfWork, make_engine, make_session_factory, utcnow
from scheduler.jobs import tasks
from scheduler.jobs.heartbeat import beat
from scheduler.jobs.leader import leadership_for
from scheduler.webhooks.health import Policy

log = log_setup.get_logger("cadence.scheduler")
STANDBY_BEAT_SECONDS = 15
JOBSTORE_TABLE = "apscheduler_jobs"  # APScheduler's own table, kept out of Alembic


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1}, timezone=UTC)
    for job_id, (func, trigger, grace) in tasks.JOBS.items():
        scheduler.add_job(func, id=job_id, replace_existing=True, misfire_grace_time=grace,
                          **trigger)
    return scheduler


def run(settings: Settings, *, stop: threading.Event | None = None,
        poll_seconds: float = 2.0) -> int:
    """Block until `stop` is set (or SIGTERM / SIGINT). Returns an exit code."""
    stop = stop or threading.Event()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    instance_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{int(time.time())}"
    started = utcnow()
    state = metrics.SchedulerState(instance_id)
    policy = Policy(allow_private=settings.webhook_allow_private_networks,
                    disable_after=timedelta(hours=settings.webhook_disable_after_hours))
    tasks.configure(tasks.Runtime(lambda: UnitOfWork(sessions), utcnow, instance_id, started,
                                  state=state, webhook_policy=policy))
    server = metrics.start_server(state, settings.scheduler_metrics_host,
                                  settings.scheduler_metrics_port)
    lock = leadership_for(engine)
    log.info("standby, waiting for leadership", instance=instance_id)
    last_beat = float("-inf")
    while not lock.try_acquire():  # poll often, but write a standby heartbeat only as often
        if time.monotonic() - last_beat >= STANDBY_BEAT_SECONDS:  # as the leader's job does
            beat(UnitOfWork(sessions), instance_id=instance_id, role="standby",
                 started_at=started, now=utcnow())
            state.beat()
            last_beat = time.monotonic()
        if stop.wait(poll_seconds):
            metrics.stop_server(server)
            return 0
    state.leader = True
    log.info("leader", instance=instance_id)
    scheduler = build_scheduler(engine)
    scheduler.start()
    tasks.heartbeat_job()
    try:
        while not stop.wait(poll_seconds):
            if not lock.still_held():
                log.error("leadership lost; stopping", instance=instance_id)
                return 3
        return 0
    finally:
        state.leader = False
        scheduler.shutdown(wait=True)
        lock.release()
        engine.dispose()
        metrics.stop_server(server)


def main() -> int:
    settings = Settings.from_env()
    log_setup.configure(settings.log_level, settings.log_format)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return run(settings, stop=stop)



