"""Staff web app: server-rendered pages under /app (sessions, CSRF, sign-in, error pages)."""

from __future__ import annotations

from flask import Flask

from config import Settings
from web import auth, cli, csrf, sessions, views


def init_app(app: Flask, settings: Settings) -> None:
    """Register the `web` blueprint at /app, CSRF (page blueprints only), the server-side
    session store and the `staff` CLI on an app made by api.create_app."""
    sessions.init_app(app)
    csrf.init_app(app, settings)
    app.register_blueprint(views.bp)
    app.add_template_global(auth.current_staff, "current_staff")
    cli.init_app(app)
