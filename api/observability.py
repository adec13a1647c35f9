"""Per-request observability: the X-Request-Id, the one access line, the HTTP metrics.

The access line replaces gunicorn's (which prints query strings, and with them patients'
record numbers): request id, method, route template (never the path or query as sent),
status, duration, and the key, clinic and plan ids where known. Ids are logged only when they
have our own shape (`cln_` + 20 hex), so a client that puts a record number in a path segment
does not get it written to the log.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, g, request
from prometheus_client import Counter, Histogram

from config import Settings
from scheduler import log_setup, tracing

HEADER = "X-Request-Id"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
_OUR_ID = re.compile(r"(cln|pln)_[0-9a-f]{20}\Z")
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter("cadence_http_requests", "HTTP requests by route template, method and "
                        "status", ["route", "method", "status"])
HTTP_LATENCY = Histogram("cadence_http_request_duration_seconds", "HTTP request latency by "
                         "route template", ["route"],
                         buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
log = log_setup.FastLogger("cadence.access", context=False)  # request_id passed below
_counters: dict[tuple[str, str, int], Any] = {}  # labelled children, looked up once each
_latencies: dict[str, Any] = {}


def request_id() -> str | None:
    """The current request's id (None outside a request or before the first hook ran)."""
    return g.get("request_id")


def _start() -> None:
    sent = request.headers.get(HEADER)
    # 32 hex like uuid4().hex, without building a UUID object (a fifth of the cost)
    rid = sent if sent is not None and _VALID_ID.match(sent) else os.urandom(16).hex()
    here = g._get_current_object()  # one proxy lookup, not one per attribute (hot path)
    here.request_id = rid
    here.obs_started = time.perf_counter()
    here.obs_token = tracing.set_request_id(rid)
    # `_end` clears the context after every request, so binding alone is enough here
    log_setup.bind_request(request_id=rid, clear=False)


def _ours(value: object) -> str | None:
    return value if isinstance(value, str) and _OUR_ID.match(value) else None


def _known_ids(req: Request, here: Any) -> dict[str, str | None]:
    args = req.view_args or {}
    key = here.get("api_key")
    clinic = _ours(args.get("clinic_id"))
    if clinic is None and req.query_string:  # req.args parses the query string: only if any
        query = req.args
        # `in` first: MultiDict.get on a missing key builds and catches a BadRequestKeyError
        clinic = _ours(query["clinic_id"]) if "clinic_id" in query else None
    if clinic is None and key is not None and len(key.clinic_ids) == 1:
        clinic = key.clinic_ids[0]
    return {"key_id": key.id if key is not None else None, "clinic_id": clinic,
            "plan_id": _ours(args.get("plan_id"))}


def _finisher(settings: Settings) -> Callable[[Response], Response]:
    access, counted = settings.access_log, settings.metrics_enabled

    def finish(response: Response) -> Response:
        here = g._get_current_object()
        rid = here.get("request_id")
        if rid is None:  # pragma: no cover - _start runs first on every request
            return response
        response.headers[HEADER] = rid
        if not (access or counted):
            return response
        elapsed = time.perf_counter() - here.obs_started
        req = request._get_current_object()  # type: ignore[attr-defined]
        rule, method = req.url_rule, req.method
        if method not in METHODS:
            method = "OTHER"  # clients choose the method: keep the label set bounded
        route = rule.rule if rule is not None else UNMATCHED
        status = response.status_code
        if counted:
            counter = _counters.get((route, method, status))
            if counter is None:
                counter = _counters.setdefault((route, method, status),
                                               HTTP_REQUESTS.labels(route, method, str(status)))
            latency = _latencies.get(route)
            if latency is None:
                latency = _latencies.setdefault(route, HTTP_LATENCY.labels(route))
            counter.inc()
            latency.observe(elapsed)
        if access:
            log.info("request", method=method, route=route, status=status,
                     duration_ms=round(elapsed * 1000, 2), **_known_ids(req, here),
                     request_id=rid)
        return response

    return finish


def _end(_error: BaseException | None) -> None:
    token = g.pop("obs_token", None)
    if token is not None:
        tracing.reset_request_id(token)
    log_setup.clear_request()


def init_app(app: Flask, settings: Settings) -> None:
    """Register first, so every later hook, view and error handler sees the request id."""
    app.before_request(_start)
    app.after_request(_finisher(settings))
    app.teardown_request(_end)
