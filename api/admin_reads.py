"""Rulesets (admin writes, everyone reads) and the audit trail (admin, physiotherapist)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from api import auth
from api.auth import ANY_ROLE, requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import text
from api.schemas import PageQuery, StrictInteger, StrictSchema, page_payload, page_schema
from scheduler.services import audit, rulesets
from scheduler.services.api_keys import Role

MAX_RULESET_VERSION = 999_999_999
blp = Blueprint("rulesets_audit", __name__, url_prefix="/api/v1",
                description="Rulesets and the audit trail")


class RulesetOut(Schema):
    id = fields.String(metadata={"description": "name@version"})
    name = fields.String()
    version = fields.Integer()
    description = fields.String()
    builtin = fields.Boolean()
    parameters = fields.Dict(keys=fields.String())


def _parameter(kind: str, low: float, high: float, meaning: str) -> fields.Field:
    """One ruleset parameter's field, typed and bounded as the engine checks it."""
    bounds = validate.Range(min=low, max=high)
    if kind == "int":
        return StrictInteger(validate=bounds, metadata={"description": meaning})
    if kind == "weeks":
        return fields.List(StrictInteger(validate=bounds), validate=validate.Length(min=1, max=52),
                           metadata={"description": meaning})
    return fields.Float(validate=bounds, allow_nan=False, metadata={"description": meaning})


RulesetParameters = StrictSchema.from_dict(
    {name: _parameter(*spec) for name, spec in rulesets.PARAMETER_SPEC.items()},
    name="RulesetParameters")


class RulesetIn(StrictSchema):
    """A ruleset version: every parameter of rules.md (see GET /rulesets/ims-default@1).
    `parameters` is validated by the rules engine, which names the bad parameter."""

    # Bounded here too: a version must fit the database's integer and a `name@version` id
    # (at most 9 digits); the engine checks the rest (and that both are present).
    name = fields.String(validate=validate.Length(min=1, max=64))
    version = StrictInteger(validate=validate.Range(min=1, max=MAX_RULESET_VERSION))
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.Nested(RulesetParameters, metadata={
        "description": "Every parameter of rules.md; the later ones (authorization_warn_*, "
                       "checkin_after_hours) default when left out"})


class RulesetList(Schema):
    items = fields.List(fields.Nested(RulesetOut))


class AuditQuery(PageQuery):
    clinic_id = text(40, load_default=None)
    plan_id = text(40, load_default=None)


class AuditOut(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    clinic_id = fields.String(allow_none=True)
    plan_id = fields.String(allow_none=True)
    actor = fields.Dict(keys=fields.String())
    action = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True, metadata={
        "description": "X-Request-Id of the request that wrote the entry (null: scheduler)"})


AuditPage = page_schema(AuditOut, "AuditPage")


@blp.route("/rulesets")
class Rulesets(MethodView):
    @requires(*ANY_ROLE)
    @blp.response(200, RulesetList)
    def get(self) -> Any:
        """Every ruleset version: the built-in ims-default@1 and those added by admins."""
        return {"items": rulesets.list_rulesets(cadence().uow())}

    @requires(Role.ADMIN)
    @blp.arguments(RulesetIn)
    @blp.response(201, RulesetOut)
    @blp.alt_response(409, description="That version exists (versions are immutable)")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a ruleset version; 422 names the offending parameter."""
        wiring = cadence()
        view = rulesets.add_ruleset(wiring.uow(), data, actor=auth.actor(), now=wiring.now())
        return view, 201, {"Location": f"/api/v1/rulesets/{view['id']}"}


@blp.route("/rulesets/<ruleset_id>")
class RulesetById(MethodView):
    @requires(*ANY_ROLE)
    @blp.response(200, RulesetOut)
    def get(self, ruleset_id: str) -> Any:
        """One ruleset version, `name@version`."""
        return rulesets.get_ruleset(cadence().uow(), ruleset_id)


@blp.route("/audit")
class Audit(MethodView):
    @requires(Role.ADMIN, Role.PHYSIOTHERAPIST)
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditPage)
    def get(self, query: dict[str, Any]) -> Any:
        """Who did what, when, with the plan before and after; newest first."""
        return page_payload(audit.list_entries(cadence().uow(), scope=auth.scope(), **query))
