"""The contact log: the front desk's outreach attempts on a plan (issue 13)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import day
from api.schemas import PageQuery, StrictSchema, page_payload, page_schema
from scheduler.services import contacts
from scheduler.services.api_keys import Role

blp = Blueprint("contacts", __name__, url_prefix="/api/v1",
                description="The contact log: outreach attempts, snoozes, do not contact")

# Who may log a contact: whoever may record a visit (admin keys act on no plan).
WRITE_ROLES = (Role.BOOKING_SYSTEM, Role.PHYSIOTHERAPIST, Role.FRONT_DESK)


class ContactIn(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(contacts.CHANNELS))
    outcome = fields.String(required=True, validate=validate.OneOf(contacts.OUTCOMES),
                            metadata={"description": "do_not_contact flags the plan until a "
                                      "physiotherapist clears it (clear_do_not_contact)"})
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=contacts.MAX_NOTE))
    snooze_until = day(load_default=None, allow_none=True, metadata={
        "description": "Off the worklist through this day: the clinic's today to 90 days "
                       "ahead"})


class ContactOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    clinic_id = fields.String()
    channel = fields.String()
    outcome = fields.String()
    note = fields.String(allow_none=True)
    snooze_until = fields.Date(allow_none=True)
    actor = fields.String(allow_none=True, metadata={
        "description": "Who logged it: the X-Actor (or staff:<id>), else the API key's id"})
    created_at = fields.AwareDateTime()


ContactPage = page_schema(ContactOut, "ContactPage")


@blp.route("/plans/<plan_id>/contacts")
class Contacts(MethodView):
    @requires(*WRITE_ROLES)
    @blp.arguments(ContactIn)
    @blp.response(201, ContactOut)
    @blp.alt_response(409, description="The plan is discharged")
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Log a contact attempt; `snooze_until` keeps the plan off the worklist through that
        day, outcome `do_not_contact` flags the plan. Audited with `X-Actor`."""
        wiring = cadence()
        view = contacts.log_contact(wiring.uow(), plan_id, **data, actor=auth.actor(),
                                    now=wiring.now(), scope=auth.scope())
        return view, 201, {"Location": f"{blp.url_prefix}/plans/{plan_id}/contacts"}

    @requires(*READ_ROLES)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ContactPage)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The plan's contacts, newest first."""
        return page_payload(contacts.list_contacts(cadence().uow(read_only=True), plan_id,
                                                   scope=auth.scope(), **query))
