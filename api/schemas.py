"""Marshmallow schemas shared by every blueprint: problems, pages, list queries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

NUL_MESSAGE = "Must not contain the NUL character (U+0000)."
SURROGATE_MESSAGE = "Must be valid Unicode text (no unpaired surrogate such as \\ud800)."


def _text_error(value: str) -> str | None:
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def unstorable_text(value: Any) -> Any:
    """Marshmallow-shaped errors for every string in `value` that no database can store, else
    None: PostgreSQL refuses U+0000 in text, and a lone surrogate (JSON allows `"\\ud800"`)
    cannot be encoded at all. Either is a 422 naming the field, never a database error.
    """
    if isinstance(value, str):
        error = _text_error(value)
        return [error] if error else None
    if isinstance(value, Mapping):
        found = {}
        for key, item in value.items():
            if isinstance(key, str) and (error := _text_error(key)):
                found[key.encode("utf-8", "backslashreplace").decode()] = [error]
            elif (errors := unstorable_text(item)) is not None:
                found[key] = errors
        return found or None
    if isinstance(value, list | tuple):
        items = {i: e for i, item in enumerate(value) if (e := unstorable_text(item)) is not None}
        return items or None
    return None


class InputSchema(Schema):
    """Every schema that loads client input: strings with a NUL or a lone surrogate are
    rejected (422)."""

    @pre_load
    def _reject_unstorable_text(self, data: Any, **_kwargs: Any) -> Any:
        errors = unstorable_text(data)
        if errors is not None:
            raise ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


class StrictSchema(InputSchema):
    """Unknown fields are rejected (422), never silently dropped."""

    class Meta:
        unknown = RAISE


# RFC 3339 section 5.6 date-time: "T" between date and time, seconds, an optional fraction,
# "Z" or a +hh:mm / -hh:mm offset. datetime.fromisoformat alone also takes ISO 8601 forms
# RFC 3339 does not (20261202T050000Z, week dates, a space, +00:00:01 offsets).
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,32})?(?:[Zz]|[+-]\d{2}:\d{2})")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ASCII_DIGITS = re.compile(r"[0-9]{1,9}")


class Rfc3339DateTime(fields.AwareDateTime):
    """An RFC 3339 date-time with an offset; anything else is 422."""

    default_error_messages = {
        "rfc3339": "Not an RFC 3339 date-time with an offset (e.g. 2026-12-02T05:00:00Z)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not RFC3339.fullmatch(value):
            raise self.make_error("rfc3339")
        # fromisoformat (Python 3.11) wants an upper-case T and takes "Z" only upper-case.
        return super()._deserialize(value.upper(), attr, data, **kwargs)


class FullDate(fields.Date):
    """An RFC 3339 full-date, YYYY-MM-DD (not 20261202 nor a week date)."""

    default_error_messages = {"full_date": "Not a date of the form YYYY-MM-DD."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not FULL_DATE.fullmatch(value):
            raise self.make_error("full_date")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictInteger(fields.Integer):
    """A JSON integer: not a string nor a float (marshmallow refuses booleans already)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


class QueryInteger(fields.Integer):
    """A query-string integer: ASCII digits only (int() would also take "+5", "5_0", "٥")."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not ASCII_DIGITS.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


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
    created_id = fields.String(metadata={
        "description": "Replay of a request whose response carried a secret: the id it "
        "created (revoke it and create another if the secret was lost)"})
    instance = fields.String(metadata={
        "description": "urn:request:<X-Request-Id>: the request, as named in the logs"})


class PageQuery(StrictSchema):
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
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
