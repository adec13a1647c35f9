"""Flask's `session`, kept server-side (scheduler.services.web_sessions): the cookie holds
only a random token. HttpOnly, SameSite=Lax, Secure unless WEB_PLAIN_HTTP on a loopback host."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from scheduler.services import web_sessions
from scheduler.services.staff import StaffUser
from web.context import wiring

COOKIE = "cadence_session"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
WEB_PREFIXES = ("/app", "/c/")  # only pages have sessions; /api/v1 never reads the cookie


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session's data plus its token, staff user id and whether it must be written."""

    def __init__(self, data: dict[str, Any] | None = None, *, token: str | None = None,
                 staff: StaffUser | None = None) -> None:
        def changed(_self: Any) -> None:
            self.modified = True

        super().__init__(data or {}, changed)
        self.token = token  # None: not stored yet
        self.staff = staff  # as loaded with the session (None: signed out)
        self.staff_id = staff.id if staff is not None else None
        self.previous: str | None = None  # the token this session rotated away from
        self.ended = False
        self.modified = False


def rotate(session: ServerSession, staff: StaffUser | None) -> None:
    """Give the session a new token (at sign-in: a planted or stolen token is worthless)."""
    if session.token is not None and session.previous is None:
        session.previous = session.token
    session.token = None
    session.staff = staff
    session.staff_id = staff.id if staff is not None else None
    session.modified = True


def end(session: ServerSession) -> None:
    """Delete the session server-side and clear the cookie (sign-out)."""
    session.clear()
    session.ended = True


class ServerSessionInterface(SessionInterface):
    """open_session/save_session on the web_sessions table."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if not request.path.startswith(WEB_PREFIXES):
            return ServerSession()
        token = request.cookies.get(COOKIE)
        if not token:
            return ServerSession()
        wired = wiring()
        settings = wired.settings
        record = web_sessions.load(
            wired.uow(), token, now=wired.now(),
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours))
        if record is None:
            return ServerSession()
        return ServerSession(record.data, token=token, staff=record.staff)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        wired = wiring() if session.modified or session.ended else None
        if session.ended:
            for token in (session.token, session.previous):
                if token is not None and wired is not None:
                    web_sessions.end(wired.uow(), token)
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax")
            return
        if not session.modified or wired is None:
            return
        if not dict(session) and session.token is None and session.staff_id is None:
            return  # nothing worth storing: no row, no cookie
        new = session.token is None
        if new:
            session.token = web_sessions.new_token()
        assert session.token is not None
        web_sessions.save(wired.uow(), session.token, data=dict(session),
                          staff_id=session.staff_id, now=wired.now(), replaces=session.previous)
        if new:
            response.set_cookie(COOKIE, session.token, path="/", httponly=True, samesite="Lax",
                                secure=_secure(wired.settings.web_plain_http))
        response.vary.add("Cookie")


def _secure(plain_http: bool) -> bool:
    return not (plain_http and request.host.rsplit(":", 1)[0] in LOOPBACK)


def init_app(app: Flask) -> None:
    app.session_interface = ServerSessionInterface()
