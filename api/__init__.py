"""HTTP API: the Flask app factory wiring blueprints, auth, idempotency and errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from api import (
    admin_reads,
    api_keys,
    auth,
    cli,
    clinics,
    context,
    health,
    idempotency,
    patients,
    plan_items,
    plans,
    problems,
    proposals,
    webhooks,
    what_if,
)
from api.openapi import CadenceApi
from config import Settings

BLUEPRINTS = (clinics.blp, api_keys.blp, patients.blp, plans.blp, plan_items.blp, proposals.blp,
              admin_reads.blp, webhooks.blp, what_if.blp)


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
) -> Flask:
    """Build the app for `settings` (default: from the environment); nothing connects yet."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["TESTING"] = settings.testing
    provider = DefaultJSONProvider(app)
    provider.sort_keys = False  # fields in the order the schemas declare them
    app.json = provider
    logging.getLogger("cadence").setLevel(settings.log_level)
    app.logger.setLevel(settings.log_level)

    context.init_app(app, settings, clock)
    api = CadenceApi(app)
    app.before_request(problems.reject_nul_paths)  # first: before any database lookup
    auth.init_app(app)  # before idempotency: the client is the authenticated key
    idempotency.init_app(app)
    problems.register(app)  # after CadenceApi: replaces flask-smorest's handler
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(health.bp)
    cli.init_app(app)
    return app
