"""Probes outside /api/v1: /healthz (process up) and /readyz (what serving depends on)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import cadence
from api.problems import problem
from scheduler.services.readiness import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """200 {"status": "ok" | "degraded", "checks"}; 503 problem+json with the same checks
    when the database or migrations fail or the scheduler leader is stale (absent only when
    REQUIRE_SCHEDULER is set)."""
    wiring = cadence()
    report = readiness(wiring.engine, wiring.uow, wiring.now(),
                       require_scheduler=wiring.settings.require_scheduler,
                       backlog_threshold_seconds=wiring.settings.backlog_threshold_seconds)
    if report["status"] == "unavailable":
        return problem(503, f"Not ready: {report['reason']}.", slug="not-ready",
                       extensions={"checks": report["checks"]})
    return jsonify(status=report["status"], reason=report["reason"], checks=report["checks"])
