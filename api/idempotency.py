"""Idempotency-Key on every POST: replay the first response, reject reuse and overlap."""

from __future__ import annotations

import hashlib
import json

from flask import Flask, Response, g, request

from api import body
from api.auth import API_PREFIX
from api.context import cadence
from api.problems import PROBLEM_JSON, TYPE_BASE, ApiProblem
from scheduler.services import idempotency as store

HEADER = "Idempotency-Key"
_SECRET = "_cadence_secret_created"
REPLAYED = "Idempotent-Replayed"
SECRET_NOT_REPLAYED = "secret-not-replayed"
MAX_KEY = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def _fingerprint() -> str:
    raw = body.raw_body()
    text_body = raw.decode("utf-8", "surrogateescape")
    if raw and request.is_json:  # the JSON value, not its spelling (key order, spaces)
        try:
            text_body = json.dumps(body.parsed_json(request, None), sort_keys=True,
                                   separators=(",", ":"))
        except ApiProblem:
            pass
    text = "\n".join((request.method, request.path, request.query_string.decode(), text_body))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def carries_secret(created_id: str) -> None:
    """Mark the response being built as carrying a secret (a new API key, a webhook signing
    secret): it is never stored. A replay of its Idempotency-Key answers 409 naming
    `created_id` instead, so the client can revoke it and create another."""
    setattr(g, _SECRET, created_id)


def secret_replay(created_id: str, location: str) -> store.StoredResponse:
    """What a replay of a secret-carrying response answers (see the 0005 migration too)."""
    body = {
        "type": TYPE_BASE + SECRET_NOT_REPLAYED, "title": "Conflict", "status": 409,
        "detail": f"This request already created {created_id}; its secret was shown once "
                  "and is not stored, so it cannot be replayed. Revoke or delete "
                  f"{created_id} if the secret was lost, and create another.",
        "created_id": created_id,
    }
    return store.StoredResponse(409, json.dumps(body), {"Content-Type": PROBLEM_JSON,
                                                        "Location": location})


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
        body = stored.body
        if stored.status == 409 and SECRET_NOT_REPLAYED in body and "request_id" in g:
            # not a replay of what was answered but an answer of its own: it names the
            # request answered now (a real replay stays byte-identical, instance included)
            body = json.dumps({**json.loads(body), "instance": f"urn:request:{g.request_id}"})
        response = Response(body, status=stored.status, headers=stored.headers)
        response.headers[REPLAYED] = "true"
        return response
    g.idempotency_key = key
    return None


def _store(response: Response) -> Response:
    key = g.pop("idempotency_key", None)
    if key is None:
        return response
    wiring = cadence()
    if response.status_code >= 500 or response.is_streamed:
        store.release(wiring.uow(), client=g.api_key.id, key=key)
        return response
    created = g.pop(_SECRET, None)
    if created is not None and response.status_code < 300:
        stored = secret_replay(created, response.headers.get("Location", ""))
    else:
        headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
        stored = store.StoredResponse(response.status_code, response.get_data(as_text=True),
                                      headers)
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
