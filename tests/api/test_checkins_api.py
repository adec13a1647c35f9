"""Check-in links through the API: create (URL on PUBLIC_BASE_URL, shown once, stored hashed),
list, revoke, tenancy and roles."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from config import Settings
from scheduler.models import AuditEntry, Checkin, IdempotencyRecord
from scheduler.services import checkins
from tests.api.plan_support import API, make_plan, ok
from tests.conftest import T0


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, testing=True, log_level="WARNING",
                    public_base_url="https://checkin.kits-physio.example/")


def create(client: Any, headers: dict[str, str], plan_id: str, **body: Any) -> Any:
    return client.post(f"{API}/plans/{plan_id}/checkins", headers=headers, json=body)


def token_of(url: str) -> str:
    return url.rsplit("/c/", 1)[1]


def test_a_link_is_on_the_public_base_url_and_expires_in_72_hours_by_default(
        client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    response = create(client, booking, plan["id"])
    body = ok(response, 201)
    assert set(body) == {"id", "url", "expires_at"}
    assert body["url"].startswith("https://checkin.kits-physio.example/c/")
    assert response.headers["Cache-Control"] == "no-store"
    assert body["expires_at"] == "2026-11-05T17:30:00+00:00"  # T0 + 72 h
    assert len(token_of(body["url"])) >= 43  # 32 random bytes, base64url: 256 bits


def test_expires_in_hours_is_1_to_168(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    assert ok(create(client, booking, plan["id"], expires_in_hours=168), 201)[
        "expires_at"] == "2026-11-09T17:30:00+00:00"
    assert ok(create(client, booking, plan["id"], expires_in_hours=1), 201)
    for bad in (0, 169, "12", 1.5, None):
        body = problem(create(client, booking, plan["id"], expires_in_hours=bad), 422)
        assert set(body["errors"]) == {"expires_in_hours"}, bad


def test_the_token_is_stored_only_hashed_and_never_replayed(client, booking, clinic, uow,
                                                            problem):
    plan = make_plan(client, booking, clinic.id)
    headers = {**booking, "Idempotency-Key": "chk-1"}
    first = ok(create(client, headers, plan["id"]), 201)
    token = token_of(first["url"])
    replay = problem(create(client, headers, plan["id"]), 409)
    assert replay["created_id"] == first["id"]
    with uow:
        (stored,) = uow.session.scalars(select(Checkin)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        rows: list[Any] = [tuple(getattr(stored, c) for c in Checkin.__table__.columns.keys())]
        rows += [(a.before, a.after) for a in uow.session.scalars(select(AuditEntry))]
        rows += [(r.response_body,) for r in uow.session.scalars(select(IdempotencyRecord))]
    assert token not in repr(rows)


def test_the_list_says_created_expires_used_and_revoked(client, booking, clinic, clock,
                                                        uow_factory):
    plan = make_plan(client, booking, clinic.id)
    used = ok(create(client, booking, plan["id"]), 201)
    revoked = ok(create(client, booking, plan["id"]), 201)
    expired = ok(create(client, booking, plan["id"], expires_in_hours=1), 201)
    fresh = ok(create(client, booking, plan["id"]), 201)
    checkins.submit_checkin(uow_factory(), token_of(used["url"]), {"pain": "5"},
                            now=clock.advance(minutes=30))
    assert client.delete(f"{API}/checkins/{revoked['id']}", headers=booking).status_code == 204
    clock.advance(hours=1)
    items = ok(client.get(f"{API}/plans/{plan['id']}/checkins", headers=booking))["items"]
    by_id = {item["id"]: item for item in items}
    assert {i: by_id[i]["state"] for i in by_id} == {
        used["id"]: "used", revoked["id"]: "revoked", expired["id"]: "expired",
        fresh["id"]: "open"}
    assert by_id[used["id"]]["used_at"] == "2026-11-02T18:00:00+00:00"
    assert by_id[used["id"]]["report_id"].startswith("rpt_")
    assert by_id[revoked["id"]]["revoked_at"] == "2026-11-02T18:00:00+00:00"
    assert by_id[fresh["id"]]["created_at"] == T0.isoformat()
    assert "url" not in by_id[fresh["id"]]


def test_a_revoked_link_cannot_be_revoked_again(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    made = ok(create(client, booking, plan["id"]), 201)
    assert client.delete(f"{API}/checkins/{made['id']}", headers=booking).status_code == 204
    problem(client.delete(f"{API}/checkins/{made['id']}", headers=booking), 404)
    problem(client.delete(f"{API}/checkins/chk_{'0' * 20}", headers=booking), 404)


def test_another_clinics_plan_and_links_are_404(client, booking, other_booking, other_clinic,
                                                problem):
    theirs = make_plan(client, other_booking, other_clinic.id)
    made = ok(create(client, other_booking, theirs["id"]), 201)
    problem(create(client, booking, theirs["id"]), 404)
    problem(client.get(f"{API}/plans/{theirs['id']}/checkins", headers=booking), 404)
    problem(client.delete(f"{API}/checkins/{made['id']}", headers=booking), 404)
    state = ok(client.get(f"{API}/plans/{theirs['id']}/checkins", headers=other_booking))
    assert [item["state"] for item in state["items"]] == ["open"]


def test_booking_front_desk_and_physiotherapist_keys_make_links_others_cannot(
        client, booking, front_desk, physio, admin, make_headers, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    for headers in (booking, front_desk, physio):
        made = ok(create(client, headers, plan["id"]), 201)
        assert client.delete(f"{API}/checkins/{made['id']}", headers=headers).status_code == 204
        ok(client.get(f"{API}/plans/{plan['id']}/checkins", headers=headers))
    made = ok(create(client, booking, plan["id"]), 201)
    for headers in (admin, make_headers("monitoring")):
        problem(create(client, headers, plan["id"]), 403)
        problem(client.delete(f"{API}/checkins/{made['id']}", headers=headers), 403)


def test_a_discharged_plan_gets_no_link(client, booking, physio, clinic, problem):
    from tests.api.plan_support import act

    plan = make_plan(client, booking, clinic.id)
    ok(act(client, physio, plan["id"], {"action": "discharge", "reason": "done"}))
    problem(create(client, booking, plan["id"]), 409)
