"""Headers (issue #11): every response carries X-Content-Type-Options: nosniff and
Referrer-Policy: no-referrer; every /api/v1 response (patient data) Cache-Control: no-store."""

from __future__ import annotations

import pytest

from tests.api.plan_support import API, make_plan


def assert_safe(response, api: bool = True) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    if api:
        assert response.headers["Cache-Control"] == "no-store"


def test_patient_data_responses_are_not_stored(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    for path in (f"/plans/{plan['id']}", f"/plans/{plan['id']}/next-visit",
                 f"/plans/{plan['id']}/schedule", f"/plans/{plan['id']}/decisions",
                 f"/plans/{plan['id']}/reports", f"/plans/{plan['id']}/visits",
                 f"/patients/{plan['patient_id']}", "/patients", "/plans",
                 f"/followups?clinic_id={clinic.id}"):
        response = client.get(API + path, headers=booking)
        assert response.status_code == 200, path
        assert_safe(response)
    assert_safe(client.get(f"{API}/audit", headers=physio))


def test_writes_errors_and_304s_carry_the_headers(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    tag = client.get(f"{API}/plans/{plan['id']}", headers=booking).headers["ETag"]
    not_modified = client.get(f"{API}/plans/{plan['id']}",
                              headers={**booking, "If-None-Match": tag})
    assert not_modified.status_code == 304
    assert_safe(not_modified)
    assert_safe(client.post(f"{API}/patients", headers=booking,
                            json={"clinic_id": clinic.id, "external_id": "MRN-2"}))
    assert_safe(client.get(f"{API}/plans/pln_missing", headers=booking))  # 404
    assert_safe(client.get(f"{API}/plans"))  # 401
    assert_safe(client.post(f"{API}/patients", headers=booking, data="x"))  # 415


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/nowhere", "/docs"])
def test_responses_outside_the_api_carry_the_two_headers(client, path):
    assert_safe(client.get(path), api=False)


def test_a_crash_still_carries_the_headers(app, admin):
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = app.test_client().get("/api/v1/boom", headers=admin)
    assert response.status_code == 500
    assert_safe(response)
