"""API keys (admin): issue a key (shown once), list keys, revoke a key at once."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth, idempotency
from api.auth import requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import moment
from api.schemas import PageQuery, StrictSchema, page_payload, page_schema
from scheduler.services import api_keys as service
from scheduler.services.api_keys import Role

blp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys", description="API keys")


class ApiKeyIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    clinic_ids = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                             load_default=list, validate=validate.Length(max=500))
    expires_at = moment(load_default=None, allow_none=True, metadata={
        "description": "Optional: from this time on the key is refused (401)"})


class ApiKeyOut(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    prefix = fields.String(metadata={"description": "Public part of the key, for recognition"})
    clinic_ids = fields.List(fields.String(), metadata={"description": "Empty for admin keys"})
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Last authenticated request, to the minute (updated once a minute)"})


class IssuedKeyOut(ApiKeyOut):
    key = fields.String(metadata={"description": "The secret key; shown only in this response"})


ApiKeyPage = page_schema(ApiKeyOut, "ApiKeyPage")


def _issued(issued: service.IssuedKey) -> dict[str, Any]:
    return {**asdict(issued.api_key), "key": issued.secret}


@blp.route("")
class ApiKeys(MethodView):
    @requires(Role.ADMIN)
    @blp.arguments(ApiKeyIn)
    @blp.response(201, IssuedKeyOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Issue an API key (admin); the key is in this response only."""
        wiring = cadence()
        issued = service.create_api_key(wiring.uow(), **data, actor=auth.actor(),
                                        now=wiring.now())
        idempotency.carries_secret(issued.api_key.id)
        return _issued(issued), 201, {"Location": f"{blp.url_prefix}/{issued.api_key.id}",
                                      "Cache-Control": "no-store"}

    @requires(Role.ADMIN)
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ApiKeyPage)
    def get(self, query: dict[str, Any]) -> Any:
        """List API keys, revoked ones included (admin)."""
        return page_payload(service.list_api_keys(cadence().uow(), **query))


@blp.route("/<key_id>")
class ApiKeyById(MethodView):
    @requires(Role.ADMIN)
    @blp.response(204)
    def delete(self, key_id: str) -> Any:
        """Revoke a key at once (admin); revoking twice is harmless."""
        wiring = cadence()
        service.revoke_api_key(wiring.uow(), key_id, actor=auth.actor(), now=wiring.now())
        return None
