"""Secrets are shown once (issue #11): a response carrying an API key or a webhook secret is
never stored for Idempotency-Key replay (a replay is a 409 naming what was created), and it
carries Cache-Control: no-store."""

from __future__ import annotations

import json

from sqlalchemy import select

from scheduler.models import IdempotencyRecord

KEY = {"name": "booking", "role": "booking_system"}


def stored_bodies(uow) -> str:
    with uow:
        rows = uow.session.scalars(select(IdempotencyRecord)).all()
        return "\n".join(f"{r.response_body} {json.dumps(r.response_headers)}" for r in rows)


def test_a_replayed_api_key_post_is_a_409_naming_the_key_not_the_secret(client, admin, clinic,
                                                                         problem, uow):
    headers = {**admin, "Idempotency-Key": "issue-1"}
    body = {**KEY, "clinic_ids": [clinic.id]}
    first = client.post("/api/v1/api-keys", headers=headers, json=body)
    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    issued = first.get_json()
    replay = client.post("/api/v1/api-keys", headers=headers, json=body)
    answer = problem(replay, 409)
    assert answer["type"].endswith(":secret-not-replayed")
    assert answer["created_id"] == issued["id"] and issued["id"] in answer["detail"]
    assert replay.headers["Location"] == f"/api/v1/api-keys/{issued['id']}"
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Cache-Control"] == "no-store"
    assert issued["key"] not in replay.get_data(as_text=True)
    assert issued["key"] not in stored_bodies(uow)
    assert issued["key"].split("_", 2)[2] not in stored_bodies(uow)
    # one key was issued, not two
    listed = client.get("/api/v1/api-keys", headers=admin).get_json()["items"]
    assert [k["id"] for k in listed if k["name"] == "booking"] == [issued["id"]]


def test_the_client_revokes_the_named_key_and_creates_another(client, admin, clinic):
    headers = {**admin, "Idempotency-Key": "issue-2"}
    body = {**KEY, "clinic_ids": [clinic.id]}
    first = client.post("/api/v1/api-keys", headers=headers, json=body).get_json()
    created_id = client.post("/api/v1/api-keys", headers=headers, json=body).get_json()[
        "created_id"]
    assert client.delete(f"/api/v1/api-keys/{created_id}", headers=admin).status_code == 204
    second = client.post("/api/v1/api-keys", headers={**admin, "Idempotency-Key": "issue-3"},
                         json=body)
    assert second.status_code == 201 and second.get_json()["id"] != first["id"]
    assert client.get("/api/v1/clinics", headers={
        "Authorization": f"Bearer {first['key']}"}).status_code == 401


def test_a_replayed_webhook_post_is_a_409_naming_the_subscription(client, booking, clinic,
                                                                  problem, uow):
    headers = {**booking, "Idempotency-Key": "hook-1"}
    body = {"clinic_id": clinic.id, "url": "https://example.test/hooks",
            "events": ["plan.created"]}
    first = client.post("/api/v1/webhooks", headers=headers, json=body)
    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    created = first.get_json()
    replay = client.post("/api/v1/webhooks", headers=headers, json=body)
    assert problem(replay, 409)["created_id"] == created["id"]
    assert created["secret"] not in replay.get_data(as_text=True)
    assert created["secret"] not in stored_bodies(uow)
    assert created["secret"].removeprefix("whsec_") not in stored_bodies(uow)


def test_a_rejected_secret_request_still_replays_its_rejection(client, admin, problem):
    headers = {**admin, "Idempotency-Key": "bad-1"}
    body = {"name": "x", "role": "booking_system"}  # no clinic: 422
    first = client.post("/api/v1/api-keys", headers=headers, json=body)
    problem(first, 422)
    replay = client.post("/api/v1/api-keys", headers=headers, json=body)
    # a replay is the first answer byte for byte: its `instance` names the first request
    assert (replay.status_code, replay.data) == (422, first.data)
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_other_posts_still_replay_their_first_response(client, booking, clinic):
    headers = {**booking, "Idempotency-Key": "patient-1"}
    body = {"clinic_id": clinic.id, "external_id": "MRN-5"}
    first = client.post("/api/v1/patients", headers=headers, json=body)
    replay = client.post("/api/v1/patients", headers=headers, json=body)
    assert replay.status_code == 201 and replay.get_json() == first.get_json()
