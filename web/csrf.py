"""CSRF protection (flask-wtf's CSRFProtect) for page blueprints only, never /api/v1.

The token's secret lives in the server-side session; the signing key is WTF_CSRF_SECRET_KEY,
made once per database (scheduler.services.web_sessions.signing_key) so every worker agrees."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_wtf.csrf import CSRFProtect

from config import Settings
from scheduler.services import web_sessions
from web.context import wiring

csrf = CSRFProtect()
KEY_NAME = "csrf"


def _ensure_key() -> None:
    if current_app.config.get("WTF_CSRF_SECRET_KEY") is None:
        wired = wiring()
        current_app.config["WTF_CSRF_SECRET_KEY"] = web_sessions.signing_key(
            wired.uow(), KEY_NAME, now=wired.now())


def _protect() -> None:
    _ensure_key()
    csrf.protect()  # only refuses unsafe methods (POST, PUT, PATCH, DELETE) without a token


def protect_blueprint(blueprint: Blueprint) -> None:
    """Refuse unsafe requests to `blueprint`'s views without a valid CSRF token (a 400)."""
    blueprint.before_request(_protect)


def init_app(app: Flask, settings: Settings) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # opt-in per page blueprint: not /api/v1
    app.config.setdefault("WTF_CSRF_SECRET_KEY", None)
    # A token lives as long as its session may (the session's own limits end it sooner).
    app.config["WTF_CSRF_TIME_LIMIT"] = settings.session_absolute_hours * 3600
    csrf.init_app(app)
