"""The job functions APScheduler calls by path: thin, argument-free, safe to run twice.

They reach the database through the runtime the scheduler process configured at start
(`configure`), read the clock once and delegate to the core."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler import metrics
from scheduler.db import UnitOfWork
from scheduler.jobs.checkins import run_checkin_suggestions
from scheduler.jobs.heartbeat import beat
from scheduler.jobs.nightly import run_nightly
from scheduler.jobs.sweep import run_sweep
from scheduler.log_setup import bind_request, clear_request, get_logger
from scheduler.services import web_sessions
from scheduler.services.idempotency import purge_expired
from scheduler.services.what_if import run_due_jobs
from scheduler.webhooks.delivery import deliver_due, hand_back_all
from scheduler.webhooks.health import Policy

log = get_logger("cadence.scheduler")


@dataclass(frozen=True)
class Runtime:
    uow_factory: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    instance_id: str
    started_at: datetime
    idempotency_ttl: timedelta = timedelta(hours=24)
    session_idle: timedelta = timedelta(minutes=30)  # web sessions past either limit are
    session_absolute: timedelta = timedelta(hours=12)  # refused on load, and purged daily
    state: metrics.SchedulerState | None = None  # leader/heartbeat gauges, when served
    leading: Callable[[], bool] | None = None  # whether this process still holds the lock
    webhook_policy: Policy = field(default_factory=Policy)  # SSRF setting, disable-after


_runtime: Runtime | None = None


def configure(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def _rt() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler jobs run only inside a configured scheduler process")
    return _runtime


def job(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Run under the job's name: its lines carry `job`, its time and errors are counted."""
    def decorator(func: Callable[[], None]) -> Callable[[], None]:
        @functools.wraps(func)
        def run() -> None:
            leading = _runtime.leading if _runtime is not None else None
            if leading is not None and not leading():
                # a handover under way: the new leader runs it, so this one must not
                log.warning("job skipped: leadership lost", job=name)
                return
            bind_request(job=name)
            started = time.perf_counter()
            try:
                func()
            except Exception:
                metrics.JOB_ERRORS.labels(name).inc()
                log.error("job failed", exc_info=True)
                raise
            finally:
                metrics.JOB_DURATION.labels(name).observe(time.perf_counter() - started)
                clear_request()
        return run
    return decorator


@job("heartbeat")
def heartbeat_job() -> None:
    rt = _rt()
    beat(rt.uow_factory(), instance_id=rt.instance_id, role="leader",
         started_at=rt.started_at, now=rt.clock())
    if rt.state is not None:
        rt.state.beat()


@job("nightly")
def nightly_job() -> None:
    rt = _rt()
    stats = run_nightly(rt.uow_factory, rt.clock())
    if stats.clinics:
        log.info("nightly run done", clinics=stats.clinics, plans=stats.plans,
                 overrides_expired=stats.overrides_expired, events=_counts(stats.events))


@job("sweep")
def sweep_job() -> None:
    rt = _rt()
    emitted = run_sweep(rt.uow_factory, rt.clock())
    if emitted:
        log.info("sweep done", events=_counts(emitted))


@job("checkins")
def checkin_job() -> None:
    rt = _rt()
    emitted = run_checkin_suggestions(rt.uow_factory, rt.clock())
    if emitted:
        log.info("checkin suggestions done", events=emitted)


@job("webhooks")
def webhook_job() -> None:
    rt = _rt()
    report = deliver_due(rt.uow_factory, now=rt.clock(), policy=rt.webhook_policy)
    if report.attempted:
        log.info("webhook run done", succeeded=report.succeeded, retrying=report.retrying,
                 failed=report.failed, lost=report.lost)


def on_elected() -> None:
    """Before a new leader's first job: take over the previous leader's webhook claims."""
    rt = _rt()
    hand_back_all(rt.uow_factory, rt.clock())


def _counts(events: Any) -> dict[str, int]:
    return dict(events) if isinstance(events, dict) else {"events": int(events)}


@job("purge")
def purge_job() -> None:
    rt = _rt()
    now = rt.clock()
    purge_expired(rt.uow_factory(), now=now, ttl=rt.idempotency_ttl)
    web_sessions.purge_expired(rt.uow_factory(), now=now, idle=rt.session_idle,
                               absolute=rt.session_absolute)


def what_if_job() -> None:
    """Run queued what-if jobs (claimed with a guarded UPDATE: never one job twice)."""
    rt = _rt()
    ran = run_due_jobs(rt.uow_factory, rt.clock(), claimed_by=rt.instance_id)
    if ran:
        log.info("what-if: %d jobs", ran)


# id -> (function path, trigger kwargs, misfire grace seconds)
JOBS: dict[str, tuple[str, dict, int]] = {
    "heartbeat": ("scheduler.jobs.tasks:heartbeat_job", {"trigger": "interval", "seconds": 15},
                  10),
    "webhooks": ("scheduler.jobs.tasks:webhook_job", {"trigger": "interval", "seconds": 5}, 30),
    "sweep": ("scheduler.jobs.tasks:sweep_job", {"trigger": "interval", "minutes": 5}, 240),
    # every clinic's pass starts within 15 minutes of 03:30 in its own zone
    "nightly": ("scheduler.jobs.tasks:nightly_job", {"trigger": "cron", "minute": "*/15"}, 840),
    "checkins": ("scheduler.jobs.tasks:checkin_job", {"trigger": "interval", "minutes": 15},
                 600),
    "what_if": ("scheduler.jobs.tasks:what_if_job", {"trigger": "interval", "seconds": 10}, 30),
    "purge": ("scheduler.jobs.tasks:purge_job", {"trigger": "cron", "hour": 4, "minute": 45},
              3600),
}
# A newly elected leader runs these at once instead of an interval later: deliveries and
# what-if jobs queued during a handover or an outage wait no longer than they must.
AT_ONCE = frozenset({"webhooks", "what_if"})
