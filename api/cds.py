"""CDS Hooks endpoints (outside /api/v1, the same bearer keys): discovery, the
appointment-book service and its feedback. Errors are CDS Hooks-style JSON, not problem+json:
the specification defines no error body, so a 400 answers `{"error", "errors": {field: [...]}}`
naming the field, which an EHR's logs can show as is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import auth
from api.auth import ANY_ROLE, READ_ROLES, requires
from api.context import cadence
from scheduler.errors import NotFound, ValidationFailed
from scheduler.services import cds

bp = Blueprint("cds", __name__, url_prefix="/cds-services")


def _error(status: int, message: str, errors: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def _scope() -> frozenset[str]:
    scope = auth.scope()
    return scope if scope is not None else frozenset()


@bp.errorhandler(ValidationFailed)
def _malformed(error: ValidationFailed) -> Response:
    return _error(400, "The hook request is malformed.", error.errors)


@bp.errorhandler(NotFound)
def _unknown(_error_: NotFound) -> Response:
    return _error(404, "No such CDS service.")


@bp.get("")
@requires(*ANY_ROLE)
def discovery() -> Response:
    return jsonify(cds.discovery())


@bp.post("/<service_id>")
@requires(*READ_ROLES)
def hook(service_id: str) -> Response:
    """The cards for the appointments being booked (the patient is the key's clinic's)."""
    wiring = cadence()
    body = request.get_json(silent=True)
    return jsonify(cds.cards(wiring.uow(read_only=True), service_id, body, now=wiring.now(),
                             scope=_scope()))


@bp.post("/<service_id>/feedback")
@requires(*READ_ROLES)
def feedback(service_id: str) -> Response:
    """Each card's outcome (accepted, or overridden with a reason) into the audit trail."""
    wiring = cadence()
    cds.record_feedback(wiring.uow(), service_id, request.get_json(silent=True),
                        actor=auth.actor(), now=wiring.now(), scope=_scope())
    return jsonify({})
