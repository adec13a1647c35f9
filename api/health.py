"""Probes outside /api/v1: /healthz (process up) and /readyz (database and schema current)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import cadence
from api.problems import problem
from scheduler import schema

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    ready, reason = schema.readiness(cadence().engine)
    if not ready:
        return problem(503, f"Not ready: {reason}.", slug="not-ready")
    return jsonify(status="ok")
