"""Tenant isolation: another clinic's booking key gets the very 404 an unknown id gets (no hint
that the object exists), changes nothing, and never sees the clinic's objects in a list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.plan_support import (
    API,
    iso,
    make_patient,
    make_plan,
    ok,
    plan_body,
    report_body,
    visit_body,
)
from tests.builders import footprint

Call = Callable[[Any, dict[str, str], dict[str, str]], Any]

BY_ID: dict[str, Call] = {
    "read-plan": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}", headers=h),
    "act": lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/actions",
                                  headers={**h, "If-Match": "*"},
                                  json={"action": "hold", "reason": "x"}),
    "act-with-old-tag": lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/actions",
                                               headers={**h, "If-Match": '"1"'},
                                               json={"action": "discharge", "reason": "x"}),
    "record-report": lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/reports", headers=h,
                                            json=report_body(iso(hours=-1))),
    "list-reports": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/reports", headers=h),
    "record-visit": lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/visits", headers=h,
                                           json=visit_body("V-new")),
    "record-visit-reusing-external-id": lambda c, h, w: c.post(
        f"{API}/plans/{w['plan']}/visits", headers=h, json=visit_body("V-old")),
    "list-visits": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/visits", headers=h),
    "patch-visit": lambda c, h, w: c.patch(f"{API}/visits/{w['visit']}", headers=h,
                                           json={"status": "cancelled"}),
    "next-visit": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/next-visit", headers=h),
    "schedule": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/schedule", headers=h),
    "decisions": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/decisions", headers=h),
    "followups": lambda c, h, w: c.get(f"{API}/followups?clinic_id={w['clinic']}", headers=h),
    "log-contact": lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/contacts", headers=h,
                                          json={"channel": "phone", "outcome": "do_not_contact",
                                                "snooze_until": "2026-11-03"}),
    "list-contacts": lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/contacts", headers=h),
    "read-patient": lambda c, h, w: c.get(f"{API}/patients/{w['patient']}", headers=h),
}
UNKNOWN = {"plan": "pln_00000000000000000000", "visit": "vis_00000000000000000000",
           "clinic": "cln_00000000000000000000", "patient": "pat_00000000000000000000"}


@pytest.fixture
def world(client, booking, clinic) -> dict[str, str]:
    plan = make_plan(client, booking, clinic.id, "MRN-1")
    visit = ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                           json=visit_body("V-old", starts_at=iso(2))), 201)
    return {"plan": plan["id"], "visit": visit["id"], "clinic": clinic.id,
            "patient": plan["patient_id"]}


@pytest.mark.parametrize("endpoint", list(BY_ID))
def test_another_clinics_key_gets_the_404_of_an_unknown_id_and_changes_nothing(
        client, other_booking, world, uow, problem, endpoint):
    before = footprint(uow, world["plan"])
    foreign = BY_ID[endpoint](client, other_booking, world)
    unknown = BY_ID[endpoint](client, other_booking, UNKNOWN)
    body = problem(foreign, 404)
    assert body == problem(unknown, 404)
    text = foreign.get_data(as_text=True)
    assert not any(value in text for value in world.values())
    assert footprint(uow, world["plan"]) == before


@pytest.mark.parametrize("endpoint", list(BY_ID))
def test_a_key_of_both_clinics_reaches_the_object(client, make_headers, clinic, other_clinic,
                                                  world, endpoint):
    both = make_headers("booking_system", other_clinic.id, clinic.id)
    # what the foreign key must not learn: a stale tag (412) or a taken external id (409)
    expected = {"act-with-old-tag": (412,), "record-visit-reusing-external-id": (409,)}
    assert BY_ID[endpoint](client, both, world).status_code in expected.get(endpoint, (200, 201))


def test_a_plan_for_another_clinics_patient_is_refused_like_an_unknown_patient(
        client, booking, other_booking, clinic, problem, uow):
    patient = make_patient(client, booking, clinic.id)
    same_id = {**other_booking, "X-Request-Id": "tenancy-check"}  # same `instance` in both
    foreign = client.post(f"{API}/plans", headers=same_id, json=plan_body(patient["id"]))
    unknown = client.post(f"{API}/plans", headers=same_id, json=plan_body(UNKNOWN["patient"]))
    assert foreign.status_code == unknown.status_code in (404, 422)
    assert foreign.get_json() == unknown.get_json()
    assert patient["id"] not in foreign.get_data(as_text=True)
    assert ok(client.get(f"{API}/plans", headers=booking))["items"] == []


def test_lists_never_show_another_clinics_plans(client, booking, other_booking, clinic,
                                                other_clinic):
    mine = make_plan(client, booking, clinic.id, "MRN-1")
    theirs = make_plan(client, other_booking, other_clinic.id, "MRN-1")
    assert [p["id"] for p in ok(client.get(f"{API}/plans", headers=booking))["items"]] == [
        mine["id"]]
    for query in (f"clinic_id={other_clinic.id}", f"patient_id={theirs['patient_id']}",
                  "status=active"):
        items = ok(client.get(f"{API}/plans?{query}", headers=other_booking))["items"]
        assert mine["id"] not in {p["id"] for p in items}, query
        items = ok(client.get(f"{API}/plans?{query}", headers=booking))["items"]
        assert theirs["id"] not in {p["id"] for p in items}, query


def test_a_duplicate_visit_id_of_another_clinic_gives_no_hint(client, booking, other_booking,
                                                              clinic, other_clinic, world):
    theirs = make_plan(client, other_booking, other_clinic.id, "MRN-9")
    response = client.post(f"{API}/plans/{theirs['id']}/visits", headers=other_booking,
                           json=visit_body("V-old"))
    assert response.status_code == 201 and world["visit"] not in response.get_data(as_text=True)


@pytest.mark.postgres
def test_another_clinics_plan_is_not_locked_nor_waited_for(client, booking, other_booking,
                                                           clinic, other_clinic, make_clinic,
                                                           make_headers, engine,
                                                           problem) -> None:
    """Its 404 comes at once even while the clinic itself holds the plan's row lock: the
    time taken must not tell that the plan exists, nor hold up the clinic's own writes."""
    plan = make_plan(client, booking, clinic.id)
    two_clinics = make_headers("booking_system", other_clinic.id, make_clinic(name="Third").id)
    with engine.connect() as holder:
        holder.execute(text("UPDATE plans SET version = version WHERE id = :p"),
                       {"p": plan["id"]})  # the clinic's row lock, for 3 s
        release = threading.Timer(3.0, holder.rollback)
        release.start()
        started = time.monotonic()
        try:
            for headers in (other_booking, two_clinics):
                for call in ("record-report", "record-visit", "act"):
                    problem(BY_ID[call](client, headers, {"plan": plan["id"]}), 404)
            elapsed = time.monotonic() - started
        finally:
            release.join()
    assert elapsed < 1.5, f"the 404s waited {elapsed:.1f} s for another clinic's row lock"
