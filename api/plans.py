"""Plans: creation by the booking system, reads, and the physiotherapist's actions."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.etag import etag, expected_version, not_modified
from api.plan_schemas import ActionIn, ActionResultOut, PlanIn, PlanOut, PlanQuery
from api.schemas import page_payload, page_schema
from scheduler.services import plans as service
from scheduler.services.api_keys import Role

blp = Blueprint("plans", __name__, url_prefix="/api/v1/plans",
                description="Care plans: phase, frequency in force, review, next visit")
PlanPage = page_schema(PlanOut, "PlanPage")


@blp.route("")
class Plans(MethodView):
    @requires(Role.BOOKING_SYSTEM)
    @blp.arguments(PlanIn)
    @blp.response(201, PlanOut)
    @blp.alt_response(409, description="The patient already has an open plan")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a plan: initial phase at the starting frequency (rule `initial.start`)."""
        wiring = cadence()
        view = service.create_plan(wiring.uow(), **data, actor=auth.actor(), now=wiring.now(),
                                   scope=auth.scope())
        return view, 201, {"Location": f"{blp.url_prefix}/{view.id}",
                           "ETag": etag(view.version, view.today)}

    @requires(*READ_ROLES)
    @blp.arguments(PlanQuery, location="query")
    @blp.response(200, PlanPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List plans of this key's clinics, oldest first."""
        wiring = cadence()
        return page_payload(service.list_plans(wiring.uow(), now=wiring.now(),
                                               scope=auth.scope(), **query))


@blp.route("/<plan_id>")
class PlanById(MethodView):
    @requires(*READ_ROLES)
    @blp.response(200, PlanOut)
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    def get(self, plan_id: str) -> Any:
        """Read a plan; `ETag` changes with the plan's version and the clinic's date."""
        wiring = cadence()
        view = service.get_plan(wiring.uow(read_only=True), plan_id, now=wiring.now(),
                                scope=auth.scope())
        return not_modified(view.version, view.today) or (
            view, 200, {"ETag": etag(view.version, view.today)})


@blp.route("/<plan_id>/actions")
class PlanActions(MethodView):
    @requires(Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST)
    @blp.arguments(ActionIn)
    @blp.response(200, ActionResultOut)
    @blp.alt_response(409, description="The plan is discharged")
    @blp.alt_response(412, description="If-Match names an older version")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """A physiotherapist's action: record_consent, override, clear_override, set_phase,
        hold, resume or discharge. Requires `If-Match`; audited with `X-Actor`."""
        wiring = cadence()
        expected = expected_version()
        view, decision = service.act(wiring.uow(), plan_id, data, expected_version=expected,
                                     actor=auth.actor(), now=wiring.now(), scope=auth.scope())
        body = {**{k: getattr(view, k) for k in view.__dataclass_fields__}, "decision": decision}
        return body, 200, {"ETag": etag(view.version, view.today)}
