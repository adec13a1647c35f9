"""Proposals: next visit, series, the decision trail and the front desk's worklist."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import DecisionOut, WindowOut, day, text
from api.schemas import PageQuery, QueryInteger, StrictSchema, page_payload, page_schema
from scheduler.services import proposals

blp = Blueprint("proposals", __name__, url_prefix="/api/v1",
                description="Next-visit windows, series, decisions and follow-ups")
DecisionPage = page_schema(DecisionOut, "DecisionPage")


class ScheduleQuery(StrictSchema):
    count = QueryInteger(load_default=6, validate=validate.Range(min=1, max=52))


class SeriesItem(Schema):
    target = fields.Date()
    earliest = fields.Date()
    latest = fields.Date()


class ScheduleOut(Schema):
    items = fields.List(fields.Nested(SeriesItem))


class FollowupQuery(PageQuery):
    clinic_id = text(40, required=True)
    state = fields.String(load_default=None, validate=validate.OneOf(proposals.STATES))
    on = day(load_default=None, metadata={"description": "Default: the clinic's today"})
    flag = fields.String(load_default=None, validate=validate.OneOf(proposals.STORED_FLAGS),
                         metadata={"description": "Only plans with this flag, e.g. "
                                                  "review_suggested (the review list)"})
    include_snoozed = fields.Boolean(load_default=False, truthy={"true"}, falsy={"false"},
                                     metadata={
        "description": "Also plans held off outreach: snoozed (rule 23 or a contact's "
                       "snooze_until) or flagged do_not_contact"})


class FollowupWindow(Schema):
    """The worklist's window: bounds and state only (reasons are on next-visit)."""

    kind = fields.String(allow_none=True)
    earliest = fields.Date()
    target = fields.Date()
    latest = fields.Date()
    state = fields.String()


class LastContactOut(Schema):
    """The plan's latest contact (its note is on GET /plans/{id}/contacts)."""

    at = fields.AwareDateTime()
    channel = fields.String()
    outcome = fields.String()
    actor = fields.String(allow_none=True)


class FollowupOut(Schema):
    plan_id = fields.String()
    patient_id = fields.String()
    patient_external_id = fields.String()
    phase = fields.String()
    status = fields.String()
    on = fields.Date()
    flags = fields.List(fields.String(), metadata={
        "description": "The plan's flags on `on`, authorization_low/_exhausted included"})
    snoozed_until = fields.Date(allow_none=True, metadata={
        "description": "The last day outreach waits (the later of rule 23's and a contact's "
                       "snooze still in force)"})
    window = fields.Nested(FollowupWindow)
    last_contact = fields.Nested(LastContactOut, allow_none=True)
    contact_attempts = fields.Integer(metadata={
        "description": "Contacts logged since the current window became due (its earliest "
                       "day, clinic-local)"})


FollowupPage = page_schema(FollowupOut, "FollowupPage")


@blp.route("/plans/<plan_id>/next-visit")
class NextVisit(MethodView):
    @requires(*READ_ROLES)
    @blp.response(200, WindowOut)
    def get(self, plan_id: str) -> Any:
        """The next visit proposed: kind, earliest / target / latest open day, state, why."""
        wiring = cadence()
        return proposals.next_visit(wiring.uow(read_only=True), plan_id, now=wiring.now(),
                                    scope=auth.scope())


@blp.route("/plans/<plan_id>/schedule")
class Schedule(MethodView):
    @requires(*READ_ROLES)
    @blp.arguments(ScheduleQuery, location="query")
    @blp.response(200, ScheduleOut)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The next `count` visits at the current frequency, each on an open day."""
        wiring = cadence()
        return {"items": proposals.schedule(wiring.uow(read_only=True), plan_id,
                                            count=query["count"],
                                            now=wiring.now(), scope=auth.scope())}


@blp.route("/plans/<plan_id>/decisions")
class Decisions(MethodView):
    @requires(*READ_ROLES)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, DecisionPage)
    def get(self, query: dict[str, Any], plan_id: str) -> Any:
        """The explanation trail, newest first."""
        return page_payload(proposals.decisions(cadence().uow(), plan_id, scope=auth.scope(),
                                                **query))


@blp.route("/followups")
class Followups(MethodView):
    @requires(*READ_ROLES)
    @blp.arguments(FollowupQuery, location="query")
    @blp.response(200, FollowupPage)
    def get(self, query: dict[str, Any]) -> Any:
        """The front desk's worklist for one clinic: overdue first, then by target date."""
        wiring = cadence()
        return page_payload(proposals.followups(wiring.uow(), now=wiring.now(),
                                                scope=auth.scope(), **query))
