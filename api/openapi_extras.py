"""What the generated OpenAPI lacks for a client generator, added to the finished document:
operation ids, conditional-request headers, response headers, required output fields,
enums on closed sets, plan actions as a discriminated oneOf, webhooks and request examples.

One pass over the whole document (flask-smorest builds it per view), so an endpoint added
later gets the same treatment: an operation without an entry in OPERATION_IDS still gets an
id derived from its method and path, a request body without an entry in EXAMPLES an example
built from its schema.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from api import openapi_webhooks
from api.plan_schemas import ACTION_FIELDS
from scheduler.services import checkins, contacts, plans, proposals, rulesets
from scheduler.services.api_keys import Role
from scheduler.services.staff import StaffRole
from scheduler.services.webhooks import DELIVERY_STATUSES, EVENT_TYPES

METHODS = ("get", "post", "put", "patch", "delete")
REF = "#/components/schemas/"

OPERATION_IDS = {
    ("get", "/api/v1/clinics"): "listClinics",
    ("post", "/api/v1/clinics"): "createClinic",
    ("get", "/api/v1/clinics/{clinic_id}"): "getClinic",
    ("patch", "/api/v1/clinics/{clinic_id}"): "updateClinic",
    ("get", "/api/v1/api-keys"): "listApiKeys",
    ("post", "/api/v1/api-keys"): "createApiKey",
    ("delete", "/api/v1/api-keys/{key_id}"): "revokeApiKey",
    ("get", "/api/v1/patients"): "listPatients",
    ("post", "/api/v1/patients"): "createPatient",
    ("get", "/api/v1/patients/{patient_id}"): "getPatient",
    ("get", "/api/v1/plans"): "listPlans",
    ("post", "/api/v1/plans"): "createPlan",
    ("get", "/api/v1/plans/{plan_id}"): "getPlan",
    ("post", "/api/v1/plans/{plan_id}/actions"): "performPlanAction",
    ("get", "/api/v1/plans/{plan_id}/reports"): "listReports",
    ("post", "/api/v1/plans/{plan_id}/reports"): "createReport",
    ("get", "/api/v1/plans/{plan_id}/visits"): "listVisits",
    ("post", "/api/v1/plans/{plan_id}/visits"): "createVisit",
    ("patch", "/api/v1/visits/{visit_id}"): "updateVisit",
    ("get", "/api/v1/plans/{plan_id}/next-visit"): "getNextVisit",
    ("get", "/api/v1/plans/{plan_id}/schedule"): "getSchedule",
    ("get", "/api/v1/plans/{plan_id}/decisions"): "listDecisions",
    ("get", "/api/v1/followups"): "listFollowups",
    ("post", "/api/v1/plans/{plan_id}/contacts"): "logContact",
    ("get", "/api/v1/plans/{plan_id}/contacts"): "listContacts",
    ("get", "/api/v1/rulesets"): "listRulesets",
    ("post", "/api/v1/rulesets"): "createRuleset",
    ("get", "/api/v1/rulesets/{ruleset_id}"): "getRuleset",
    ("get", "/api/v1/audit"): "listAuditEntries",
    ("get", "/api/v1/webhooks"): "listWebhooks",
    ("post", "/api/v1/webhooks"): "createWebhook",
    ("delete", "/api/v1/webhooks/{webhook_id}"): "deleteWebhook",
    ("patch", "/api/v1/webhooks/{webhook_id}"): "updateWebhook",
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"): "rotateWebhookSecret",
    ("post", "/api/v1/webhooks/{webhook_id}/replay"): "replayWebhookDeliveries",
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): "listWebhookDeliveries",
    ("get", "/api/v1/staff"): "listStaffUsers",
    ("post", "/api/v1/staff"): "createStaffUser",
    ("get", "/api/v1/staff/{staff_id}"): "getStaffUser",
    ("patch", "/api/v1/staff/{staff_id}"): "updateStaffUser",
}

_NULLABLE_KIND = (*plans.VISIT_KINDS, None)
ENUMS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("FrequencyOut", "period_unit"): plans.PERIOD_UNITS,
    ("PlanOut", "flags[]"): plans.FLAGS,
    ("ReviewOut", "reasons[]"): plans.REVIEW_REASONS,
    ("DecisionOut", "event_kind"): plans.EVENT_KINDS,
    ("DecisionOut", "phase_before"): (*plans.PHASES, None),
    ("DecisionOut", "phase_after"): plans.PHASES,
    ("DecisionOut", "status_before"): (*plans.STATUSES, None),
    ("DecisionOut", "status_after"): plans.STATUSES,
    ("DecisionOut", "review_before[]"): plans.REVIEW_REASONS,
    ("DecisionOut", "review_after[]"): plans.REVIEW_REASONS,
    ("DecisionOut", "flags_before[]"): plans.FLAGS,
    ("DecisionOut", "flags_after[]"): plans.FLAGS,
    ("VisitOut", "kind"): plans.VISIT_KINDS,
    ("VisitOut", "status"): plans.VISIT_STATUSES,
    ("FollowupOut", "phase"): plans.PHASES,
    ("FollowupOut", "status"): plans.STATUSES,
    ("FollowupWindow", "kind"): _NULLABLE_KIND,
    ("FollowupWindow", "state"): proposals.STATES,
    ("FollowupOut", "flags[]"): plans.FLAGS,
    ("LastContactOut", "channel"): contacts.CHANNELS,
    ("LastContactOut", "outcome"): contacts.OUTCOMES,
    ("ContactOut", "channel"): contacts.CHANNELS,
    ("ContactOut", "outcome"): contacts.OUTCOMES,
    ("ApiKeyOut", "role"): tuple(str(r) for r in Role),
    ("IssuedKeyOut", "role"): tuple(str(r) for r in Role),
    ("StaffOut", "role"): tuple(str(r) for r in StaffRole),
    ("WebhookOut", "events[]"): EVENT_TYPES,
    ("CreatedWebhookOut", "events[]"): EVENT_TYPES,
    ("DeliveryOut", "status"): DELIVERY_STATUSES,
    ("DeliveryOut", "event_type"): EVENT_TYPES,
    ("CheckinOut", "state"): checkins.STATES,
}

# Output fields a response may leave out (everything else an output schema names is
# always present, so generated clients need not treat it as optional).
# Output schemas whose properties are not all always present. A what-if answer is one of: the
# synchronous answer (no `id`, no `error`), a queued job (`id`, `status`: the 202), a job polled
# (`id`, `status`, `clinic_id`, `candidate`, `as_of`, and `error` once failed) or a done job
# (all but `error`). Only `status` is in every one.
OPTIONAL_OUTPUTS: dict[str, set[str]] = {
    "WhatIfOut": {"id", "error", "clinic_id", "candidate", "as_of", "plans", "changed", "errors",
                  "visits_per_week", "by_rule", "items", "next_cursor"},
}

_PLAN = "pln_3f9a0c1d2e4b5a6c7d8e"
EXAMPLES: dict[str, Any] = {
    "createClinic": {"name": "Kits Physio", "timezone": "America/Vancouver",
                     "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC",
                     "closures": ["2026-12-24"], "ruleset": "ims-default@1"},
    "updateClinic": {"closures": ["2026-12-24", "2026-12-31"]},
    "createApiKey": {"name": "booking", "role": "booking_system",
                     "clinic_ids": ["cln_0a1b2c3d4e5f6a7b8c9d"]},
    "createStaffUser": {"email": "front.desk@kitsphysio.example", "name": "Robin Front",
                        "role": "front_desk", "clinic_ids": ["cln_0a1b2c3d4e5f6a7b8c9d"]},
    "updateStaffUser": {"disabled": True},
    "createPatient": {"clinic_id": "cln_0a1b2c3d4e5f6a7b8c9d", "external_id": "MRN-1001"},
    "createPlan": {"patient_id": "pat_1b2c3d4e5f6a7b8c9d0e",
                   "condition": "chronic low back pain", "onset_date": "2026-06-01",
                   "baseline": {"pain": 7, "function": 4}, "neuropathic_symptoms": False,
                   "consent": {"recorded_at": "2026-11-20T10:00:00-08:00",
                               "recorded_by": "physio:12"}},
    "performPlanAction": {"action": "override", "frequency": {"frequency": 1, "period": 1,
                                                              "period_unit": "wk"},
                          "until": "2026-12-31", "reason": "travelling for three weeks"},
    "createCheckin": {"expires_in_hours": 72},
    "createReport": {"recorded_at": "2026-11-24T09:30:00-08:00", "pain": 5, "function": 6,
                     "global_change": 2, "soreness_hours": 20},
    "createVisit": {"external_id": "A-1001", "kind": "needling",
                    "starts_at": "2026-11-26T10:00:00-08:00", "status": "booked"},
    "updateVisit": {"status": "attended"},
    "logContact": {"channel": "phone", "outcome": "left_message",
                   "note": "Left a voicemail about booking the next session",
                   "snooze_until": "2026-11-26"},
    "createRuleset": rulesets.example_body(),
    "createWebhook": {"clinic_id": "cln_0a1b2c3d4e5f6a7b8c9d",
                      "url": "https://booking.example.com/hooks/cadence",
                      "events": ["plan.created", "followup.due"]},
    "updateWebhook": {"enabled": True},
    "replayWebhookDeliveries": {"since": "2026-11-20T10:00:00-08:00"},
}
ACTION_EXAMPLES = {
    "record_consent": {"recorded_at": "2026-11-20T10:00:00-08:00", "recorded_by": "physio:12"},
    "override": EXAMPLES["performPlanAction"],
    "set_phase": {"phase": "middle", "reason": "responding faster than expected"},
    "clear_do_not_contact": {"reason": "patient asked to be called again"},
    "set_authorization": {"reason": "insurer approval 2026-12",
                          "authorization": {"payer": "Pacific Blue Cross", "visits_allowed": 6,
                                            "valid_until": "2027-01-31",
                                            "count_no_shows": False}},
}

_HEADERS = {
    "ETag": {"description": "The resource's version: send it back in If-Match / "
             "If-None-Match", "schema": {"type": "string"}},
    "Location": {"description": "The created resource", "schema": {"type": "string"}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored first response to "
                            "the same Idempotency-Key", "schema": {"type": "string",
                                                                   "enum": ["true"]}},
}
# RFC 9110 section 8.8.3 / 13.1.1: `*` or a comma-separated list of (weak) entity tags; any
# other value is a 400 (api/etag.py), so the schema says so too.
ENTITY_TAGS = (r'^[ \t]*(\*|(W/)?"[\x21\x23-\x7e]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x7e]*")*)'
               r'[ \t]*$')
PARAMETERS = {
    "IfMatch": {"name": "If-Match", "in": "header", "required": True,
                "schema": {"type": "string", "minLength": 1, "pattern": ENTITY_TAGS},
                "example": '"7-2026-11-24"',
                "description": "The ETag last read; missing: 428, stale: 412"},
    "IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": False,
                    "schema": {"type": "string", "minLength": 1, "pattern": ENTITY_TAGS},
                    "description": "An ETag already held: 304 while it is current"},
}


def _camel(words: list[str]) -> str:
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def operation_id(method: str, path: str) -> str:
    """The table's id, else one from method and path (`getPlansPlanIdNextVisit`)."""
    if (method, path) in OPERATION_IDS:
        return OPERATION_IDS[(method, path)]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path.removeprefix("/api/v1")) if w]
    return _camel([method, *[w.lower() for w in words]])


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"].removeprefix(REF)} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo += _refs(schemas[name])
    return seen


def _example(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for `schema` (required properties only), for bodies with no entry
    in EXAMPLES."""
    if "$ref" in schema:
        return _example(schemas[schema["$ref"].removeprefix(REF)], schemas, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" and depth < 5:
        return {name: _example(prop, schemas, depth + 1)
                for name, prop in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    if kind == "array":
        return [_example(schema.get("items", {}), schemas, depth + 1)] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return {"date": "2026-11-24", "date-time": "2026-11-24T09:30:00-08:00"}.get(
        schema.get("format", ""), "string")


def _set_enum(schemas: dict[str, Any], schema: str, field: str, values: tuple[Any, ...]) -> None:
    prop = schemas[schema]["properties"][field.removesuffix("[]")]
    if field.endswith("[]"):
        prop = prop["items"]
    prop["enum"] = list(values)


def _nullable_enums(value: Any) -> None:
    """`{"type": [T, "null"], "enum": [..., None]}` as `anyOf: [{T, enum}, {null}]`, which
    generators read as an optional enum (the former gives one class per type member)."""
    if isinstance(value, list):
        for item in value:
            _nullable_enums(item)
        return
    if not isinstance(value, dict):
        return
    for key, prop in list(value.items()):
        if (isinstance(prop, dict) and isinstance(prop.get("type"), list)
                and None in prop.get("enum", [])):
            rest = {k: v for k, v in prop.items() if k not in ("type", "enum", "default")}
            kinds = [k for k in prop["type"] if k != "null"]
            value[key] = {**rest, "anyOf": [
                {"type": kinds[0] if len(kinds) == 1 else kinds,
                 "enum": [v for v in prop["enum"] if v is not None]}, {"type": "null"}]}
        else:
            _nullable_enums(prop)


def _actions(spec: dict[str, Any]) -> None:
    """POST /plans/{id}/actions: a oneOf of one schema per action, discriminated on `action`."""
    schemas = spec["components"]["schemas"]
    base = schemas["ActionIn"]["properties"]
    mapping = {}
    for action, (required, optional) in ACTION_FIELDS.items():
        name = "".join(part.capitalize() for part in action.split("_")) + "Action"
        properties = {"action": {"type": "string", "enum": [action]},
                      **{field: copy.deepcopy(base[field])
                         for field in sorted(required | optional)}}
        schemas[name] = {"type": "object", "properties": properties,
                         "required": ["action", *sorted(required)],
                         "additionalProperties": False,
                         "example": {"action": action,
                                     **ACTION_EXAMPLES.get(action, {"reason": "as discussed "
                                                                    "with the patient"})}}
        mapping[action] = REF + name
    body = spec["paths"]["/api/v1/plans/{plan_id}/actions"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "action", "mapping": mapping}}


def finish(spec: dict[str, Any]) -> dict[str, Any]:
    """The finished document (a deep copy of flask-smorest's, extended in place)."""
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components.setdefault("parameters", {}).update(copy.deepcopy(PARAMETERS))
    inputs: set[str] = set()
    outputs: set[str] = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            operation.setdefault("operationId", operation_id(method, path))
            responses = operation.get("responses", {})
            refs = operation.setdefault("parameters", [])
            if "428" in responses:
                refs.insert(0, {"$ref": "#/components/parameters/IfMatch"})
            if "304" in responses:
                refs.insert(0, {"$ref": "#/components/parameters/IfNoneMatch"})
            for status, response in responses.items():
                if not status.startswith("2"):
                    continue
                headers = response.setdefault("headers", {})
                if "304" in responses or "428" in responses or (
                        method == "post" and path in ("/api/v1/plans", "/api/v1/clinics")):
                    headers.setdefault("ETag", _HEADERS["ETag"])
                if status == "201":
                    headers.setdefault("Location", _HEADERS["Location"])
                if method == "post":
                    headers.setdefault("Idempotent-Replayed", _HEADERS["Idempotent-Replayed"])
                outputs |= _refs(response)
            body = operation.get("requestBody")
            if body:
                inputs |= _refs(body)
                for media in body.get("content", {}).values():
                    media.setdefault("example", copy.deepcopy(EXAMPLES.get(
                        operation["operationId"])) or _example(media["schema"], schemas))
    for (schema, field), values in ENUMS.items():
        _set_enum(schemas, schema, field, values)
    only_outputs = _closure(outputs, schemas) - _closure(inputs, schemas) - {"Problem"}
    for name in sorted(only_outputs):
        properties = schemas[name].get("properties", {})
        if properties:
            schemas[name]["required"] = [p for p in properties
                                         if p not in OPTIONAL_OUTPUTS.get(name, set())]
    _actions(spec)
    spec["webhooks"] = openapi_webhooks.webhooks(spec["components"]["schemas"])
    _nullable_enums(spec["components"]["schemas"])
    _nullable_enums(spec["webhooks"])
    return spec
