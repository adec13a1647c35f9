"""Idempotency-Key on every POST: replay the first response, reject reuse and overlap."""

from __future__ import annotations

import hashlib
import json

from flask import Flask, Response, g, request

from api.auth import API_PREFIX
from api.context import cadence
from api.problems import ApiProblem
from scheduler.services import idempotency as store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("utf-8", "surrogateescape")
    text = "\n".join((request.method, request.path, request.query_string.decode(), body))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _claim() -> Response | None:
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST" or request.url_rule is None:
        return None
    if not request.path.startswith(API_PREFIX + "/") or "api_key" not in g:
        return None
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        raise ApiProblem(422, "Idempotency-Key must be 1-255 printable characters.",
                         slug="validation-failed",
                         errors={HEADER: ["Must be 1-255 printable characters."]})
    wiring = cadence()
    stored = store.claim(wiring.uow(), client=g.api_key.id, key=key,
                         fingerprint=_fingerprint(), now=wiring.now(),
                         ttl=wiring.idempotency_ttl)
    if stored is not None:
        response = Response(stored.body, status=stored.status, headers=stored.headers)
        response.headers[REPLAYED] = "true"
        return response
    g.idempotency_key = key
    return None


def _store(response: Response) -> Response:
    key = g.pop("idempotency_key", None)
    if key is None:
        return response
    wiring = cadence()
    # A no-store response (e.g. a calendar feed's URL, a credential) is not kept for replay.
    if (response.status_code >= 500 or response.is_streamed
            or "no-store" in response.headers.get("Cache-Control", "")):
        store.release(wiring.uow(), client=g.api_key.id, key=key)
        return response
    headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
    stored = store.StoredResponse(response.status_code, response.get_data(as_text=True), headers)
    store.complete(wiring.uow(), client=g.api_key.id, key=key, response=stored)
    return response


def _release_on_crash(_error: BaseException | None) -> None:
    # after_request did not run (e.g. the response could not be built): free the key.
    key = g.pop("idempotency_key", None)
    if key is not None:
        store.release(cadence().uow(), client=g.api_key.id, key=key)


def init_app(app: Flask) -> None:
    """Register the hooks; call after auth.init_app so the client is known."""
    app.before_request(_claim)
    app.after_request(_store)
    app.teardown_request(_release_on_crash)
