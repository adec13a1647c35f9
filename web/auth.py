"""Who is signed in: `current_staff()`, `@staff_required(*roles)`, the audit actor, sign-in
and sign-out, and the tenancy check pages use (another clinic's object is a 404 page)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, redirect, request, session, url_for

from scheduler.errors import NotFound
from scheduler.services.common import Actor, Scope
from scheduler.services.staff import StaffRole, StaffUser
from web import sessions

F = TypeVar("F", bound=Callable[..., Any])


def _session() -> sessions.ServerSession:
    return cast(sessions.ServerSession, session._get_current_object())  # type: ignore[attr-defined]


def current_staff() -> StaffUser | None:
    """The signed-in staff user of this request, or None."""
    try:
        return _session().staff
    except (AttributeError, RuntimeError):
        return None


def signed_in() -> StaffUser:
    """The signed-in staff user (only within a @staff_required view)."""
    staff = current_staff()
    if staff is None:
        raise RuntimeError("signed_in() outside a @staff_required view")
    return staff


def staff_actor() -> Actor:
    """The audit actor of a web action: `Actor(key_id=None, name="staff:<id>")`."""
    return Actor(key_id=None, name=f"staff:{signed_in().id}")


def scope() -> Scope:
    """The clinics the signed-in user may see (None: every clinic, for admins)."""
    staff = signed_in()
    return None if staff.role == StaffRole.ADMIN else frozenset(staff.clinic_ids)


def ensure_visible(clinic_id: str | None, kind: str, object_id: str) -> None:
    """Tenancy: an object of a clinic the user does not work in is NotFound (a 404 page)."""
    allowed = scope()
    if allowed is not None and clinic_id not in allowed:
        raise NotFound(kind, object_id)


def _login_url() -> str:
    target = request.full_path if request.query_string else request.path
    return url_for("web.login", next=target)


def staff_required(*roles: str) -> Callable[[F], F]:
    """Views for signed-in staff (of one of `roles`, if given): without a session a redirect
    to the sign-in page (`?next=` the path), with another role the 403 page."""
    wanted = frozenset(str(r) for r in roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return redirect(_login_url(), code=303)
            if wanted and staff.role not in wanted:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def sign_in(staff: StaffUser) -> None:
    """Attach `staff` to this browser's session under a new token (rotation)."""
    sessions.rotate(_session(), staff)


def sign_out() -> None:
    """End this browser's session, server-side too."""
    sessions.end(_session())

