"""What the booking system sends about a plan: progress reports and visits."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import ReportIn, ReportOut, ReportResultOut, VisitIn, VisitOut, VisitPatch
from api.schemas import PageQuery, page_payload, page_schema
from scheduler.services import reports, visits
from scheduler.services.api_keys import Role

blp = Blueprint("plan_items", __name__, url_prefix="/api/v1",
                description="Progress reports and visits")
ReportPage = page_schema(ReportOut, "ReportPage")
VisitPage = page_schema(VisitOut, "VisitPage")


@blp.route("/plans/<plan_id>/reports")
class Reports(MethodView):
    @requires(Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST)
    @blp.arguments(ReportIn)
    @blp.response(201, ReportResultOut)
    @blp.alt_response(409, description="The plan is discharged")
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Record a progress report; the rules run and the decision explains itself. A report
        dated before others is folded in its place and the plan re-derived in order."""
        wiring = cadence()
        report, decision, plan = reports.record_report(
            wiring.uow(), plan_id, **data, actor=auth.actor(), now=wiring.now(),
            scope=auth.scope())
        return {"report": report, "decision": decision, "plan": plan}, 201

    @requires(*READ_ROLES)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ReportPage)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The plan's progress reports, in the order they arrived."""
        return page_payload(reports.list_reports(cadence().uow(), plan_id, scope=auth.scope(),
                                                 **query))


@blp.route("/plans/<plan_id>/visits")
class Visits(MethodView):
    @requires(Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST, Role.FRONT_DESK)
    @blp.arguments(VisitIn)
    @blp.response(201, VisitOut)
    @blp.alt_response(409, description="external_id already used in this clinic")
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """A visit from the booking system: booked, attended, cancelled or no_show."""
        wiring = cadence()
        view = visits.record_visit(wiring.uow(), plan_id, **data, actor=auth.actor(),
                                   now=wiring.now(), scope=auth.scope())
        return view, 201, {"Location": f"/api/v1/visits/{view.id}"}

    @requires(*READ_ROLES)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, VisitPage)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The plan's visits, in the order they were sent."""
        return page_payload(visits.list_visits(cadence().uow(), plan_id, scope=auth.scope(),
                                               **query))


@blp.route("/visits/<visit_id>")
class VisitById(MethodView):
    @requires(Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST, Role.FRONT_DESK)
    @blp.arguments(VisitPatch)
    @blp.response(200, VisitOut)
    def patch(self, data: dict[str, Any], visit_id: str) -> Any:
        """Change a visit's status (and time): attended, cancelled, no_show or booked."""
        wiring = cadence()
        return visits.update_visit(wiring.uow(), visit_id, **data, actor=auth.actor(),
                                   now=wiring.now(), scope=auth.scope())
