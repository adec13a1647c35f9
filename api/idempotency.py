"""Idempotency-Key on every POST: replay the first response, reject reuse and overlap.

A keyed POST is one database transaction (api/context.py's atomic request): the claim, the
view's change and the stored response commit together in `after_request`, after the response
is built. A crash or a 5xx before that commit leaves nothing, not even the claim (the key is
free and a retry runs once); after it, a retry replays the stored response. No response is
built after the commit, so none has to be rebuilt and no request is ever run twice.
"""

from __future__ import annotations

import hashlib
import json

from flask import Flask, Response, g, request

from api import body
from api.auth import API_PREFIX
from api.context import cadence
from api.problems import PROBLEM_JSON, TYPE_BASE, ApiProblem, database_unavailable_problem
from scheduler.db import database_unavailable
from scheduler.services import idempotency as store

HEADER = "Idempotency-Key"
_SECRET = "_cadence_secret_created"
REPLAYED = "Idempotent-Replayed"
SECRET_NOT_REPLAYED = "secret-not-replayed"
MAX_KEY = 255
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def parse_key(raw: str) -> str | None:
    """The key of an Idempotency-Key header: a bare token or an RFC 8941 sf-string
    (`"abc"`, with `\\"` and `\\\\` escapes), which the IETF draft specifies; None if malformed.
    `"abc"` and `abc` are the same key."""
    value = raw.strip(" \t")
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        out, chars, escaped = [], iter(value[1:-1]), False
        for char in chars:
            if not " " <= char <= "~":
                return None
            if escaped:
                if char not in '"\\':
                    return None
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                return None  # an unescaped quote inside
            else:
                out.append(char)
        value = "".join(out) if not escaped else ""
    if not 1 <= len(value) <= MAX_KEY or not value.isprintable():
        return None
    return value


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
    header = request.headers.get(HEADER)
    if header is None or request.method != "POST" or request.url_rule is None:
        return None
    if not request.path.startswith(API_PREFIX + "/") or "api_key" not in g:
        return None
    key = parse_key(header)
    if key is None:
        raise ApiProblem(422, "Idempotency-Key must be 1-255 printable characters, bare or "
                         "as a quoted string.", slug="validation-failed",
                         errors={HEADER: ["Must be 1-255 printable characters, bare or as an "
                                          'RFC 8941 string ("...").']})
    wiring = cadence()
    fingerprint = _fingerprint()  # reads the body: before the transaction begins
    wiring.begin_atomic()
    try:
        stored = store.claim(wiring.uow(), client=g.api_key.id, key=key,
                             fingerprint=fingerprint, now=wiring.now(),
                             ttl=wiring.idempotency_ttl)
    except BaseException:
        wiring.end_atomic(commit=False)
        raise
    if stored is not None:
        wiring.end_atomic(commit=False)
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
        wiring.end_atomic(commit=False)  # the claim and the change go: the key is free
        return response
    created = g.pop(_SECRET, None)
    if created is not None and response.status_code < 300:
        stored = secret_replay(created, response.headers.get("Location", ""))
    else:
        headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
        stored = store.StoredResponse(response.status_code, response.get_data(as_text=True),
                                      headers)
    try:
        store.complete(wiring.uow(), client=g.api_key.id, key=key, response=stored)
        wiring.end_atomic(commit=True)  # the change and its response, or neither
    except Exception as error:
        wiring.end_atomic(commit=False)
        if database_unavailable(error):
            return database_unavailable_problem(error)
        raise
    return response


def _release_on_crash(_error: BaseException | None) -> None:
    # after_request did not run (e.g. the response could not be built): roll back, which
    # frees the key (its claim was never committed).
    if g.pop("idempotency_key", None) is not None:
        cadence().end_atomic(commit=False)


def init_app(app: Flask) -> None:
    """Register the hooks; call after auth.init_app so the client is known."""
    app.before_request(_claim)
    app.after_request(_store)
    app.teardown_request(_release_on_crash)
