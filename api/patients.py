"""Patients: the booking system registers them; every clinic role reads them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth
from api.auth import READ_ROLES, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.schemas import PageQuery, StrictSchema, page_payload, page_schema
from scheduler.services import patients as service
from scheduler.services.api_keys import Role

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients")


class PatientIn(StrictSchema):
    clinic_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "The booking system's own id"})
    display_name = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=200))


class PatientQuery(PageQuery):
    clinic_id = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    external_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class PatientOut(Schema):
    id = fields.String()
    clinic_id = fields.String()
    external_id = fields.String()
    display_name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


PatientPage = page_schema(PatientOut, "PatientPage")


@blp.route("")
class Patients(MethodView):
    @requires(Role.BOOKING_SYSTEM)
    @blp.arguments(PatientIn)
    @blp.response(201, PatientOut)
    @blp.alt_response(409, description="external_id already registered in this clinic")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a patient (booking system)."""
        wiring = cadence()
        view = service.create_patient(wiring.uow(), **data, actor=auth.actor(),
                                      now=wiring.now(), scope=auth.scope())
        return view, 201, {"Location": f"{blp.url_prefix}/{view.id}"}

    @requires(*READ_ROLES)
    @blp.arguments(PatientQuery, location="query")
    @blp.response(200, PatientPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Find patients of this key's clinics, by clinic and/or external id."""
        return page_payload(service.list_patients(cadence().uow(), scope=auth.scope(), **query))


@blp.route("/<patient_id>")
class PatientById(MethodView):
    @requires(*READ_ROLES)
    @blp.response(200, PatientOut)
    def get(self, patient_id: str) -> Any:
        """Read a patient."""
        return service.get_patient(cadence().uow(), patient_id, scope=auth.scope())
