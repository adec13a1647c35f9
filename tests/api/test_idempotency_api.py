"""Idempotency-Key on POST: replay, different body, in flight, expiry, failures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from scheduler.models import IdempotencyRecord, Patient
from scheduler.services import idempotency as store


def post(client, headers, clinic_id, key="idem-1", external_id="MRN-1"):
    return client.post("/api/v1/patients", headers=headers | {"Idempotency-Key": key},
                       json={"clinic_id": clinic_id, "external_id": external_id})


def count_patients(uow) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(Patient))


def test_the_same_request_is_replayed_not_repeated(client, booking, clinic, uow) -> None:
    first = post(client, booking, clinic.id)
    again = post(client, booking, clinic.id)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    assert again.mimetype == "application/json"
    assert count_patients(uow) == 1


def test_json_key_order_does_not_change_the_fingerprint(client, booking, clinic) -> None:
    headers = booking | {"Idempotency-Key": "k"}
    first = client.post("/api/v1/patients", headers=headers,
                        json={"clinic_id": clinic.id, "external_id": "MRN-1"})
    again = client.post("/api/v1/patients", headers=headers,
                        data=f'{{"external_id": "MRN-1", "clinic_id": "{clinic.id}"}}',
                        content_type="application/json")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()


def test_the_same_key_with_a_different_body_is_422(client, booking, clinic, problem) -> None:
    post(client, booking, clinic.id)
    body = problem(post(client, booking, clinic.id, external_id="MRN-2"), 422)
    assert "Idempotency-Key" in body["errors"]


def test_the_same_key_while_in_flight_is_409(client, booking, clinic, uow, problem) -> None:
    response = post(client, booking, clinic.id, key="slow")
    assert response.status_code == 201
    with uow:  # make the stored record look as if its request were still running
        row = uow.session.scalar(select(IdempotencyRecord))
        row.status = store.IN_FLIGHT
        uow.commit()
    problem(post(client, booking, clinic.id, key="slow"), 409)


def test_keys_are_per_client(client, booking, make_headers, clinic) -> None:
    second = make_headers("booking_system", clinic.id)
    post(client, booking, clinic.id)
    other = post(client, second, clinic.id)
    assert other.status_code == 409 and "Idempotent-Replayed" not in other.headers


def test_an_error_response_is_replayed_too(client, booking, clinic, problem) -> None:
    post(client, booking, clinic.id, key="a", external_id="MRN-1")
    first = post(client, booking, clinic.id, key="b", external_id="MRN-1")
    again = post(client, booking, clinic.id, key="b", external_id="MRN-1")
    problem(first, 409)
    assert again.headers["Idempotent-Replayed"] == "true" and again.data == first.data


def test_after_24_hours_the_key_starts_afresh(client, booking, clinic, clock, uow) -> None:
    post(client, booking, clinic.id)
    clock.advance(hours=24)
    fresh = post(client, booking, clinic.id, external_id="MRN-2")
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert count_patients(uow) == 2


def test_a_server_error_frees_the_key(app, booking, clinic, problem, uow) -> None:
    @app.post("/api/v1/flaky")
    def flaky() -> None:
        raise RuntimeError("down")

    client = app.test_client()
    headers = booking | {"Idempotency-Key": "retry-me"}
    problem(client.post("/api/v1/flaky", headers=headers, json={}), 500)
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_an_overlong_key_is_422(client, booking, clinic, problem) -> None:
    body = problem(post(client, booking, clinic.id, key="k" * 256), 422)
    assert "Idempotency-Key" in body["errors"]


def test_posts_without_a_key_are_not_deduplicated(client, booking, clinic, problem) -> None:
    headers = booking
    payload = {"clinic_id": clinic.id, "external_id": "MRN-1"}
    assert client.post("/api/v1/patients", headers=headers, json=payload).status_code == 201
    problem(client.post("/api/v1/patients", headers=headers, json=payload), 409)


def test_records_expire_by_ttl(uow, now) -> None:
    store.claim(uow, client="c", key="k", fingerprint="f", now=now, ttl=timedelta(hours=24))
    assert store.purge_expired(uow, now=now + timedelta(hours=25), ttl=timedelta(hours=24)) == 1
