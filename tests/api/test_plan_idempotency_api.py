"""Idempotency-Key on the plan POSTs: a replay returns the first response with
`Idempotent-Replayed: true` and stores nothing more; the same key with another body is a 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Plan
from tests.api.plan_support import (
    API,
    iso,
    make_patient,
    make_plan,
    plan_body,
    report_body,
    visit_body,
)
from tests.builders import footprint

Post = Callable[[Any, dict[str, str], str, int], Any]

PLAN_POSTS: dict[str, Post] = {
    "report": lambda c, h, pid, n: c.post(f"{API}/plans/{pid}/reports", headers=h,
                                          json=report_body(iso(hours=-1), pain=n)),
    "visit": lambda c, h, pid, n: c.post(f"{API}/plans/{pid}/visits", headers=h,
                                         json=visit_body(f"V{n}", starts_at=iso(2))),
    "action": lambda c, h, pid, n: c.post(f"{API}/plans/{pid}/actions",
                                          headers={**h, "If-Match": "*"},
                                          json={"action": "hold", "reason": f"r{n}"}),
    "contact": lambda c, h, pid, n: c.post(f"{API}/plans/{pid}/contacts", headers=h,
                                           json={"channel": "sms", "outcome": "left_message",
                                                 "note": f"n{n}",  # a snooze: a new version
                                                 "snooze_until": f"2026-11-{n:02}"}),
}


def keyed(headers: dict[str, str], key: str = "idem-1") -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def count_plans(uow: Any) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(Plan))


def test_a_replayed_plan_creation_returns_the_first_plan_and_creates_no_second(
        client, booking, clinic, uow):
    patient = make_patient(client, booking, clinic.id)
    first = client.post(f"{API}/plans", headers=keyed(booking), json=plan_body(patient["id"]))
    again = client.post(f"{API}/plans", headers=keyed(booking), json=plan_body(patient["id"]))
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert count_plans(uow) == 1


def test_the_same_key_for_another_plan_body_is_422_and_creates_nothing(client, booking, clinic,
                                                                       problem, uow):
    first = make_patient(client, booking, clinic.id, "MRN-1")
    second = make_patient(client, booking, clinic.id, "MRN-2")
    client.post(f"{API}/plans", headers=keyed(booking), json=plan_body(first["id"]))
    body = problem(client.post(f"{API}/plans", headers=keyed(booking),
                               json=plan_body(second["id"])), 422)
    assert "Idempotency-Key" in body["errors"]
    assert count_plans(uow) == 1


@pytest.mark.parametrize("kind", list(PLAN_POSTS))
def test_a_replay_returns_the_first_response_and_stores_nothing_more(client, booking, clinic, uow,
                                                                     clock, kind):
    plan = make_plan(client, booking, clinic.id)
    first = PLAN_POSTS[kind](client, keyed(booking), plan["id"], 5)
    assert first.status_code in (200, 201), first.get_data(as_text=True)
    after_first = footprint(uow, plan["id"])
    clock.advance(minutes=10)
    again = PLAN_POSTS[kind](client, keyed(booking), plan["id"], 5)
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert footprint(uow, plan["id"]) == after_first


@pytest.mark.parametrize("kind", list(PLAN_POSTS))
def test_the_same_key_with_another_body_is_422_and_stores_nothing(client, booking, clinic, uow,
                                                                  problem, kind):
    plan = make_plan(client, booking, clinic.id)
    PLAN_POSTS[kind](client, keyed(booking), plan["id"], 5)
    after_first = footprint(uow, plan["id"])
    body = problem(PLAN_POSTS[kind](client, keyed(booking), plan["id"], 4), 422)
    assert "Idempotency-Key" in body["errors"]
    assert footprint(uow, plan["id"]) == after_first


@pytest.mark.parametrize("kind", list(PLAN_POSTS))
def test_the_same_key_on_another_plan_is_422(client, booking, clinic, uow, problem, kind):
    first = make_plan(client, booking, clinic.id, "MRN-1")
    second = make_plan(client, booking, clinic.id, "MRN-2")
    PLAN_POSTS[kind](client, keyed(booking), first["id"], 5)
    before = footprint(uow, second["id"])
    problem(PLAN_POSTS[kind](client, keyed(booking), second["id"], 5), 422)
    assert footprint(uow, second["id"]) == before


@pytest.mark.parametrize("kind", list(PLAN_POSTS))
def test_another_key_is_a_new_request(client, booking, clinic, uow, kind):
    plan = make_plan(client, booking, clinic.id)
    PLAN_POSTS[kind](client, keyed(booking, "a"), plan["id"], 5)
    version = footprint(uow, plan["id"])["version"]
    second = PLAN_POSTS[kind](client, keyed(booking, "b"), plan["id"], 6)
    assert "Idempotent-Replayed" not in second.headers
    assert footprint(uow, plan["id"])["version"] == version + 1


def test_another_client_with_the_same_key_is_not_replayed(client, booking, physio, clinic, uow):
    plan = make_plan(client, booking, clinic.id)
    PLAN_POSTS["report"](client, keyed(booking), plan["id"], 5)
    second = PLAN_POSTS["report"](client, keyed(physio), plan["id"], 5)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert footprint(uow, plan["id"])["reports"] == 2


def test_a_replayed_action_does_not_fail_on_its_own_version_change(client, booking, clinic, uow):
    plan = make_plan(client, booking, clinic.id)
    headers = {**keyed(booking), "If-Match": f'"{plan["version"]}"'}
    body = {"action": "hold", "reason": "imaging"}
    first = client.post(f"{API}/plans/{plan['id']}/actions", headers=headers, json=body)
    again = client.post(f"{API}/plans/{plan['id']}/actions", headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert footprint(uow, plan["id"])["decisions"] == 3


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_bad_key_is_422_and_stores_nothing(client, booking, clinic, uow, problem, key):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    problem(PLAN_POSTS["report"](client, keyed(booking, key), plan["id"], 5), 422)
    assert footprint(uow, plan["id"]) == before
