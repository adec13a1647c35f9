"""Prometheus metrics the core counts: decisions, idempotency, webhook deliveries, jobs.

The same counters run in the web workers (gunicorn: multiprocess mode, shared files under
PROMETHEUS_MULTIPROC_DIR, aggregated by GET /metrics) and in the scheduler process, which
serves its own registry (`serve`). Decisions are counted when their transaction commits, not
when the engine makes them. Labels are ids of rules, jobs and clinics: never patient data.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.log_setup import get_logger

DECISIONS = Counter("cadence_decisions", "Rules-engine decisions stored, by trigger", ["trigger"])
RULES_FIRED = Counter("cadence_rules_fired", "Rule ids named by stored decisions", ["rule"])
IDEMPOTENCY = Counter("cadence_idempotency", "Idempotency-Key outcomes other than a first use: "
                      "replay, mismatch (same key, other request), in_flight", ["outcome"])
WEBHOOK_DELIVERIES = Counter("cadence_webhook_deliveries", "Webhook delivery attempts by "
                             "outcome: succeeded, retrying, failed, lost", ["outcome"])
JOB_ERRORS = Counter("cadence_scheduler_job_errors", "Scheduler job runs that raised", ["job"])
JOB_DURATION = Histogram("cadence_scheduler_job_duration_seconds", "Scheduler job run time "
                         "(sweep, nightly, webhooks, ...)", ["job"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800))
NIGHTLY_DURATION = Gauge("cadence_nightly_pass_duration_seconds",
                         "Duration of the clinic's last nightly pass", ["clinic_id"])
NIGHTLY_DONE = Gauge("cadence_nightly_last_completion_timestamp_seconds",
                     "When the clinic's last nightly pass completed (Unix time)", ["clinic_id"])

_PENDING = "cadence_metrics_decisions"
log = get_logger("cadence.scheduler")


def count_decisions(session: Session, decisions: Iterable[Any]) -> None:
    """Count `decisions` (rules.Decision) once `session`'s transaction commits."""
    session.info.setdefault(_PENDING, []).extend((d.trigger, d.rules) for d in decisions)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for trigger, rule_ids in session.info.pop(_PENDING, ()):
        DECISIONS.labels(trigger).inc()
        for rule in rule_ids:
            RULES_FIRED.labels(rule).inc()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def nightly_pass_done(clinic_id: str, seconds: float) -> None:
    NIGHTLY_DURATION.labels(clinic_id).set(seconds)
    NIGHTLY_DONE.labels(clinic_id).set(time.time())


class SchedulerState:
    """This scheduler process: leader or standby, and when it last recorded a heartbeat."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.leader = False
        self.last_beat: float | None = None  # time.monotonic()

    def beat(self) -> None:
        self.last_beat = time.monotonic()


class _SchedulerCollector:
    def __init__(self, state: SchedulerState) -> None:
        self.state = state

    def collect(self) -> Iterable[GaugeMetricFamily]:
        leader = GaugeMetricFamily("cadence_scheduler_leader",
                                   "1 while this scheduler instance leads, 0 as a standby",
                                   labels=["instance"])
        leader.add_metric([self.state.instance_id], 1.0 if self.state.leader else 0.0)
        yield leader
        age = GaugeMetricFamily("cadence_scheduler_heartbeat_age_seconds",
                                "Seconds since this instance last recorded its heartbeat",
                                labels=["instance"])
        if self.state.last_beat is not None:
            age.add_metric([self.state.instance_id], time.monotonic() - self.state.last_beat)
        yield age


_served: list[_SchedulerCollector] = []


def serve(state: SchedulerState, host: str, port: int) -> Any:
    """Serve this process's metrics on http://host:port/metrics (a thread); the server."""
    while _served:  # a second run in one process (tests) replaces the first's gauges
        REGISTRY.unregister(_served.pop())
    collector = _SchedulerCollector(state)
    REGISTRY.register(collector)
    _served.append(collector)
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return server


def start_server(state: SchedulerState, host: str, port: int) -> Any:
    """`serve` when `port` is set (SCHEDULER_METRICS_PORT; 0: none); None when not serving."""
    if not port:
        return None
    try:
        server = serve(state, host, port)
    except OSError as exc:  # e.g. a standby on the leader's host: it runs on, unscraped
        log.warning("metrics port unavailable", host=host, port=port, error=type(exc).__name__)
        return None
    log.info("serving metrics", host=host, port=port)
    return server


def stop_server(server: Any) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()
