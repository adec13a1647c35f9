"""Clinics: admins create and edit them; every key reads the clinics it is scoped to."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth, etag
from api.auth import ANY_ROLE, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.schemas import (
    FullDate,
    PageQuery,
    StrictInteger,
    StrictSchema,
    page_payload,
    page_schema,
)
from scheduler.services import clinics as service
from scheduler.services.api_keys import Role

blp = Blueprint("clinics", __name__, url_prefix="/api/v1/clinics", description="Clinics")

class ClinicIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    timezone = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"example": "America/Vancouver"})
    open_weekdays = fields.List(
        StrictInteger(validate=validate.Range(min=0, max=6)),
        required=True,
        validate=validate.Length(min=1, max=7),
        metadata={"description": "Open weekdays, Mon=0 .. Sun=6"},
    )
    holiday_region = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(min=2, max=16),
                                   metadata={"example": "CA-BC"})
    closures = fields.List(FullDate(), load_default=list, validate=validate.Length(max=1000))
    ruleset = fields.String(load_default=service.DEFAULT_RULESET,
                            validate=validate.Length(min=3, max=100))


class ClinicPatch(ClinicIn):
    """Any subset of ClinicIn's fields (used with partial=True)."""


class ClinicOut(Schema):
    id = fields.String()
    name = fields.String()
    timezone = fields.String()
    open_weekdays = fields.List(fields.Integer())
    holiday_region = fields.String(allow_none=True)
    closures = fields.List(fields.Date())
    ruleset = fields.String()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


ClinicPage = page_schema(ClinicOut, "ClinicPage")


@blp.route("")
class Clinics(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(ClinicIn)
    @blp.response(201, ClinicOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a clinic (admin)."""
        wiring = cadence()
        view = service.create_clinic(wiring.uow(), **data, actor=auth.actor(), now=wiring.now())
        return view, 201, {"ETag": etag.etag(view.version),
                           "Location": f"{blp.url_prefix}/{view.id}"}

    @requires(*ANY_ROLE)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ClinicPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List the clinics this key may see."""
        page = service.list_clinics(cadence().uow(), scope=auth.scope(), **query)
        return page_payload(page)


@blp.route("/<clinic_id>")
class ClinicById(MethodView):
    @requires(*ANY_ROLE)
    @blp.response(200, ClinicOut, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    def get(self, clinic_id: str) -> Any:
        """Read a clinic; honours If-None-Match."""
        view = service.get_clinic(cadence().uow(), clinic_id, scope=auth.scope())
        return etag.not_modified(view.version) or (view, 200, {"ETag": etag.etag(view.version)})

    @requires(Role.ADMIN)
    @blp.arguments(ClinicPatch(partial=True))
    @blp.response(200, ClinicOut)
    @blp.alt_response(412, description="If-Match is stale")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data: dict[str, Any], clinic_id: str) -> Any:
        """Change a clinic (admin); needs If-Match."""
        wiring = cadence()
        expected = etag.expected_version()
        view = service.update_clinic(wiring.uow(), clinic_id, expected_version=expected,
                                     changes=data, actor=auth.actor(), now=wiring.now(),
                                     scope=auth.scope())
        return view, 200, {"ETag": etag.etag(view.version)}
