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
    body,
    cds,
    checkins,
    cli,
    clinics,
    contacts,
    context,
    feeds,
    health,
    idempotency,
    interop,
    metrics,
    observability,
    patients,
    plan_items,
    plans,
    problems,
    proposals,
    security,
    staff,
    webhooks,
    what_if,
)
from api.openapi import CadenceApi
from config import Settings

BLUEPRINTS = (clinics.blp, api_keys.blp, patients.blp, plans.blp, plan_items.blp, proposals.blp,
              admin_reads.blp, webhooks.blp, interop.blp, what_if.blp, staff.blp,
              contacts.blp, checkins.blp)


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
    observability.init_app(app, settings)  # first hooks: request id, access line, metrics
    api = CadenceApi(app)
    # before_request hooks run in this order:
    app.before_request(problems.reject_nul_paths)  # first: before any database lookup
    body.init_app(app, settings.max_body_bytes)  # a declared length over the limit: 413
    security.init_limits(app, settings)  # authentication counts requests and failures
    auth.init_app(app)  # before idempotency: the client is the authenticated key
    body.init_checks(app)  # 415 / 400 for the body, parsed once
    idempotency.init_app(app)
    problems.register(app)  # after CadenceApi: replaces flask-smorest's handler
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(cds.bp)
    cli.init_app(app)
    security.init_headers(app, settings)  # outermost WSGI middleware
    return app
