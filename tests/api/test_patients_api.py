"""/api/v1/patients: register, duplicate 409, read, look up, tenancy."""

from __future__ import annotations


def register(client, headers, clinic_id, external_id="MRN-1", **extra):
    return client.post("/api/v1/patients", headers=headers,
                       json={"clinic_id": clinic_id, "external_id": external_id, **extra})


def test_the_booking_system_registers_a_patient(client, booking, clinic) -> None:
    response = register(client, booking, clinic.id, display_name="J. Doe")
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("pat_") and body["display_name"] == "J. Doe"
    assert response.headers["Location"] == f"/api/v1/patients/{body['id']}"


def test_a_duplicate_external_id_is_409_naming_the_existing_patient(
    client, booking, clinic, problem
) -> None:
    first = register(client, booking, clinic.id).get_json()
    body = problem(register(client, booking, clinic.id), 409)
    assert first["id"] in body["detail"]


def test_registering_in_another_clinic_is_an_unknown_clinic(
    client, booking, other_clinic, problem
) -> None:
    body = problem(register(client, booking, other_clinic.id), 422)
    assert body["errors"] == {"clinic_id": ["Unknown clinic."]}


def test_every_clinic_role_reads_a_patient(client, booking, physio, front_desk, clinic) -> None:
    patient = register(client, booking, clinic.id).get_json()
    for headers in (booking, physio, front_desk):
        response = client.get(f"/api/v1/patients/{patient['id']}", headers=headers)
        assert response.status_code == 200 and response.get_json() == patient


def test_another_clinics_patient_is_404(client, booking, other_booking, clinic, problem) -> None:
    patient = register(client, booking, clinic.id).get_json()
    problem(client.get(f"/api/v1/patients/{patient['id']}", headers=other_booking), 404)
    listed = client.get("/api/v1/patients?external_id=MRN-1", headers=other_booking).get_json()
    assert listed == {"items": [], "next_cursor": None}


def test_patients_are_looked_up_by_clinic_and_external_id(client, booking, clinic) -> None:
    wanted = register(client, booking, clinic.id, "MRN-2").get_json()
    register(client, booking, clinic.id, "MRN-3")
    found = client.get(f"/api/v1/patients?clinic_id={clinic.id}&external_id=MRN-2",
                       headers=booking).get_json()
    assert found == {"items": [wanted], "next_cursor": None}


def test_a_missing_patient_is_404(client, booking, problem) -> None:
    problem(client.get("/api/v1/patients/pat_missing", headers=booking), 404)


def test_patient_fields_are_validated(client, booking, clinic, problem) -> None:
    body = problem(register(client, booking, clinic.id, "", nickname="x"), 422)
    assert set(body["errors"]) == {"external_id", "nickname"}
