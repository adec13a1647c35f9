"""Marshmallow schemas shared by every blueprint: problems, pages, list queries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

NUL_MESSAGE = "Must not contain the NUL character (U+0000)."


def nul_errors(value: Any) -> Any:
    """Marshmallow-shaped errors for every string in `value` holding a NUL, else None.

    PostgreSQL cannot store U+0000 in text (nor SQLite compare it sensibly), so input with
    one is a 422 naming the field, never a database error.
    """
    if isinstance(value, str):
        return [NUL_MESSAGE] if "\x00" in value else None
    if isinstance(value, Mapping):
        found = {}
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                found[key.replace("\x00", "\\u0000")] = [NUL_MESSAGE]
            elif (errors := nul_errors(item)) is not None:
                found[key] = errors
        return found or None
    if isinstance(value, list | tuple):
        found_items = {i: e for i, item in enumerate(value) if (e := nul_errors(item)) is not None}
        return found_items or None
    return None


class InputSchema(Schema):
    """Every schema that loads client input: strings with a NUL are rejected (422)."""

    @pre_load
    def _reject_nul(self, data: Any, **_kwargs: Any) -> Any:
        errors = nul_errors(data)
        if errors is not None:
            raise ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


class StrictSchema(InputSchema):
    """Unknown fields are rejected (422), never silently dropped."""

    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """RFC 9457 problem details (application/problem+json)."""

    type = fields.String(metadata={"description": "URI naming the kind of problem"})
    title = fields.String(metadata={"description": "Short summary of the HTTP status"})
    status = fields.Integer()
    detail = fields.String(metadata={"description": "What went wrong, for a human"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Validation failures: field -> messages"},
    )


class PageQuery(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=500))


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema for `item`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def page_payload(page: Any) -> dict[str, Any]:
    """Dumpable form of a scheduler Page."""
    return {"items": list(page.items), "next_cursor": page.next_cursor}
