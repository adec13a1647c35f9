"""Bearer-key authentication, role checks, clinic tenancy and the audit actor."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, g, request

from api import security
from api.context import cadence
from api.problems import ApiProblem
from scheduler.errors import NotFound
from scheduler.services.api_keys import (
    ApiKeyView,
    Role,
    authenticate,
    needs_touch,
    record_use,
)
from scheduler.services.common import Actor, Scope

API_PREFIX = "/api/v1"
CDS_PREFIX = "/cds-services"  # CDS Hooks: outside /api/v1, the same bearer keys
MAX_ACTOR = 200
F = TypeVar("F", bound=Callable[..., Any])

READ_ROLES = (Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST, Role.FRONT_DESK)
ANY_ROLE = (Role.ADMIN, *READ_ROLES)


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _authenticate() -> None:
    if not any(request.path == prefix or request.path.startswith(prefix + "/")
               for prefix in (API_PREFIX, CDS_PREFIX)):
        return
    limits = security.limits()
    limits.refuse_locked_out_address()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        limits.record_failure()
        raise _unauthorized("An `Authorization: Bearer <api key>` header is required.")
    wiring = cadence()
    now = wiring.now()
    key = authenticate(wiring.request_connection(), token.strip(), now)
    if key is None:
        limits.record_failure()
        raise _unauthorized("The API key is unknown, revoked or expired.")
    actor = request.headers.get("X-Actor", "").strip() or None
    if actor is not None and (len(actor) > MAX_ACTOR or not actor.isprintable()):
        raise ApiProblem(422, "X-Actor is too long or not printable.", slug="validation-failed",
                         errors={"X-Actor": [f"At most {MAX_ACTOR} printable characters."]})
    limits.check_key(key.id)
    g.api_key = key
    g.actor = Actor(key_id=key.id, name=actor)
    if needs_touch(key, now):
        g.touch_key = (key.id, now)


def _record_use(response: Any) -> Any:
    """last_used_at, at most once a minute per key, after the view's unit of work."""
    touch = g.pop("touch_key", None)
    if touch is not None:
        record_use(cadence().uow(), *touch)
    return response


def init_app(app: Flask) -> None:
    """Authenticate every /api/v1 request before anything else runs."""
    app.before_request(_authenticate)
    app.after_request(_record_use)


def current_key() -> ApiKeyView:
    key: ApiKeyView = g.api_key
    return key


def actor() -> Actor:
    """Who is calling, for the audit trail (key id + X-Actor)."""
    who: Actor = g.actor
    return who


def scope() -> Scope:
    """Clinic ids the caller may see; None for admin keys (all clinics)."""
    key = current_key()
    return None if key.all_clinics else frozenset(key.clinic_ids)


def ensure_visible(clinic_id: str, kind: str, object_id: str) -> None:
    """Tenancy: an object of a clinic outside the key's scope is a 404, never a 403."""
    key = current_key()
    if not key.all_clinics and clinic_id not in key.clinic_ids:
        raise NotFound(kind, object_id)


def requires(*roles: Role) -> Callable[[F], F]:
    """Allow the view only to keys with one of `roles` (else 403); put it under @blp.route."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_key().role not in allowed:
                raise ApiProblem(403, "This API key's role may not make this call.",
                                 slug="forbidden")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
