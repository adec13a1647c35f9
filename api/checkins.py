"""Patient check-ins under /api/v1: create a plan's single-use link (its URL on the public
base URL, shown once), list a plan's links, revoke one. The page itself is web/'s (/c/)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth, idempotency
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.schemas import PageQuery, StrictInteger, StrictSchema, page_payload, page_schema
from scheduler.services import checkins
from scheduler.services.api_keys import Role

blp = Blueprint("checkins", __name__, url_prefix="/api/v1",
                description="Patient check-ins: single-use report links")
WRITE_ROLES = (Role.BOOKING_SYSTEM, Role.FRONT_DESK, Role.PHYSIOTHERAPIST)


class CheckinIn(StrictSchema):
    expires_in_hours = StrictInteger(
        load_default=checkins.EXPIRES_DEFAULT_HOURS,
        validate=validate.Range(min=1, max=checkins.EXPIRES_MAX_HOURS),
        metadata={"description": "How long the link works (1-168 hours; default 72)"})


class CreatedCheckinOut(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True, metadata={
        "description": "The link to send the patient (holds its token): shown only in this "
                       "response"})
    expires_at = fields.AwareDateTime(required=True)


class CheckinOut(Schema):
    id = fields.String(required=True)
    plan_id = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    used_at = fields.AwareDateTime(required=True, allow_none=True)
    revoked_at = fields.AwareDateTime(required=True, allow_none=True)
    report_id = fields.String(required=True, allow_none=True,
                              metadata={"description": "The report the patient's answer made"})
    state = fields.String(required=True, validate=validate.OneOf(checkins.STATES))


CheckinPage = page_schema(CheckinOut, "CheckinPage")


@blp.route("/plans/<plan_id>/checkins")
class PlanCheckins(MethodView):
    @requires(*WRITE_ROLES)
    @blp.doc(operationId="createCheckin")
    @blp.arguments(CheckinIn)
    @blp.response(201, CreatedCheckinOut, headers={"Cache-Control": {
        "description": "`no-store`: the URL is a credential", "schema": {"type": "string"}}})
    @blp.alt_response(409, description="The plan is discharged")
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """A single-use check-in link for the plan's patient, on `PUBLIC_BASE_URL`: the
        booking system sends it (we never message patients). The URL is shown once; only a
        hash of its token is stored, so a replay of its Idempotency-Key is a 409 naming the
        link (like a new calendar feed's)."""
        wiring = cadence()
        issued = checkins.create_checkin(wiring.uow(), plan_id, **data, actor=auth.actor(),
                                         now=wiring.now(), scope=auth.scope())
        idempotency.carries_secret(issued.checkin.id)  # the URL is a credential: never replayed
        body = {"id": issued.checkin.id,
                "url": wiring.settings.public_base_url.rstrip("/") + issued.path,
                "expires_at": issued.checkin.expires_at}
        return body, 201, {"Cache-Control": "no-store",
                           "Location": f"{blp.url_prefix}/plans/{plan_id}/checkins"}

    @requires(*READ_ROLES)
    @blp.doc(operationId="listCheckins")
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, CheckinPage)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The plan's check-in links, oldest first: created, expires, used, revoked (never the
        URL)."""
        wiring = cadence()
        return page_payload(checkins.list_checkins(wiring.uow(read_only=True), plan_id,
                                                   now=wiring.now(), scope=auth.scope(),
                                                   **query))


@blp.route("/checkins/<checkin_id>")
class CheckinById(MethodView):
    @requires(*WRITE_ROLES)
    @blp.doc(operationId="revokeCheckin")
    @blp.response(204)
    @blp.alt_response(404, description="No such link (or already revoked)")
    def delete(self, checkin_id: str) -> Any:
        """Revoke a check-in link: its page answers 410 from now on."""
        wiring = cadence()
        checkins.revoke_checkin(wiring.uow(), checkin_id, actor=auth.actor(), now=wiring.now(),
                                scope=auth.scope())
        return None
