"""Idempotency under faults: an error at each point of a keyed POST, then a retry with the
same key, leaves exactly one report, one decision and one outbox event (SQLite and, with
TEST_DATABASE_URL, PostgreSQL). On the code before the atomic request the faults after the
view's commit left the report stored and the key free, so the retry stored a second one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api import context
from scheduler.services import reports
from tests.api.plan_support import API, iso, make_plan, report_body
from tests.builders import footprint, outbox

KEY = {"Idempotency-Key": "rpt-fault-1"}


class Injected(RuntimeError):
    """The fault a test injects."""


def fail_on_commit(monkeypatch: pytest.MonkeyPatch, number: int, *, after: bool) -> None:
    """The request's `number`-th unit-of-work commit (1 the key's claim, 2 the view's change,
    3 the stored response) raises, before or after doing its work. Once."""
    original = context._RequestUnitOfWork.commit
    calls = {"n": 0, "fired": False}

    def commit(self: Any) -> None:
        calls["n"] += 1
        fire = calls["n"] == number and not calls["fired"]
        if fire and not after:
            calls["fired"] = True
            raise Injected(f"before commit {number}")
        original(self)
        if fire:
            calls["fired"] = True
            raise Injected(f"after commit {number}")

    monkeypatch.setattr(context._RequestUnitOfWork, "commit", commit)


def fail_building_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan view of the report's response (built after the service's commit) raises once."""
    original = reports.plan_view
    fired = {"done": False}

    def plan_view(*args: Any, **kwargs: Any) -> Any:
        if not fired["done"]:
            fired["done"] = True
            raise Injected("response")
        return original(*args, **kwargs)

    monkeypatch.setattr(reports, "plan_view", plan_view)


FAULTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "before-the-change-commits": lambda mp: fail_on_commit(mp, 2, after=False),
    "after-the-change-commits": lambda mp: fail_on_commit(mp, 2, after=True),
    "while-building-the-response": fail_building_the_response,
    "before-the-response-is-stored": lambda mp: fail_on_commit(mp, 3, after=False),
    "after-the-response-is-stored": lambda mp: fail_on_commit(mp, 3, after=True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_then_a_retry_stores_one_report_one_decision_one_event(
        app, client, booking, clinic, uow, uow_factory, monkeypatch, fault) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an error in after_request: a 500, as served
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    events_before = len(outbox(uow_factory, plan["id"]))
    body = report_body(iso(hours=-1), pain=5)
    FAULTS[fault](monkeypatch)
    failed = client.post(f"{API}/plans/{plan['id']}/reports", headers={**booking, **KEY},
                         json=body)
    assert failed.status_code == 500, failed.get_data(as_text=True)
    retry = client.post(f"{API}/plans/{plan['id']}/reports", headers={**booking, **KEY},
                        json=body)
    assert retry.status_code == 201, retry.get_data(as_text=True)
    after = footprint(uow, plan["id"])
    assert after["reports"] == before["reports"] + 1
    assert after["decisions"] == before["decisions"] + 1
    assert len(outbox(uow_factory, plan["id"])) == events_before + 1
    third = client.post(f"{API}/plans/{plan['id']}/reports", headers={**booking, **KEY},
                        json=body)
    assert third.headers["Idempotent-Replayed"] == "true"
    assert third.get_json() == retry.get_json()
    assert footprint(uow, plan["id"]) == after


def test_a_fault_after_the_change_commits_frees_the_key_with_nothing_stored(
        client, booking, clinic, uow, monkeypatch) -> None:
    """The finding: a 500 after the view's commit kept the report and released the key."""
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    fail_on_commit(monkeypatch, 2, after=True)
    failed = client.post(f"{API}/plans/{plan['id']}/reports", headers={**booking, **KEY},
                         json=report_body(iso(hours=-1), pain=5))
    assert failed.status_code == 500
    assert footprint(uow, plan["id"]) == before  # the change went with the 500


@pytest.mark.parametrize("header", ['"rpt-q-1"', "rpt-q-1", '  "rpt-q-1"  '])
def test_a_quoted_key_is_the_same_key_as_the_bare_one(client, booking, clinic, uow,
                                                      header) -> None:
    plan = make_plan(client, booking, clinic.id)
    body = report_body(iso(hours=-1), pain=5)
    first = client.post(f"{API}/plans/{plan['id']}/reports",
                        headers={**booking, "Idempotency-Key": "rpt-q-1"}, json=body)
    again = client.post(f"{API}/plans/{plan['id']}/reports",
                        headers={**booking, "Idempotency-Key": header}, json=body)
    assert first.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true", again.get_data(as_text=True)
    assert footprint(uow, plan["id"])["reports"] == 1


def test_a_quoted_key_with_escapes_is_its_unescaped_value(client, booking, clinic) -> None:
    plan = make_plan(client, booking, clinic.id)
    body = report_body(iso(hours=-1), pain=5)
    first = client.post(f"{API}/plans/{plan['id']}/reports",
                        headers={**booking, "Idempotency-Key": r'"a\"b\\c"'}, json=body)
    again = client.post(f"{API}/plans/{plan['id']}/reports",
                        headers={**booking, "Idempotency-Key": 'a"b\\c'}, json=body)
    assert first.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"


@pytest.mark.parametrize("header", ['""', '"a\\x"', '"a"b"', '"\\"'])
def test_a_malformed_quoted_key_is_422_naming_the_header(client, booking, clinic, uow,
                                                         problem, header) -> None:
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    body = problem(client.post(f"{API}/plans/{plan['id']}/reports",
                               headers={**booking, "Idempotency-Key": header},
                               json=report_body(iso(hours=-1), pain=5)), 422)
    assert "Idempotency-Key" in body["errors"]
    assert footprint(uow, plan["id"]) == before
