"""GET /metrics: Prometheus text format, for keys with the role `monitoring` (or admin).

Under gunicorn every worker writes its counters to PROMETHEUS_MULTIPROC_DIR and whichever
worker answers the scrape aggregates them all (prometheus_client's multiprocess mode); without
that directory the process's own registry is served. Database-derived gauges (plans by status
and phase, the outbox, subscriptions, the leader's heartbeat, nightly passes) are read at
scrape time and cached per worker for METRICS_CACHE_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from api.context import cadence
from api.problems import ApiProblem
from scheduler.services.api_keys import Role, authenticate
from scheduler.services.ops_metrics import OpsSnapshot, snapshot

bp = Blueprint("metrics", __name__)
READERS = frozenset({Role.MONITORING, Role.ADMIN})
CACHE = "cadence.metrics_cache"


def _authorize() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "An `Authorization: Bearer <api key>` header is required.",
                         slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})
    key = authenticate(cadence().request_connection(), token.strip())
    if key is None:
        raise ApiProblem(401, "The API key is unknown or revoked.", slug="unauthorized",
                         headers={"WWW-Authenticate": "Bearer"})
    g.api_key = key  # the access line names it
    if key.role not in READERS:
        raise ApiProblem(403, "Only monitoring and admin keys may read metrics.",
                         slug="forbidden")


def _snapshot() -> OpsSnapshot:
    wiring = cadence()
    ttl = wiring.settings.metrics_cache_seconds
    _cache = current_app.extensions.setdefault(CACHE, {"at": 0.0, "snapshot": None})
    if _cache["snapshot"] is None or time.monotonic() - _cache["at"] >= ttl:
        _cache["snapshot"] = snapshot(wiring.uow(read_only=True), wiring.now())
        _cache["at"] = time.monotonic()
    found: OpsSnapshot = _cache["snapshot"]
    return found


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


class _Database:
    """The scrape-time gauges of one snapshot."""

    def __init__(self, snap: OpsSnapshot) -> None:
        self.snap = snap

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        s = self.snap
        plans = _gauge("cadence_plans", "Plans by status and phase", ("status", "phase"))
        for status, phase, count in s.plans:
            plans.add_metric([status, phase], count)
        yield plans
        yield _single("cadence_outbox_pending_messages",
                      "Webhook deliveries pending or in flight", s.outbox_pending)
        yield _single("cadence_outbox_oldest_pending_age_seconds",
                      "Age of the oldest pending or in-flight webhook delivery (0: none)",
                      s.outbox_oldest_age_seconds or 0.0)
        deliveries = _gauge("cadence_webhook_deliveries_by_status",
                            "Webhook deliveries stored, by status", ("status",))
        for status, count in sorted(s.deliveries.items()):
            deliveries.add_metric([status], count)
        yield deliveries
        subscriptions = _gauge("cadence_webhook_subscriptions",
                               "Webhook subscriptions: active, deleted (no longer delivered)",
                               ("state",))
        for state, count in sorted(s.subscriptions.items()):
            subscriptions.add_metric([state], count)
        yield subscriptions
        age = _gauge("cadence_leader_heartbeat_age_seconds",
                     "Seconds since the scheduler leader last recorded its heartbeat")
        if s.leader_heartbeat_age_seconds is not None:
            age.add_metric([], s.leader_heartbeat_age_seconds)
        yield age
        overdue = _gauge("cadence_nightly_overdue", "1 when the clinic is past 06:00 local "
                         "and today's nightly pass is not recorded", ("clinic_id",))
        done = _gauge("cadence_nightly_completed_timestamp_seconds",
                      "When the clinic's latest nightly pass completed (Unix time)",
                      ("clinic_id",))
        for night in s.nightly:
            overdue.add_metric([night.clinic_id], 1.0 if night.overdue else 0.0)
            if night.last_finished is not None:
                done.add_metric([night.clinic_id], night.last_finished.timestamp())
        yield overdue
        yield done


def _single(name: str, doc: str, value: float) -> GaugeMetricFamily:
    family = _gauge(name, doc)
    family.add_metric([], value)
    return family


class _Own:
    """This process's default registry, for a server without PROMETHEUS_MULTIPROC_DIR."""

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        return REGISTRY.collect()


@bp.get("/metrics")
def metrics() -> Response:
    _authorize()
    settings = cadence().settings
    if not settings.metrics_enabled:
        raise ApiProblem(404, "Metrics are turned off (METRICS_ENABLED=false).",
                         slug="not-found")
    registry = CollectorRegistry()
    if settings.prometheus_multiproc_dir:
        MultiProcessCollector(registry, path=settings.prometheus_multiproc_dir)
    else:
        registry.register(_Own())
    registry.register(_Database(_snapshot()))
    return Response(generate_latest(registry), mimetype=None,
                    headers={"Content-Type": CONTENT_TYPE_LATEST})
