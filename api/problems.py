"""RFC 9457 problem+json: the one error shape, and the handlers that produce it."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException, NotFound

from scheduler import errors as core
from scheduler.db import UNAVAILABLE_CANDIDATES, database_unavailable

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:ims-cadence:problem:"
log = logging.getLogger("cadence.api")
DATABASE_UNAVAILABLE = "database-unavailable"
RETRY_AFTER_SECONDS = 5  # a restart or failover takes seconds; pre-ping then reconnects


class ApiProblem(Exception):
    """An HTTP-level error raised by the API layer (auth, roles, preconditions)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """Build a problem+json response (`extensions`: extra members, RFC 9457 section 3.2)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug if slug else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if extensions:
        body.update(extensions)
    request_id = g.get("request_id") if has_request_context() else None
    if request_id is not None:  # set by api/observability.py
        body["instance"] = f"urn:request:{request_id}"
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs' {"json": {"a": {"0": ["msg"]}}} -> {"a.0": ["msg"]} (locations dropped)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def _webargs_errors(error: HTTPException) -> dict[str, list[str]] | None:
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    if not messages:
        return None
    # Drop the location level ("json", "query", "headers") webargs adds.
    merged: dict[str, Any] = {}
    for location_messages in messages.values() if isinstance(messages, Mapping) else [messages]:
        merged.update(flatten(location_messages))
    return merged


_DETAILS = {
    400: "The request is malformed (for example, its body is not valid JSON).",
    404: "The requested resource does not exist.",
    405: "The method is not allowed for this resource.",
    413: "The request body is too large.",
    415: "The request body must be application/json.",
    422: "The request has invalid fields.",
}


def http_problem(error: HTTPException) -> Response:
    """Map any werkzeug HTTPException (404, 405, webargs' 400/422, ...) to problem+json."""
    status = error.code or 500
    if status == 304:  # pragma: no cover - 304s are returned, never raised
        return Response(status=304)
    headers: dict[str, str] = {}
    allowed = getattr(error, "valid_methods", None)  # MethodNotAllowed's
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    errors = _webargs_errors(error) if status in (400, 422) else None
    if status == 400 and errors:
        errors = None  # malformed JSON: webargs' message adds nothing
    slug = {422: "validation-failed", 413: "body-too-large"}.get(status)
    return problem(status, _DETAILS.get(status, error.description or HTTPStatus(status).phrase),
                   slug=slug, errors=errors, headers=headers)


def _core_problem(error: core.CadenceError) -> Response:
    if isinstance(error, core.NotFound):
        return problem(404, _DETAILS[404], slug="not-found")
    if isinstance(error, core.Gone):
        return problem(410, "The requested resource is no longer available.", slug="gone")
    if isinstance(error, core.IdempotencyInFlight):
        return problem(409, error.detail, slug="idempotency-in-flight")
    if isinstance(error, core.Conflict):
        return problem(409, error.detail, slug="conflict")
    if isinstance(error, core.IdempotencyMismatch):
        return problem(422, error.detail, slug="idempotency-key-reused",
                       errors={"Idempotency-Key": [error.detail]})
    if isinstance(error, core.ValidationFailed):
        return problem(422, error.detail, slug="validation-failed", errors=error.errors)
    if isinstance(error, core.PreconditionFailed):
        return problem(412, error.detail, slug="precondition-failed")
    return problem(400, error.detail)  # pragma: no cover - every core error is mapped above


def _api_problem(error: ApiProblem) -> Response:
    return problem(error.status, error.detail, slug=error.slug, errors=error.errors,
                   headers=error.headers)


def _unhandled(error: Exception) -> Response:
    # Only the type and file:line frames: messages and source lines may carry patient data.
    frames = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}"
                       for f in traceback.extract_tb(error.__traceback__))
    log.error("unhandled %s on %s %s\n%s", type(error).__name__, request.method,
              request.path, frames)
    return problem(500, "An unexpected error occurred; it has been logged.", slug="internal")


def database_unavailable_problem(error: BaseException) -> Response:
    """503 with Retry-After for an unreachable, locked, full or read-only database."""
    # The type only: a driver's message may quote the statement or a value from it.
    log.warning("database unavailable (%s) on %s %s", type(error).__name__, request.method,
                request.url_rule.rule if request.url_rule is not None else "-")
    return problem(503, "The database is unavailable; retry after the Retry-After delay. "
                   "Nothing of this request was stored.", slug=DATABASE_UNAVAILABLE,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _database_error(error: Exception) -> Response:
    if database_unavailable(error):
        return database_unavailable_problem(error)
    return _unhandled(error)


def reject_nul_paths() -> None:
    """A path with U+0000 names nothing (and PostgreSQL cannot even compare it): 404."""
    if "\x00" in request.path:
        raise NotFound()


def register(app: Flask) -> None:
    """Install the handlers (after flask-smorest's, which they replace)."""
    app.register_error_handler(HTTPException, http_problem)
    app.register_error_handler(core.CadenceError, _core_problem)
    app.register_error_handler(ApiProblem, _api_problem)
    app.register_error_handler(Exception, _unhandled)
    # On the app, not a blueprint: every route (/api/v1, /cds-services, the /app pages, the
    # probes) answers a database outage with a 503; a blueprint may register its own.
    for candidate in UNAVAILABLE_CANDIDATES:
        app.register_error_handler(candidate, _database_error)
