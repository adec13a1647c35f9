"""Probes outside /api/v1: /healthz (process up) and /readyz (database and schema current)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import cadence
from api.problems import problem
from scheduler.services import ops

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """Database reachable and migrated; scheduler leader beating (stale is never ready,
    absent only when REQUIRE_SCHEDULER is set)."""
    wiring = cadence()
    ready, reason = ops.database_readiness(wiring.engine)
    if not ready:
        return problem(503, f"Not ready: {reason}.", slug="not-ready")
    scheduler = ops.leader_status(wiring.uow(), wiring.now())
    if scheduler["status"] == "stale" or (
            scheduler["status"] == "absent" and wiring.settings.require_scheduler):
        return problem(503, f"Not ready: scheduler {scheduler['status']} (last heartbeat "
                       f"{scheduler['last_heartbeat']}).", slug="not-ready")
    return jsonify(status="ok", scheduler=scheduler)
