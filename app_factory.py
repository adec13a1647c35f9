"""The whole app: the API (api.create_app) with the staff web app (web.init_app) on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

import web
from api import create_app
from config import Settings


def build_app(settings: Settings | None = None, *,
              clock: Callable[[], datetime] | None = None) -> Flask:
    """The API and the pages for `settings` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = create_app(settings, clock=clock)
    web.init_app(app, settings)
    return app
