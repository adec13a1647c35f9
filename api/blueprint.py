"""The Blueprint every /api/v1 resource uses: schemas decide `unknown` (RAISE) everywhere."""

from __future__ import annotations

from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint whose query strings, like bodies, reject unknown fields."""

    # unknown=None: use each schema's Meta.unknown (RAISE via StrictSchema) instead of
    # webargs' default of silently dropping unknown query parameters.
    ARGUMENTS_PARSER = FlaskParser(unknown=None)
