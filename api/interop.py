"""Interoperability under /api/v1: a plan as a FHIR R4 Bundle and as an iCalendar file, and a
clinic's calendar feeds (revocable URLs for calendar apps, which cannot send a bearer key)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields

from api import auth, idempotency
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from scheduler.errors import NotFound
from scheduler.services import calendar_feeds as feeds
from scheduler.services import calendars, fhir
from scheduler.services.api_keys import Role

blp = Blueprint("interop", __name__, url_prefix="/api/v1",
                description="FHIR R4, iCalendar and calendar feeds")

FHIR_BUNDLE_DOC = {"type": "object", "description": "A FHIR R4 Bundle (type `collection`): "
                   "CarePlan, ServiceRequest, Appointment, Patient, Observations",
                   "required": ["resourceType", "type", "entry"],
                   "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                                  "type": {"type": "string", "enum": ["collection"]},
                                  "entry": {"type": "array", "items": {"type": "object"}}}}


def wants_fhir() -> bool:
    """The client asked for application/fhir+json by name (not merely */*)."""
    return any(mimetype == fhir.FHIR_JSON and quality > 0
               for mimetype, quality in request.accept_mimetypes)


@blp.route("/plans/<plan_id>/fhir")
class PlanFhir(MethodView):
    @requires(*READ_ROLES)
    @blp.doc(operationId="getPlanFhir", responses={
        "200": {"description": "The plan as a FHIR R4 Bundle",
                "content": {fhir.FHIR_JSON: {"schema": FHIR_BUNDLE_DOC}}},
        "404": {"description": "No such plan: a FHIR OperationOutcome when the client asks "
                "for application/fhir+json, else problem+json",
                "content": {fhir.FHIR_JSON: {"schema": {"type": "object"}},
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}}}}})
    def get(self, plan_id: str) -> Any:
        """The plan as a FHIR R4 Bundle (CarePlan with one activity per phase, the needling
        ServiceRequest, the proposed Appointment, the Patient's identifier, pain reports)."""
        wiring = cadence()
        try:
            bundle = fhir.plan_bundle(wiring.uow(read_only=True), plan_id, now=wiring.now(),
                                      scope=auth.scope())
        except NotFound:
            if not wants_fhir():
                raise
            return Response(json.dumps(fhir.operation_outcome(404, "No such plan.")),
                            status=404, mimetype=fhir.FHIR_JSON)
        return Response(json.dumps(bundle, separators=(",", ":")), mimetype=fhir.FHIR_JSON)


@blp.route("/plans/<plan_id>/calendar.ics")
class PlanCalendar(MethodView):
    @requires(*READ_ROLES)
    @blp.doc(operationId="getPlanCalendar", responses={
        "200": {"description": "RFC 5545 calendar: the next window and the series, one "
                "all-day transparent VEVENT each",
                "content": {calendars.TEXT_CALENDAR: {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, description="No such plan")
    def get(self, plan_id: str) -> Any:
        """The plan as iCalendar: the next window (earliest..latest) and the series (each visit
        on its target day), with stable UIDs and a SEQUENCE that rises as dates move."""
        wiring = cadence()
        body = calendars.plan_calendar(wiring.uow(read_only=True), plan_id, now=wiring.now(),
                                       scope=auth.scope())
        return Response(body, mimetype=calendars.TEXT_CALENDAR)


class FeedOut(Schema):
    id = fields.String(required=True)
    clinic_id = fields.String(required=True)
    url = fields.String(required=True, metadata={
        "description": "The feed's URL (holds its token): shown only in this response"})
    created_at = fields.AwareDateTime(required=True)


@blp.route("/clinics/<clinic_id>/calendar-feeds")
class CalendarFeeds(MethodView):
    @requires(Role.ADMIN, Role.BOOKING_SYSTEM)
    @blp.doc(operationId="createCalendarFeed")
    @blp.response(201, FeedOut, headers={"Cache-Control": {
        "description": "`no-store`: the URL is a credential", "schema": {"type": "string"}}})
    @blp.alt_response(404, description="No such clinic")
    def post(self, clinic_id: str) -> Any:
        """A revocable calendar-feed URL of the clinic's proposed follow-ups (next 8 weeks),
        for calendar apps that cannot send a bearer key. The URL is shown once; only a hash of
        its token is stored. A replay of its Idempotency-Key is a 409 naming the feed (the token
        is not kept), like a new API key's."""
        wiring = cadence()
        issued = feeds.create_feed(wiring.uow(), clinic_id, actor=auth.actor(),
                                   now=wiring.now(), scope=auth.scope())
        idempotency.carries_secret(issued.feed.id)  # the URL is a credential: never replayed
        body = {"id": issued.feed.id, "clinic_id": issued.feed.clinic_id,
                "url": request.host_url.rstrip("/") + issued.path,
                "created_at": issued.feed.created_at}
        return body, 201, {"Cache-Control": "no-store",
                           "Location": f"{blp.url_prefix}/calendar-feeds/{issued.feed.id}"}


@blp.route("/calendar-feeds/<feed_id>")
class CalendarFeedById(MethodView):
    @requires(Role.ADMIN, Role.BOOKING_SYSTEM)
    @blp.doc(operationId="revokeCalendarFeed")
    @blp.response(204)
    @blp.alt_response(404, description="No such feed (or already revoked)")
    def delete(self, feed_id: str) -> Any:
        """Revoke a calendar feed: its URL answers 404 from now on."""
        wiring = cadence()
        feeds.revoke_feed(wiring.uow(), feed_id, actor=auth.actor(), now=wiring.now(),
                          scope=auth.scope())
        return None
