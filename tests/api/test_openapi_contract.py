"""The OpenAPI description is complete enough to generate a working client from: ids,
conditional and idempotency headers, response headers, required outputs, enums, the actions'
oneOf, webhooks and an example (that validates) on every request body; docs with no CDN."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from api import create_app
from config import Settings

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite:///unused-never-opened.db", testing=True))
    return app.test_client().get("/openapi.json").json


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in OPERATIONS]


def parameters(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for param in op.get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        found[param["name"]] = param
    return found


def valid(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    document = {**schema, "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(document).is_valid(value)


def test_every_operation_has_a_unique_operation_id(spec):
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    assert all(ids) and len(set(ids)) == len(ids)
    assert spec["paths"]["/api/v1/plans/{plan_id}/actions"]["post"]["operationId"] == (
        "performPlanAction")


def test_conditional_and_idempotency_headers_are_parameters_where_they_apply(spec):
    paths = spec["paths"]
    for op in (paths["/api/v1/plans/{plan_id}/actions"]["post"],
               paths["/api/v1/clinics/{clinic_id}"]["patch"]):
        assert parameters(spec, op)["If-Match"]["required"] is True
    for op in (paths["/api/v1/plans/{plan_id}"]["get"],
               paths["/api/v1/clinics/{clinic_id}"]["get"]):
        assert "If-None-Match" in parameters(spec, op)
    for method, path, op in operations(spec):
        if method == "post" and path.startswith("/api/v1"):
            assert "Idempotency-Key" in parameters(spec, op), path


def test_etag_location_and_idempotent_replayed_are_response_headers(spec):
    paths = spec["paths"]
    assert "ETag" in paths["/api/v1/plans/{plan_id}"]["get"]["responses"]["200"]["headers"]
    assert "ETag" in paths["/api/v1/plans/{plan_id}/actions"]["post"]["responses"]["200"][
        "headers"]
    created = paths["/api/v1/plans"]["post"]["responses"]["201"]["headers"]
    assert {"ETag", "Location", "Idempotent-Replayed"} <= created.keys()


def test_output_fields_are_required_and_closed_sets_are_enums(spec):
    schemas = spec["components"]["schemas"]
    plan = schemas["PlanOut"]
    assert set(plan["required"]) == set(plan["properties"])
    assert "required" not in schemas["PlanIn"] or set(schemas["PlanIn"]["required"]) != set(
        schemas["PlanIn"]["properties"])
    assert schemas["VisitOut"]["properties"]["status"]["enum"] == [
        "booked", "attended", "cancelled", "no_show"]
    assert schemas["FrequencyOut"]["properties"]["period_unit"]["enum"] == ["d", "wk"]
    assert schemas["FollowupWindow"]["properties"]["kind"]["anyOf"] == [
        {"type": "string", "enum": ["assessment", "needling", "review"]}, {"type": "null"}]
    assert "plan.created" in schemas["WebhookOut"]["properties"]["events"]["items"]["enum"]


def test_plan_actions_are_a_one_of_discriminated_on_action(spec):
    body = spec["paths"]["/api/v1/plans/{plan_id}/actions"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "action"
    assert set(schema["discriminator"]["mapping"]) == {
        "record_consent", "override", "clear_override", "set_phase", "hold", "resume",
        "discharge", "set_authorization", "clear_authorization", "clear_do_not_contact"}
    assert valid(spec, schema, {"action": "hold", "reason": "review"})
    assert not valid(spec, schema, {"action": "hold"})
    assert not valid(spec, schema, {"action": "set_phase", "reason": "x"})


def test_every_request_body_has_an_example_that_its_schema_accepts(spec):
    for method, path, op in operations(spec):
        for media in op.get("requestBody", {}).get("content", {}).values():
            assert "example" in media, (method, path)
            assert valid(spec, media["schema"], media["example"]), (method, path)


def test_webhooks_describe_each_event_payload(spec):
    assert set(spec["webhooks"]) == {
        "plan.created", "plan.phase_changed", "plan.frequency_changed", "plan.status_changed",
        "plan.review_required", "followup.due", "followup.overdue", "plan.authorization_low",
        "checkin.suggested"}
    due = spec["webhooks"]["followup.due"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert valid(spec, due, {"type": "followup.due", "timestamp": "2026-11-24T11:30:00Z",
                             "data": {"plan_id": "p", "patient_id": "q", "clinic_id": "c",
                                      "state": "due", "on": "2026-11-24", "kind": "needling",
                                      "earliest": "2026-11-24", "target": "2026-11-25",
                                      "latest": "2026-11-26"}})
    assert not valid(spec, due, {"type": "plan.created", "timestamp": "x", "data": {}})


def test_docs_load_swagger_ui_from_our_own_vendored_files(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js",
                 "LICENSE"):
        response = client.get(f"/static/swagger-ui/{name}")
        assert response.status_code == 200 and response.content_length, name
        response.close()
