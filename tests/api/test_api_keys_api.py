"""/api/v1/api-keys: a key is shown once, listed without its secret, revoked at once."""

from __future__ import annotations


def test_an_admin_issues_a_key_that_works_at_once(client, admin, clinic) -> None:
    response = client.post("/api/v1/api-keys", headers=admin, json={
        "name": "Front desk PC", "role": "front_desk", "clinic_ids": [clinic.id]})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["key"].startswith("ims_") and body["clinic_ids"] == [clinic.id]
    assert body["role"] == "front_desk" and body["revoked_at"] is None
    new = {"Authorization": f"Bearer {body['key']}"}
    assert client.get(f"/api/v1/clinics/{clinic.id}", headers=new).status_code == 200


def test_the_list_never_shows_a_secret(client, admin) -> None:
    issued = client.post("/api/v1/api-keys", headers=admin,
                         json={"name": "ops", "role": "admin"}).get_json()
    listed = client.get("/api/v1/api-keys", headers=admin)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert issued["id"] in {k["id"] for k in items}
    assert all("key" not in k for k in items)
    assert issued["key"] not in listed.get_data(as_text=True)


def test_a_revoked_key_is_refused_on_its_next_call(client, admin, booking, problem) -> None:
    me = client.get("/api/v1/api-keys", headers=admin).get_json()["items"]
    booking_id = next(k["id"] for k in me if k["role"] == "booking_system")
    assert client.delete(f"/api/v1/api-keys/{booking_id}", headers=admin).status_code == 204
    problem(client.get("/api/v1/patients", headers=booking), 401)
    assert client.delete(f"/api/v1/api-keys/{booking_id}", headers=admin).status_code == 204


def test_revoking_an_unknown_key_is_404(client, admin, problem) -> None:
    problem(client.delete("/api/v1/api-keys/key_missing", headers=admin), 404)


def test_invalid_keys_are_422(client, admin, problem) -> None:
    for payload, field in (
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "x", "role": "front_desk"}, "clinic_ids"),
        ({"name": "x", "role": "front_desk", "clinic_ids": ["cln_missing"]}, "clinic_ids"),
        ({"role": "admin"}, "name"),
    ):
        body = problem(client.post("/api/v1/api-keys", headers=admin, json=payload), 422)
        assert field in body["errors"], payload
