"""API key lifecycle (issue #11): optional expiry (401 after it), last_used_at recorded at
most once a minute, `apikey list` / `apikey revoke` on the command line, and the documented
create-then-revoke rotation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from scheduler.services import api_keys

KEYS = "/api/v1/api-keys"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def issue(client, admin, clinic_id, **extra):
    response = client.post(KEYS, headers=admin, json={"name": "booking", "role": "booking_system",
                                                       "clinic_ids": [clinic_id], **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def listed(client, admin, key_id):
    return next(k for k in client.get(KEYS, headers=admin).get_json()["items"]
                if k["id"] == key_id)


def test_a_key_with_an_expiry_works_until_then_and_is_401_after(client, admin, clinic, clock,
                                                                problem):
    expiry = (clock.now + timedelta(hours=1)).isoformat()
    issued = issue(client, admin, clinic.id, expires_at=expiry)
    assert issued["expires_at"] == expiry
    assert client.get("/api/v1/clinics", headers=bearer(issued["key"])).status_code == 200
    clock.advance(minutes=59, seconds=59)
    assert client.get("/api/v1/clinics", headers=bearer(issued["key"])).status_code == 200
    clock.advance(seconds=1)
    body = problem(client.get("/api/v1/clinics", headers=bearer(issued["key"])), 401)
    assert "expired" in body["detail"]
    assert listed(client, admin, issued["id"])["expires_at"] == expiry


def test_an_expiry_in_the_past_or_naive_is_422(client, admin, clinic, clock, problem):
    for value in ((clock.now - timedelta(seconds=1)).isoformat(), clock.now.isoformat(),
                  "2030-01-01T00:00:00"):
        body = problem(client.post(KEYS, headers=admin, json={
            "name": "b", "role": "booking_system", "clinic_ids": [clinic.id],
            "expires_at": value}), 422)
        assert list(body["errors"]) == ["expires_at"]
        assert "Unknown field." not in body["errors"]["expires_at"], value


def test_a_key_without_expiry_never_expires(client, admin, clinic, clock):
    issued = issue(client, admin, clinic.id)
    assert issued["expires_at"] is None
    clock.advance(days=3650)
    assert client.get("/api/v1/clinics", headers=bearer(issued["key"])).status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(app, client, admin, clinic, clock):
    issued = issue(client, admin, clinic.id)
    assert issued["last_used_at"] is None
    writes: list[str] = []
    engine = app.extensions["cadence"].engine

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        start = clock.now
        for _ in range(5):
            assert client.get("/api/v1/clinics", headers=bearer(issued["key"])).status_code == 200
        assert len(writes) == 1
        clock.advance(seconds=59)
        client.get("/api/v1/clinics", headers=bearer(issued["key"]))
        assert len(writes) == 1
        clock.advance(seconds=1)
        client.get("/api/v1/clinics", headers=bearer(issued["key"]))
        assert len(writes) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert listed(client, admin, issued["id"])["last_used_at"] == \
        (start + timedelta(seconds=60)).isoformat()


def test_a_failed_request_with_a_good_key_still_counts_as_use(client, admin, clinic, clock):
    issued = issue(client, admin, clinic.id)
    client.get("/api/v1/plans/pln_missing", headers=bearer(issued["key"]))
    assert listed(client, admin, issued["id"])["last_used_at"] == clock.now.isoformat()


def test_the_rotation_create_then_revoke_has_no_gap(client, admin, clinic):
    old = issue(client, admin, clinic.id)
    new = issue(client, admin, clinic.id)  # 1. a second key with the same role and clinics
    for key in (old, new):  # 2. both work while the client switches over
        assert client.get(f"/api/v1/clinics/{clinic.id}",
                          headers=bearer(key["key"])).status_code == 200
    assert client.delete(f"{KEYS}/{old['id']}", headers=admin).status_code == 204  # 3.
    assert client.get("/api/v1/clinics", headers=bearer(old["key"])).status_code == 401
    assert client.get("/api/v1/clinics", headers=bearer(new["key"])).status_code == 200


def test_cli_list_shows_live_keys_without_secrets_and_revoke_revokes(runner, client, admin,
                                                                     clinic, uow_factory, now):
    keep = api_keys.create_api_key(uow_factory(), name="keep", role="front_desk",
                                   clinic_ids=[clinic.id], actor=api_keys.Actor(None), now=now)
    gone = api_keys.create_api_key(uow_factory(), name="gone", role="front_desk",
                                   clinic_ids=[clinic.id], actor=api_keys.Actor(None), now=now)
    result = runner.invoke(args=["apikey", "revoke", gone.api_key.id])
    assert result.exit_code == 0 and f"revoked {gone.api_key.id}" in result.output
    assert client.get("/api/v1/clinics", headers=bearer(gone.secret)).status_code == 401
    assert client.get("/api/v1/clinics", headers=bearer(keep.secret)).status_code == 200
    listing = runner.invoke(args=["apikey", "list"])
    assert listing.exit_code == 0, listing.output
    assert keep.api_key.id in listing.output and gone.api_key.id not in listing.output
    assert keep.secret not in listing.output and keep.secret.split("_", 2)[2] not in \
        listing.output
    row = next(line for line in listing.output.splitlines() if keep.api_key.id in line)
    assert row.split("\t")[-2:] == [now.strftime("%Y-%m-%dT%H:%M:%SZ"), "live"]
    everything = runner.invoke(args=["apikey", "list", "--all"])
    assert f"{gone.api_key.id}\tgone" in everything.output and "\trevoked" in everything.output


def test_cli_revoke_of_an_unknown_key_fails(runner):
    result = runner.invoke(args=["apikey", "revoke", "key_nope"])
    assert result.exit_code != 0 and "no API key key_nope" in result.output


def test_cli_create_with_an_expiry(runner, client, clock):
    result = runner.invoke(args=["apikey", "create", "--name", "tmp", "--role", "admin",
                                 "--expires-in-days", "2"])
    assert result.exit_code == 0, result.output
    assert "expires=2026-11-04T17:30:00Z" in result.output
    key = result.output.strip().splitlines()[-1]
    assert client.get("/api/v1/clinics", headers=bearer(key)).status_code == 200
    clock.advance(days=2)
    assert client.get("/api/v1/clinics", headers=bearer(key)).status_code == 401
    bad = runner.invoke(args=["apikey", "create", "--name", "t", "--role", "admin",
                              "--expires-at", "2030-01-01 00:00"])
    assert bad.exit_code != 0
    at = runner.invoke(args=["apikey", "create", "--name", "t", "--role", "admin",
                             "--expires-at", "2030-01-01T00:00:00Z"])
    assert "expires=2030-01-01T00:00:00Z" in at.output
