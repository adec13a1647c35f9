"""Every error is RFC 9457 problem+json: unknown paths, methods, bad JSON, validation, crashes."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from scheduler.services.clinics import ClinicView


def test_an_unknown_path_outside_the_api_is_a_404_problem(client, problem) -> None:
    body = problem(client.get("/nowhere"), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"


def test_an_unknown_api_path_is_a_404_problem_for_a_known_key(client, admin, problem) -> None:
    problem(client.get("/api/v1/nowhere", headers=admin), 404)


def test_an_unknown_api_path_without_a_key_is_401_not_a_hint(client, problem) -> None:
    problem(client.get("/api/v1/nowhere"), 401)


def test_a_wrong_method_is_405_with_allow(client, admin, problem) -> None:
    response = client.put("/api/v1/clinics", headers=admin, json={})
    problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_malformed_json_is_400(client, admin, problem) -> None:
    response = client.post("/api/v1/clinics", headers=admin, data="{not json",
                           content_type="application/json")
    assert "errors" not in problem(response, 400)


def test_validation_errors_are_422_per_field_and_unknown_fields_are_rejected(
    client, admin, problem
) -> None:
    response = client.post("/api/v1/clinics", headers=admin, json={
        "name": "", "timezone": "UTC", "open_weekdays": [0, 9], "colour": "blue",
    })
    body = problem(response, 422)
    assert set(body["errors"]) == {"name", "open_weekdays.1", "colour"}
    assert body["errors"]["colour"] == ["Unknown field."]


def test_wrong_types_are_422(client, admin, problem) -> None:
    response = client.post("/api/v1/clinics", headers=admin, json={
        "name": 3, "timezone": "UTC", "open_weekdays": ["1"], "closures": ["2026-13-01"],
    })
    assert set(problem(response, 422)["errors"]) == {"name", "open_weekdays.0", "closures.0"}


def test_a_json_array_body_is_422(client, admin, problem) -> None:
    problem(client.post("/api/v1/clinics", headers=admin, json=[1, 2]), 422)


def test_invalid_query_parameters_are_422(client, admin, problem) -> None:
    for query in ("limit=0", "limit=201", "limit=x", "colour=blue", "cursor=%21%21"):
        problem(client.get(f"/api/v1/clinics?{query}", headers=admin), 422)


def test_an_unhandled_exception_is_a_bare_500_without_details(
    app: Flask, admin, problem, caplog: pytest.LogCaptureFixture, clinic: ClinicView
) -> None:
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("patient Jane Doe MRN-77 broke it")

    with caplog.at_level(logging.ERROR, logger="cadence.api"):
        response = app.test_client().get("/api/v1/boom", headers=admin)
    body = problem(response, 500)
    assert "Jane" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text and "Jane" not in caplog.text
    assert body["type"].endswith(":internal")


# U+0000: PostgreSQL cannot store or compare it in text, so it must never reach a query.
NUL = "\x00"


def test_a_nul_in_a_body_field_is_422_naming_the_field(client, admin, booking, clinic,
                                                        problem) -> None:
    body = problem(client.post("/api/v1/patients", headers=booking,
                               json={"clinic_id": clinic.id, "external_id": f"MRN{NUL}1"}), 422)
    assert list(body["errors"]) == ["external_id"]
    assert "NUL" in body["errors"]["external_id"][0]
    body = problem(client.post("/api/v1/clinics", headers=admin, json={
        "name": "K", "timezone": "America/Vancouver", "open_weekdays": [0],
        "closures": ["2026-12-25", f"2026{NUL}"]}), 422)
    assert list(body["errors"]) == ["closures.1"]


def test_a_nul_in_a_ruleset_is_422(client, admin, problem) -> None:
    ruleset = client.get("/api/v1/rulesets/ims-default@1", headers=admin).get_json()
    ruleset = {k: v for k, v in ruleset.items() if k not in ("id", "builtin")}
    ruleset.update(name=f"clinic{NUL}", version=2)
    assert list(problem(client.post("/api/v1/rulesets", headers=admin, json=ruleset),
                        422)["errors"]) == ["name"]


def test_a_nul_in_a_query_parameter_is_422(client, booking, clinic, problem) -> None:
    body = problem(client.get("/api/v1/plans", headers=booking,
                              query_string={"clinic_id": f"{clinic.id}{NUL}"}), 422)
    assert list(body["errors"]) == ["clinic_id"]
    problem(client.get("/api/v1/followups", headers=booking,
                       query_string={"clinic_id": NUL}), 422)


def test_a_nul_in_the_path_is_404_and_in_the_key_401(client, booking, problem) -> None:
    problem(client.get("/api/v1/plans/pln%00x/next-visit", headers=booking), 404)
    problem(client.get("/api/v1/patients/%00", headers=booking), 404)
    problem(client.get("/api/v1/plans", headers={"Authorization": f"Bearer ims_{NUL}_x"}), 401)


def test_a_lone_surrogate_in_a_body_field_is_422(client, booking, clinic, problem) -> None:
    raw = '{"clinic_id": "' + clinic.id + '", "external_id": "MRN-\\ud800"}'
    body = problem(client.post("/api/v1/patients", headers=booking, data=raw,
                               content_type="application/json"), 422)
    assert list(body["errors"]) == ["external_id"]
    assert "surrogate" in body["errors"]["external_id"][0]
