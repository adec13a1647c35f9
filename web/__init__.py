"""Web pages: the staff app under /app (sessions, CSRF, sign-in, error pages) and the
patient's check-in page under /c/."""

from __future__ import annotations

from flask import Flask

from config import Settings
from web import auth, checkin, checkin_limits, cli, csrf, pages, sessions, views


def init_app(app: Flask, settings: Settings) -> None:
    """Register the `web` blueprint at /app, CSRF (page blueprints only), the server-side
    session store and the `staff` CLI on an app made by api.create_app."""
    sessions.init_app(app)
    csrf.init_app(app, settings)
    app.register_blueprint(views.bp)
    pages.init_app(app)  # the staff pages: follow-ups, patients, plans
    checkin_limits.init_app(app, settings)
    app.register_blueprint(checkin.bp)  # the patient's check-in page, /c/<token>
    app.add_template_global(auth.current_staff, "current_staff")
    cli.init_app(app)
