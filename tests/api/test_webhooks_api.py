"""/api/v1/webhooks: subscribe (secret once), list, delete, deliveries; roles, tenancy, input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from scheduler.webhooks.delivery import RETRY_DELAYS
from scheduler.webhooks.health import JITTER
from tests import builders
from tests.builders import UowFactory
from tests.integration.webhook_support import deliver

API = "/api/v1/webhooks"
URL = "https://booking.example/hooks/cadence"


def subscribe(client, headers, clinic, **overrides: Any):  # type: ignore[no-untyped-def]
    body = {"clinic_id": clinic, "url": URL, "events": ["plan.created", "plan.status_changed"]}
    return client.post(API, headers=headers, json={**body, **overrides})


def make_plan(uow_factory: UowFactory, clinic_id: str, now: Any) -> str:
    """A plan without consent: its plan.created event goes to the clinic's subscriptions."""
    return builders.plan(uow_factory, now, clinic_id, "MRN-9", condition="Neck pain",
                         onset_date=date(2026, 9, 1), baseline={"pain": 5}, consent=None).id


def test_the_booking_system_subscribes_and_sees_the_secret_once(client, booking, clinic) -> None:
    response = subscribe(client, booking, clinic.id)
    assert response.status_code == 201
    created = response.get_json()
    assert created["id"].startswith("whk_") and created["secret"].startswith("whsec_")
    assert created["events"] == ["plan.created", "plan.status_changed"]
    assert response.headers["Location"] == f"{API}/{created['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    listed = client.get(API, headers=booking).get_json()
    assert listed["items"] == [{k: v for k, v in created.items() if k != "secret"}]
    assert created["secret"] not in client.get(API, headers=booking).get_data(as_text=True)


def test_the_secret_stays_out_of_the_audit_trail(client, booking, admin, clinic) -> None:
    secret = subscribe(client, booking, clinic.id).get_json()["secret"]
    audit = client.get(f"/api/v1/audit?clinic_id={clinic.id}", headers=admin)
    assert audit.status_code == 200 and "webhook.created" in audit.get_data(as_text=True)
    assert secret not in audit.get_data(as_text=True)


def test_an_admin_subscribes_for_any_clinic(client, admin, other_clinic) -> None:
    assert subscribe(client, admin, other_clinic.id).status_code == 201


@pytest.mark.parametrize("role", ["physio", "front_desk"])
def test_other_roles_may_not_touch_webhooks(client, request, clinic, booking, role,
                                            problem) -> None:
    headers = request.getfixturevalue(role)
    hook = subscribe(client, booking, clinic.id).get_json()
    problem(subscribe(client, headers, clinic.id), 403)
    problem(client.get(API, headers=headers), 403)
    problem(client.delete(f"{API}/{hook['id']}", headers=headers), 403)
    problem(client.get(f"{API}/{hook['id']}/deliveries", headers=headers), 403)


def test_another_clinics_webhook_does_not_exist(client, booking, other_booking, other_clinic,
                                                problem) -> None:
    theirs = subscribe(client, other_booking, other_clinic.id).get_json()
    assert client.get(API, headers=booking).get_json()["items"] == []
    problem(client.delete(f"{API}/{theirs['id']}", headers=booking), 404)
    problem(client.get(f"{API}/{theirs['id']}/deliveries", headers=booking), 404)
    body = problem(subscribe(client, booking, other_clinic.id), 422)
    assert body["errors"] == {"clinic_id": ["Unknown clinic."]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"url": "ftp://booking.example/hooks"}, "url", id="ftp-scheme"),
        pytest.param({"url": "file:///etc/passwd"}, "url", id="file-scheme"),
        pytest.param({"url": "javascript:alert(1)"}, "url", id="javascript-scheme"),
        pytest.param({"url": "booking.example/hooks"}, "url", id="no-scheme"),
        pytest.param({"url": "https://user:pw@booking.example/"}, "url", id="credentials"),
        pytest.param({"url": "https://" + "a" * 2050 + ".example/"}, "url", id="too-long"),
        pytest.param({"events": ["plan.exploded"]}, "events.0", id="unknown-event-type"),
        pytest.param({"events": []}, "events", id="no-events"),
        pytest.param({"events": "plan.created"}, "events", id="events-not-a-list"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"clinic_id": None}, "clinic_id", id="null-clinic"),
    ],
)
def test_invalid_subscriptions_are_422(client, booking, clinic, problem, overrides,
                                       field) -> None:
    body = problem(subscribe(client, booking, clinic.id, **overrides), 422)
    assert field in body["errors"]
    assert client.get(API, headers=booking).get_json()["items"] == []


def test_a_local_http_receiver_is_accepted(client, booking, clinic) -> None:
    response = subscribe(client, booking, clinic.id, url="http://127.0.0.1:8080/hooks?x=1")
    assert response.status_code == 201


def test_deleting_unsubscribes_at_once(client, booking, clinic, problem) -> None:
    hook = subscribe(client, booking, clinic.id).get_json()
    assert client.delete(f"{API}/{hook['id']}", headers=booking).status_code == 204
    assert client.get(API, headers=booking).get_json()["items"] == []
    problem(client.get(f"{API}/{hook['id']}/deliveries", headers=booking), 404)
    problem(client.delete(f"{API}/{hook['id']}", headers=booking), 404)


def test_deliveries_show_attempts_status_codes_and_the_next_retry(
        client, booking, clinic, uow_factory, clock) -> None:
    hook = subscribe(client, booking, clinic.id).get_json()
    make_plan(uow_factory, clinic.id, clock.now)
    [pending] = client.get(f"{API}/{hook['id']}/deliveries", headers=booking).get_json()["items"]
    assert (pending["status"], pending["attempts"], pending["event_type"]) == (
        "pending", 0, "plan.created")
    deliver(uow_factory, now=clock.now, send=lambda url, headers, body: 500)
    [retrying] = client.get(f"{API}/{hook['id']}/deliveries", headers=booking).get_json()["items"]
    assert (retrying["status"], retrying["attempts"], retrying["last_status_code"]) == (
        "pending", 1, 500)
    wait = datetime.fromisoformat(retrying["next_attempt_at"]) - clock.now
    assert RETRY_DELAYS[0] <= wait <= RETRY_DELAYS[0] * (1 + JITTER) + timedelta(seconds=5)
    assert retrying["last_error"] == "HTTP 500"
    failed = client.get(f"{API}/{hook['id']}/deliveries?status=failed", headers=booking)
    assert failed.get_json() == {"items": [], "next_cursor": None}


def test_a_finally_failed_delivery_stays_listed(client, booking, clinic, uow_factory,
                                                clock) -> None:
    hook = subscribe(client, booking, clinic.id).get_json()
    make_plan(uow_factory, clinic.id, clock.now)
    for _ in range(len(RETRY_DELAYS) + 1):
        deliver(uow_factory, now=clock.now, send=lambda url, headers, body: 503)
        [row] = client.get(f"{API}/{hook['id']}/deliveries", headers=booking).get_json()["items"]
        if row["next_attempt_at"]:  # the retry, jittered (later than the breaker's period)
            clock.now = datetime.fromisoformat(row["next_attempt_at"])
    [failed] = client.get(f"{API}/{hook['id']}/deliveries?status=failed",
                          headers=booking).get_json()["items"]
    assert failed["attempts"] == len(RETRY_DELAYS) + 1 and failed["next_attempt_at"] is None
    assert failed["last_status_code"] == 503


@pytest.mark.parametrize("query", ["status=lost", "limit=0", "cursor=%21", "colour=red"])
def test_an_invalid_deliveries_query_is_422(client, booking, clinic, problem, query) -> None:
    hook = subscribe(client, booking, clinic.id).get_json()
    problem(client.get(f"{API}/{hook['id']}/deliveries?{query}", headers=booking), 422)
