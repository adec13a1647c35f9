"""Marshmallow schemas of plans, actions, reports, visits, windows and decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_dump,
    validate,
    validates_schema,
)

from api.schemas import FullDate, QueryInteger, Rfc3339DateTime, StrictInteger, StrictSchema
from scheduler.services.plans import (
    CANCELLATION_REASONS,
    PHASES,
    STATUSES,
    VISIT_KINDS,
    VISIT_STATUSES,
)


class StrictBoolean(fields.Boolean):
    """JSON true/false only: 1 and 0 are not booleans (1 == True, so truthy={True} lets 1 in)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def moment(**kw: Any) -> fields.AwareDateTime:
    """An RFC 3339 timestamp with an offset, between 1970 and 2100 (naive: 422)."""
    return Rfc3339DateTime(validate=validate.Range(min=EARLIEST, max=LATEST), **kw)


def day(**kw: Any) -> fields.Date:
    """A clinic-local date between 1900 and 2100."""
    return FullDate(validate=validate.Range(min=date(1900, 1, 1), max=date(2100, 1, 1)), **kw)


def score(low: int, high: int, **kw: Any) -> fields.Integer:
    return StrictInteger(validate=validate.Range(min=low, max=high), **kw)


def text(max_len: int, **kw: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_len), **kw)


class FrequencySchema(StrictSchema):
    """FHIR Timing style: `frequency` visits per `period` `period_unit`."""

    frequency = score(1, 52, required=True)
    period = score(1, 52, required=True)
    period_unit = fields.String(load_default="wk", validate=validate.OneOf(["d", "wk"]))


class BaselineIn(StrictSchema):
    pain = score(0, 10, required=True, metadata={"description": "NPRS 0-10"})
    function = score(0, 10, load_default=None, allow_none=True,
                     metadata={"description": "PSFS 0-10"})


class ConsentIn(StrictSchema):
    recorded_at = moment(required=True)
    recorded_by = text(200, required=True)


class AuthorizationIn(StrictSchema):
    """A payer's cap (rules.md rule 21): visits allowed, optionally until a date."""

    payer = text(200, load_default=None, allow_none=True)
    visits_allowed = score(1, 200, required=True)
    valid_until = day(load_default=None, allow_none=True)
    count_no_shows = StrictBoolean(required=True, metadata={
        "description": "Whether no-shows use up authorized visits"})


class PlanIn(StrictSchema):
    patient_id = text(40, required=True)
    condition = text(200, required=True)
    onset_date = day(required=True)
    start_date = day(load_default=None, metadata={
        "description": "Clinic-local date; default: the clinic's today"})
    baseline = fields.Nested(BaselineIn, required=True)
    neuropathic_symptoms = StrictBoolean(required=True)
    consent = fields.Nested(ConsentIn, load_default=None)
    authorization = fields.Nested(AuthorizationIn, load_default=None)


class PlanQuery(StrictSchema):
    clinic_id = text(40, load_default=None)
    patient_id = text(40, load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    phase = fields.String(load_default=None, validate=validate.OneOf(PHASES))
    limit = QueryInteger(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = text(500, load_default=None)


ACTION_FIELDS = {
    "record_consent": ({"recorded_at", "recorded_by"}, {"reason"}),
    "override": ({"frequency", "until", "reason"}, set()),
    "clear_override": ({"reason"}, set()),
    "set_phase": ({"phase", "reason"}, set()),
    "hold": ({"reason"}, set()),
    "resume": ({"reason"}, set()),
    "discharge": ({"reason"}, set()),
    "set_authorization": ({"authorization", "reason"}, set()),
    "clear_authorization": ({"reason"}, set()),
    "clear_do_not_contact": ({"reason"}, set()),  # the contact log's flag (no decision)
}


class ActionIn(StrictSchema):
    """One physiotherapist action; which other fields are required depends on `action`."""

    action = fields.String(required=True, validate=validate.OneOf(list(ACTION_FIELDS)))
    reason = text(1000)
    recorded_at = moment()
    recorded_by = text(200)
    frequency = fields.Nested(FrequencySchema)
    until = day()
    phase = fields.String(validate=validate.OneOf(PHASES))
    authorization = fields.Nested(AuthorizationIn)

    @validates_schema
    def _fields_of_action(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("action") not in ACTION_FIELDS:
            return
        required, optional = ACTION_FIELDS[data["action"]]
        errors: dict[str, list[str]] = {}
        for name in sorted(required - set(data)):
            errors[name] = [f"Missing data for required field (action {data['action']})."]
        for name in sorted(set(data) - required - optional - {"action"}):
            errors[name] = [f"Not a field of action {data['action']}."]
        if errors:
            raise ValidationError(errors)


class ReportIn(StrictSchema):
    recorded_at = moment(required=True)
    pain = score(0, 10, required=True, metadata={"description": "NPRS 0-10"})
    function = score(0, 10, load_default=None, allow_none=True,
                     metadata={"description": "PSFS 0-10"})
    global_change = score(-7, 7, load_default=None, allow_none=True,
                          metadata={"description": "GROC -7..+7"})
    soreness_hours = score(0, 336, load_default=None, allow_none=True,
                           metadata={"description": "post-treatment soreness, hours"})
    adverse_event = StrictBoolean(load_default=False)
    adverse_event_note = text(2000, load_default=None, allow_none=True)
    notes = text(5000, load_default=None, allow_none=True)


class CancellationFields(StrictSchema):
    """Rules 22-23: a cancellation may say why, and that no new booking is wanted."""

    cancellation_reason = fields.String(load_default=None, validate=validate.OneOf(
        CANCELLATION_REASONS), metadata={"description": "Only with status cancelled"})
    needs_reschedule = StrictBoolean(load_default=None, metadata={
        "description": "Only with status cancelled; default true. false snoozes outreach "
                       "until the window's latest day"})

    @validates_schema
    def _only_on_cancellations(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("status") == "cancelled":
            return
        errors = {name: [f"Only a cancelled visit has a {name.replace('_', ' ')}."]
                  for name in ("cancellation_reason", "needs_reschedule")
                  if data.get(name) is not None}
        if errors:
            raise ValidationError(errors)


class VisitIn(CancellationFields):
    external_id = text(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(VISIT_KINDS))
    starts_at = moment(required=True)
    status = fields.String(required=True, validate=validate.OneOf(VISIT_STATUSES))


class VisitPatch(CancellationFields):
    status = fields.String(required=True, validate=validate.OneOf(VISIT_STATUSES))
    starts_at = moment(load_default=None)


class ExplanationOut(Schema):
    rule = fields.String(metadata={"description": "Stable rule id, e.g. initial.reduce"})
    text = fields.String()
    inputs = fields.Dict(keys=fields.String())


class WindowOut(Schema):
    kind = fields.String(allow_none=True, validate=validate.OneOf(VISIT_KINDS))
    earliest = fields.Date(allow_none=True)
    target = fields.Date(allow_none=True)
    latest = fields.Date(allow_none=True)
    state = fields.String(validate=validate.OneOf(
        ["upcoming", "due", "overdue", "lapsed", "booked", "none"]))
    extended = fields.Boolean()
    interval_days = fields.Float(allow_none=True)
    snoozed_until = fields.Date(allow_none=True, metadata={
        "description": "Outreach snoozed through this day (a cancellation with "
                       "needs_reschedule false)"})
    reasons = fields.List(fields.Nested(ExplanationOut))


class FrequencyOut(Schema):
    frequency = fields.Integer()
    period = fields.Integer()
    period_unit = fields.String()


class OverrideOut(Schema):
    frequency = fields.Nested(FrequencyOut)
    until = fields.Date()
    reason = fields.String()
    by = fields.String(allow_none=True)

    @pre_dump
    def _until_as_date(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # the service hands over rules.Override.to_dict(), whose `until` is already ISO text
        if isinstance(data.get("until"), str):
            return {**data, "until": date.fromisoformat(data["until"])}
        return data


class ReviewOut(Schema):
    required = fields.Boolean()
    reasons = fields.List(fields.String())


class AuthorizationOut(Schema):
    payer = fields.String(allow_none=True)
    visits_allowed = fields.Integer()
    valid_until = fields.Date(allow_none=True)
    count_no_shows = fields.Boolean()
    visits_used = fields.Integer()
    visits_left = fields.Integer()


class PlanOut(Schema):
    id = fields.String()
    patient_id = fields.String()
    clinic_id = fields.String()
    condition = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    phase = fields.String(validate=validate.OneOf(PHASES))
    phase_since = fields.Date()
    frequency = fields.Nested(FrequencyOut, metadata={"description": "In force"})
    interval_days = fields.Float()
    computed_frequency = fields.Nested(FrequencyOut)
    override = fields.Nested(OverrideOut, allow_none=True)
    review = fields.Nested(ReviewOut)
    flags = fields.List(fields.String())
    next_visit = fields.Nested(WindowOut)
    authorization = fields.Nested(AuthorizationOut, allow_none=True)
    ruleset = fields.String()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class DecisionOut(Schema):
    id = fields.String()
    event_id = fields.String()
    seq = fields.Integer(metadata={"description": "The event's place in the plan's history"})
    at = fields.String(metadata={"description": "RFC 3339 time of the event"})
    trigger = fields.String(validate=validate.OneOf(["report", "visit", "action", "schedule"]))
    event_kind = fields.String()
    ruleset = fields.String()
    phase_before = fields.String(allow_none=True)
    phase_after = fields.String()
    status_before = fields.String(allow_none=True)
    status_after = fields.String()
    frequency_before = fields.Nested(FrequencyOut, allow_none=True)
    frequency_after = fields.Nested(FrequencyOut)
    computed_frequency_after = fields.Nested(FrequencyOut)
    review_before = fields.List(fields.String())
    review_after = fields.List(fields.String())
    flags_before = fields.List(fields.String())
    flags_after = fields.List(fields.String())
    changed = fields.Boolean()
    explanations = fields.List(fields.Nested(ExplanationOut))


class ReportOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    recorded_at = fields.AwareDateTime()
    pain = fields.Integer()
    function = fields.Integer(allow_none=True)
    global_change = fields.Integer(allow_none=True)
    soreness_hours = fields.Integer(allow_none=True)
    adverse_event = fields.Boolean()
    adverse_event_note = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class ReportResultOut(Schema):
    report = fields.Nested(ReportOut)
    decision = fields.Nested(DecisionOut)
    plan = fields.Nested(PlanOut)


class VisitOut(Schema):
    id = fields.String()
    plan_id = fields.String()
    clinic_id = fields.String()
    external_id = fields.String()
    kind = fields.String()
    starts_at = fields.AwareDateTime()
    status = fields.String()
    cancellation_reason = fields.String(allow_none=True)
    needs_reschedule = fields.Boolean(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ActionResultOut(PlanOut):
    decision = fields.Nested(DecisionOut, allow_none=True, metadata={
        "description": "The action's decision; null for clear_do_not_contact, which the "
                       "engine does not judge (the contact log's flag is not in its history)"})
