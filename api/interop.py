"""Interoperability under /api/v1: a plan as a FHIR R4 Bundle and as an iCalendar file, and a
clinic's calendar feeds (revocable URLs for calendar apps, which cannot send a bearer key)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask.views import MethodView

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from scheduler.errors import NotFound
from scheduler.services import fhir

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
