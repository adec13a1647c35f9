"""The OpenAPI 3.1 `webhooks` section: each event's delivered body, as Standard Webhooks
deliver it (`{"type", "timestamp", "data"}`, signed headers), for generators and readers."""

from __future__ import annotations

import re
from typing import Any

from scheduler.services import plans
from scheduler.services.webhooks import EVENT_TYPES

REF = "#/components/schemas/"


def _camel(words: list[str]) -> str:
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def webhooks(schemas: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 `webhooks`: each event's delivered body (Standard Webhooks); adds the
    data schemas to `schemas`."""
    ids = {"plan_id": {"type": "string"}, "patient_id": {"type": "string"},
           "clinic_id": {"type": "string"}}
    state = {"phase": {"type": "string", "enum": list(plans.PHASES)},
             "status": {"type": "string", "enum": list(plans.STATUSES)},
             "frequency": {"$ref": REF + "FrequencyOut"}, "review": {"$ref": REF + "ReviewOut"}}
    plan_data = {"type": "object", "properties": {
        **ids, "decision_id": {"type": "string"}, **state},
        "required": [*ids, *state]}
    date = {"type": ["string", "null"], "format": "date"}
    schemas["PlanEventData"] = plan_data
    schemas["FollowupEventData"] = {"type": "object", "properties": {
        **ids, "state": {"type": "string", "enum": ["due", "overdue"]},
        "on": {"type": "string", "format": "date"},
        "kind": {"type": ["string", "null"], "enum": list((*plans.VISIT_KINDS, None))},
        "earliest": date, "target": date, "latest": date},
        "required": [*ids, "state", "on", "kind", "earliest", "target", "latest"]}
    schemas["CheckinEventData"] = {"type": "object", "properties": {
        **ids, "session_at": {"type": "string", "format": "date-time",
                              "description": "The last attended needling session"},
        "checkin_after_hours": {"type": "integer", "description": "The ruleset's parameter"}},
        "required": [*ids, "session_at", "checkin_after_hours"]}
    previous = {"plan.phase_changed": {"phase": state["phase"]},
                "plan.frequency_changed": {"frequency": state["frequency"]},
                "plan.status_changed": {"status": state["status"]}}
    headers = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"},
                "description": text} for name, text in (
        ("webhook-id", "The event id: the same on every attempt (deduplicate on it)"),
        ("webhook-timestamp", "Unix seconds of this attempt"),
        ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body>"))]
    out = {}
    for event in EVENT_TYPES:
        if event.startswith("followup."):
            data: dict[str, Any] = {"$ref": REF + "FollowupEventData"}
        elif event == "checkin.suggested":  # rule 24: once per session
            data = {"$ref": REF + "CheckinEventData"}
        else:
            extra: dict[str, Any] = {}
            if event in previous:
                extra["previous"] = {"type": "object", "properties": previous[event],
                                     "required": list(previous[event])}
            if event == "plan.review_required":  # rule 22 adds the patient's own word
                extra["new_reasons"] = {"type": "array", "items": {
                    "type": "string", "enum": [*plans.REVIEW_REASONS, "patient_reported_worse"]}}
            if event == "plan.authorization_low":  # rule 21, once per crossing into low
                extra["exhausted"] = {"type": "boolean"}
            data = {"allOf": [{"$ref": REF + "PlanEventData"},
                              {"type": "object", "properties": extra, "required": list(extra)}]
                    } if extra else {"$ref": REF + "PlanEventData"}
        out[event] = {"post": {
            "operationId": _camel(["on", *re.split(r"[._]", event)]),
            "summary": f"{event} (delivered to a subscription's url)",
            "parameters": headers,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["type", "timestamp", "data"], "properties": {
                    "type": {"type": "string", "enum": [event]},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "data": data}}}}},
            "responses": {"2XX": {"description": "Received; anything else is retried"}}}}
    return out
