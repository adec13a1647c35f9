"""What-if: replay a clinic's active plans under a candidate ruleset, changing nothing."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, missing

from api import auth
from api.auth import requires
from api.blueprint import Blueprint
from api.context import cadence
from api.plan_schemas import moment, text
from api.schemas import PageQuery, StrictSchema
from scheduler.services import what_if as service
from scheduler.services.api_keys import Role

blp = Blueprint("what_if", __name__, url_prefix="/api/v1/rulesets",
                description="What-if: a candidate ruleset replayed over a clinic's plans")


class Candidate(fields.Raw):
    """`name@version` of a stored ruleset, or a ruleset object (validated by the engine,
    which names the bad parameter)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and 1 <= len(value) <= 200 or isinstance(value, dict):
            return value
        raise ValidationError("Must be `name@version` or a ruleset object "
                              "{name, version, parameters}.")


class WhatIfIn(StrictSchema):
    clinic_id = text(40, required=True)
    candidate = Candidate(required=True, metadata={
        "description": "`name@version`, or {name, version, description?, parameters} as for "
                       "POST /rulesets",
        # what the engine takes, so a generated client (and schemathesis) sends only that
        "oneOf": [{"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}@[1-9][0-9]{0,8}$"},
                  {"$ref": "#/components/schemas/RulesetIn"}]})
    as_of = moment(load_default=None, metadata={
        "description": "Judge as of this instant (default now): events after it are left out"})


class WhatIfQuery(PageQuery):
    """`limit` and `cursor` page the items (a cursor also carries the first page's as_of)."""


class Side(Schema):
    phase = fields.String()
    status = fields.String()
    frequency = fields.Dict(keys=fields.String())
    window = fields.Dict(keys=fields.String())


class Difference(Schema):
    position = fields.Integer()
    event_kind = fields.String()
    at = fields.String()
    rules = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class Item(Schema):
    plan_id = fields.String()
    ruleset = fields.Dict(keys=fields.String(), values=fields.String())
    before = fields.Nested(Side)
    after = fields.Nested(Side)
    first_difference = fields.Nested(Difference, allow_none=True)


class WhatIfOut(Schema):
    """The answer (status `done`), or a job (`id`, status `queued`/`running`/`failed`)."""

    id = fields.String(metadata={"description": "The job (for a clinic over WHAT_IF_SYNC_MAX)"})
    status = fields.String(metadata={"description": "queued | running | done | failed"})
    error = fields.String()
    clinic_id = fields.String()
    candidate = fields.String(metadata={"description": "The candidate's name@version"})
    as_of = fields.String()
    plans = fields.Integer(metadata={"description": "Active plans replayed"})
    changed = fields.Integer(metadata={
        "description": "Plans whose phase, status, frequency or next window would differ"})
    errors = fields.Integer(metadata={"description": "Histories that could not be replayed"})
    visits_per_week = fields.Dict(keys=fields.String(), values=fields.Float())
    by_rule = fields.Dict(keys=fields.String(), values=fields.Dict(
        keys=fields.String(), values=fields.Integer()))
    items = fields.List(fields.Nested(Item))
    next_cursor = fields.String(allow_none=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        # a job's answer has no "items" key, and a dict's `items` attribute is its method
        return obj.get(attr, missing) if isinstance(obj, dict) else default


@blp.route("/what-if")
class WhatIf(MethodView):
    @requires(Role.ADMIN, Role.PHYSIOTHERAPIST)
    @blp.arguments(WhatIfIn)
    @blp.arguments(WhatIfQuery, location="query")
    @blp.response(200, WhatIfOut)
    @blp.alt_response(202, schema=WhatIfOut, description="A job: poll GET /rulesets/what-if/{id}")
    def post(self, data: dict[str, Any], query: dict[str, Any]) -> Any:
        """Replay the clinic's active plans under the candidate, changing nothing."""
        wiring = cadence()
        answer = service.what_if(wiring.uow(), **data, **query, now=wiring.now(),
                                 scope=auth.scope(),
                                 sync_max=wiring.settings.what_if_sync_max)
        if answer["status"] != "done":
            return answer, 202, {"Location": f"{blp.url_prefix}/what-if/{answer['id']}"}
        return answer


@blp.route("/what-if/<job_id>")
class WhatIfJob(MethodView):
    @requires(Role.ADMIN, Role.PHYSIOTHERAPIST)
    @blp.arguments(WhatIfQuery, location="query")
    @blp.response(200, WhatIfOut)
    def get(self, query: dict[str, Any], job_id: str) -> Any:
        """A what-if job: its status and, once done, the answer."""
        return service.get_job(cadence().uow(read_only=True), job_id, scope=auth.scope(),
                               **query)
