"""/api/v1/clinics: create, read with ETag, conditional update, list pages, tenancy."""

from __future__ import annotations

NEW = {"name": "Kits Physio", "timezone": "America/Vancouver", "open_weekdays": [0, 1, 2, 3, 4],
       "holiday_region": "CA-BC", "closures": ["2026-12-24"], "ruleset": "ims-default@1"}


def test_an_admin_creates_a_clinic(client, admin) -> None:
    response = client.post("/api/v1/clinics", headers=admin, json=NEW)
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in NEW} == NEW
    assert body["id"].startswith("cln_") and body["version"] == 1
    assert body["created_at"].endswith("+00:00")
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/api/v1/clinics/{body['id']}"


def test_defaults_apply_to_optional_fields(client, admin) -> None:
    minimal = {"name": "A", "timezone": "UTC", "open_weekdays": [0]}
    body = client.post("/api/v1/clinics", headers=admin, json=minimal).get_json()
    assert (body["holiday_region"], body["closures"], body["ruleset"]) == (
        None, [], "ims-default@1")


def test_semantic_errors_are_422_per_field(client, admin, problem) -> None:
    bad = NEW | {"timezone": "Mars/Base", "holiday_region": "CA-QQ", "ruleset": "mine@2"}
    body = problem(client.post("/api/v1/clinics", headers=admin, json=bad), 422)
    assert set(body["errors"]) == {"timezone", "holiday_region", "ruleset"}


def test_get_returns_an_etag_and_honours_if_none_match(client, booking, clinic) -> None:
    response = client.get(f"/api/v1/clinics/{clinic.id}", headers=booking)
    assert response.status_code == 200 and response.get_json()["id"] == clinic.id
    etag = response.headers["ETag"]
    cached = client.get(f"/api/v1/clinics/{clinic.id}", headers=booking | {"If-None-Match": etag})
    assert cached.status_code == 304 and cached.headers["ETag"] == etag and not cached.data
    stale = client.get(f"/api/v1/clinics/{clinic.id}", headers=booking | {"If-None-Match": '"0"'})
    assert stale.status_code == 200


def test_patch_without_if_match_is_428(client, admin, clinic, problem) -> None:
    response = client.patch(f"/api/v1/clinics/{clinic.id}", headers=admin, json={"name": "B"})
    problem(response, 428)


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(client, admin, clinic, problem) -> None:
    url = f"/api/v1/clinics/{clinic.id}"
    first = client.patch(url, headers=admin | {"If-Match": '"1"'}, json={"name": "B"})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    problem(client.patch(url, headers=admin | {"If-Match": '"1"'}, json={"name": "C"}), 412)
    problem(client.patch(url, headers=admin | {"If-Match": '"v2"'}, json={"name": "C"}), 412)
    assert client.get(url, headers=admin).get_json()["name"] == "B"


def test_patch_changes_only_the_fields_sent(client, admin, clinic) -> None:
    url = f"/api/v1/clinics/{clinic.id}"
    response = client.patch(url, headers=admin | {"If-Match": '"1"'},
                            json={"holiday_region": None, "closures": ["2027-01-02"]})
    body = response.get_json()
    assert (body["holiday_region"], body["closures"], body["name"], body["version"]) == (
        None, ["2027-01-02"], clinic.name, 2)


def test_patch_validates_like_post(client, admin, clinic, problem) -> None:
    url = f"/api/v1/clinics/{clinic.id}"
    headers = admin | {"If-Match": "*"}
    problem(client.patch(url, headers=headers, json={"version": 7}), 422)
    problem(client.patch(url, headers=headers, json={"open_weekdays": []}), 422)


def test_the_list_pages_with_a_cursor(client, admin, make_clinic) -> None:
    made = {make_clinic(name=f"C{n}").id for n in range(5)}
    first = client.get("/api/v1/clinics?limit=3", headers=admin).get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get(f"/api/v1/clinics?limit=3&cursor={first['next_cursor']}",
                      headers=admin).get_json()
    assert rest["next_cursor"] is None
    assert {c["id"] for c in first["items"] + rest["items"]} == made


def test_a_key_sees_only_its_clinics(client, booking, clinic, other_clinic, problem) -> None:
    listed = client.get("/api/v1/clinics", headers=booking).get_json()
    assert [c["id"] for c in listed["items"]] == [clinic.id]
    problem(client.get(f"/api/v1/clinics/{other_clinic.id}", headers=booking), 404)


def test_another_clinics_id_and_a_missing_id_look_the_same(
    client, booking, other_clinic, problem
) -> None:
    hidden = problem(client.get(f"/api/v1/clinics/{other_clinic.id}", headers=booking), 404)
    missing = problem(client.get("/api/v1/clinics/cln_missing", headers=booking), 404)
    assert hidden == missing
