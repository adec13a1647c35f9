"""The staff pages' blueprint (under /app beside `web`): follow-ups, patient search, the plan
page and its forms. CSRF and the HTML error pages are the `web` blueprint's."""

from __future__ import annotations

from flask import Blueprint, Flask

from web import errors, followups, formatting, patients, plan_actions, plan_view
from web.csrf import protect_blueprint

bp = Blueprint("pages", __name__, url_prefix="/app", template_folder="templates")
protect_blueprint(bp)
errors.register(bp)

bp.add_url_rule("/clinics/<clinic_id>/followups", view_func=followups.followups,
                endpoint="followups", methods=["GET"])
bp.add_url_rule("/patients", view_func=patients.patients, endpoint="patients",
                methods=["GET"])
bp.add_url_rule("/plans/<plan_id>", view_func=plan_view.plan, endpoint="plan", methods=["GET"])
bp.add_url_rule("/plans/<plan_id>/reports", view_func=plan_actions.record_report,
                endpoint="record_report", methods=["POST"])
bp.add_url_rule("/plans/<plan_id>/contacts", view_func=plan_actions.log_contact,
                endpoint="log_contact", methods=["POST"])
bp.add_url_rule("/plans/<plan_id>/<segment>", view_func=plan_actions.act, endpoint="act",
                methods=["POST"])


def init_app(app: Flask) -> None:
    """Register the pages on an app that has the `web` blueprint (sessions, CSRF)."""
    formatting.init_app(app)
    app.register_blueprint(bp)
