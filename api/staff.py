"""Staff accounts of the web app (admin): create, list, read and change them.

A password may be given at creation (write-only, never returned); otherwise the account
cannot sign in until `flask --app wsgi staff set-password` sets one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth
from api.auth import requires
from api.blueprint import Blueprint
from api.context import cadence
from api.schemas import PageQuery, StrictSchema, page_payload, page_schema
from scheduler.services import staff as service
from scheduler.services.api_keys import Role
from scheduler.services.staff import MAX_PASSWORD, MIN_PASSWORD, StaffRole

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff",
                description="Staff accounts of the web app")

ROLES = [r.value for r in StaffRole]
CLINIC_IDS = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                         validate=validate.Length(max=500),
                         metadata={"description": "Clinics the user works in (admins: any)"})


class StaffIn(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254),
                          metadata={"description": "Unique, compared case-insensitively"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    clinic_ids = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                             load_default=list, validate=validate.Length(max=500),
                             metadata={"description": "Required for front_desk and "
                                                      "physiotherapist"})
    password = fields.String(load_default=None, load_only=True,
                             validate=validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD),
                             metadata={"description": "Optional, write-only (hashed with "
                                                      "argon2id; never returned)"})


class StaffPatch(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    clinic_ids = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                             validate=validate.Length(max=500))
    disabled = fields.Boolean(metadata={
        "description": "true: no sign-in, and the user's sessions end at once"})


class StaffOut(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    clinic_ids = fields.List(fields.String())
    disabled = fields.Boolean()


StaffPage = page_schema(StaffOut, "StaffPage")


@blp.route("")
class StaffUsers(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(StaffIn)
    @blp.response(201, StaffOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a staff user (admin)."""
        wiring = cadence()
        user = service.create_staff(wiring.uow(), **data, actor=auth.actor(), now=wiring.now())
        return asdict(user), 201, {"Location": f"{blp.url_prefix}/{user.id}"}

    @requires(Role.ADMIN)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, StaffPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List staff users, disabled ones included, oldest first (admin)."""
        return page_payload(service.list_staff(cadence().uow(read_only=True), **query))


@blp.route("/<staff_id>")
class StaffUserById(MethodView):
    @requires(Role.ADMIN)
    @blp.response(200, StaffOut)
    def get(self, staff_id: str) -> Any:
        """One staff user (admin)."""
        return asdict(service.get_staff(cadence().uow(read_only=True), staff_id))

    @requires(Role.ADMIN)
    @blp.arguments(StaffPatch)
    @blp.response(200, StaffOut)
    def patch(self, data: dict[str, Any], staff_id: str) -> Any:
        """Change a staff user's name, role, clinics or disabled (admin); a change of role or
        clinics, or disabling, ends the user's sessions."""
        wiring = cadence()
        user = service.update_staff(wiring.uow(), staff_id, **data, actor=auth.actor(),
                                    now=wiring.now())
        return asdict(user)
