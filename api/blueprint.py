"""The Blueprint every /api/v1 resource uses: schemas decide `unknown` (RAISE) everywhere."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema
from webargs import core
from webargs.flaskparser import FlaskParser

from api import body


class _Parser(FlaskParser):
    """webargs' Flask parser reading the body api.body parsed and bounded (webargs' own
    json.loads has no bound on nesting nor on digits)."""

    def _raw_load_json(self, req: Any) -> Any:
        return body.parsed_json(req, core.missing)


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint whose query strings, like bodies, reject unknown fields."""

    # unknown=None: use each schema's Meta.unknown (RAISE via StrictSchema) instead of
    # webargs' default of silently dropping unknown query parameters.
    ARGUMENTS_PARSER = _Parser(unknown=None)

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, but a schema class is instantiated once, here: webargs would
        build a new instance (all its fields) on every request."""
        if isinstance(schema, type) and issubclass(schema, Schema):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
