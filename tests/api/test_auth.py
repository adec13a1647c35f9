"""Bearer keys, roles, tenancy and the X-Actor audit header."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.auth import ensure_visible
from scheduler.models import AuditEntry


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Bearer ims_000000000000_nope"],
    ids=["missing", "empty", "no-token", "blank-token", "basic-auth", "unknown-key"],
)
def test_calls_without_a_valid_key_are_401_with_a_bearer_challenge(
    client, problem, authorization
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/clinics", headers=headers)
    problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_scheme_is_case_insensitive(client, admin) -> None:
    token = admin["Authorization"].split(" ", 1)[1]
    response = client.get("/api/v1/clinics", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_probes_and_docs_need_no_key(client) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("booking_system", "post", "/api/v1/clinics"),
        ("physiotherapist", "patch", "/api/v1/clinics/{clinic}"),
        ("front_desk", "get", "/api/v1/api-keys"),
        ("booking_system", "post", "/api/v1/api-keys"),
        ("physiotherapist", "delete", "/api/v1/api-keys/key_x"),
        ("front_desk", "post", "/api/v1/patients"),
        ("physiotherapist", "post", "/api/v1/patients"),
        ("admin", "post", "/api/v1/patients"),
        ("admin", "get", "/api/v1/patients"),
    ],
)
def test_a_call_the_role_may_not_make_is_403_before_validation(
    client, make_headers, clinic, problem, role, method, path
) -> None:
    headers = make_headers(role) if role == "admin" else make_headers(role, clinic.id)
    response = getattr(client, method)(path.format(clinic=clinic.id), headers=headers,
                                       json={"bogus": True})
    problem(response, 403)


def test_x_actor_is_recorded_in_the_audit_trail(client, booking, clinic, uow) -> None:
    headers = booking | {"X-Actor": "physio:1234"}
    response = client.post("/api/v1/patients", headers=headers,
                           json={"clinic_id": clinic.id, "external_id": "MRN-1"})
    assert response.status_code == 201
    with uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "patient.created")).one()
        assert entry.actor_name == "physio:1234" and entry.actor_key_id.startswith("key_")


def test_an_oversized_x_actor_is_422(client, booking, problem) -> None:
    response = client.get("/api/v1/patients", headers=booking | {"X-Actor": "x" * 201})
    assert "X-Actor" in problem(response, 422)["errors"]


def test_ensure_visible_hides_other_clinics_objects_as_404(
    app, booking, admin, clinic, other_clinic, problem
) -> None:
    @app.get("/api/v1/things/<clinic_id>")
    def thing(clinic_id: str) -> dict[str, str]:
        ensure_visible(clinic_id, "thing", "thg_1")
        return {"ok": clinic_id}

    client = app.test_client()
    assert client.get(f"/api/v1/things/{clinic.id}", headers=booking).status_code == 200
    problem(client.get(f"/api/v1/things/{other_clinic.id}", headers=booking), 404)
    assert client.get(f"/api/v1/things/{other_clinic.id}", headers=admin).status_code == 200
