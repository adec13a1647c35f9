"""Roles matrix of the plan, proposal, ruleset and audit endpoints: every endpoint x role is
either its success status or a 403, and a forbidden write changes nothing (api.md, Roles)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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

ROLES = ("admin", "booking_system", "physiotherapist", "front_desk")
READERS = {"booking_system", "physiotherapist", "front_desk"}
Call = Callable[[Any, dict[str, str], dict[str, Any]], Any]


def _ruleset(client: Any, headers: dict[str, str], world: dict[str, Any]) -> Any:
    body = {"name": "roles-test", "version": 1, "parameters": world["parameters"]}
    return client.post(f"{API}/rulesets", headers=headers, json=body)


# name: (call, success status, roles allowed, writes to the plan)
ENDPOINTS: dict[str, tuple[Call, int, set[str], bool]] = {
    "create-plan": (lambda c, h, w: c.post(f"{API}/plans", headers=h,
                                           json=plan_body(w["free_patient"])),
                    201, {"booking_system"}, False),
    "list-plans": (lambda c, h, w: c.get(f"{API}/plans", headers=h), 200, READERS, False),
    "read-plan": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}", headers=h), 200, READERS,
                  False),
    "act": (lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/actions",
                                   headers={**h, "If-Match": "*"},
                                   json={"action": "hold", "reason": "x"}),
            200, {"booking_system", "physiotherapist"}, True),
    "record-report": (lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/reports", headers=h,
                                             json=report_body(iso(hours=-1))),
                      201, {"booking_system", "physiotherapist"}, True),
    "list-reports": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/reports", headers=h),
                     200, READERS, False),
    "record-visit": (lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/visits", headers=h,
                                            json=visit_body("V-new")), 201, READERS, True),
    "list-visits": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/visits", headers=h),
                    200, READERS, False),
    "patch-visit": (lambda c, h, w: c.patch(f"{API}/visits/{w['visit']}", headers=h,
                                            json={"status": "cancelled"}), 200, READERS, True),
    "next-visit": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/next-visit", headers=h),
                   200, READERS, False),
    "schedule": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/schedule", headers=h),
                 200, READERS, False),
    "decisions": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/decisions", headers=h),
                  200, READERS, False),
    "followups": (lambda c, h, w: c.get(f"{API}/followups?clinic_id={w['clinic']}", headers=h),
                  200, READERS, False),
    "log-contact": (lambda c, h, w: c.post(f"{API}/plans/{w['plan']}/contacts", headers=h,
                                           json={"channel": "phone", "outcome": "reached",
                                                 "snooze_until": "2026-11-03"}),
                    201, READERS, True),
    "list-contacts": (lambda c, h, w: c.get(f"{API}/plans/{w['plan']}/contacts", headers=h),
                      200, READERS, False),
    "list-rulesets": (lambda c, h, w: c.get(f"{API}/rulesets", headers=h), 200, set(ROLES),
                      False),
    "read-ruleset": (lambda c, h, w: c.get(f"{API}/rulesets/ims-default@1", headers=h), 200,
                     set(ROLES), False),
    "add-ruleset": (_ruleset, 201, {"admin"}, False),
    "audit": (lambda c, h, w: c.get(f"{API}/audit", headers=h), 200,
              {"admin", "physiotherapist"}, False),
}
CASES = [(name, role) for name in ENDPOINTS for role in ROLES]


@pytest.fixture
def world(client, booking, clinic) -> dict[str, Any]:
    plan = make_plan(client, booking, clinic.id, "MRN-1")
    visit = ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                           json=visit_body("V-old", starts_at=iso(2))), 201)
    parameters = ok(client.get(f"{API}/rulesets/ims-default@1", headers=booking))["parameters"]
    return {"plan": plan["id"], "visit": visit["id"], "clinic": clinic.id,
            "free_patient": make_patient(client, booking, clinic.id, "MRN-2")["id"],
            "parameters": parameters}


@pytest.mark.parametrize(("endpoint", "role"), CASES, ids=[f"{e}-by-{r}" for e, r in CASES])
def test_each_role_may_call_exactly_its_endpoints(client, make_headers, clinic, world, uow,
                                                  problem, endpoint, role):
    call, success, allowed, writes = ENDPOINTS[endpoint]
    headers = make_headers(role) if role == "admin" else make_headers(role, clinic.id)
    before = footprint(uow, world["plan"])
    response = call(client, headers, world)
    if role in allowed:
        assert response.status_code == success, response.get_data(as_text=True)
    else:
        assert problem(response, 403)["type"].endswith(":forbidden")
    if role not in allowed or not writes:
        assert footprint(uow, world["plan"]) == before


@pytest.mark.parametrize("role", ["physiotherapist", "front_desk", "admin"])
def test_a_forbidden_role_gets_403_before_its_body_is_validated(client, make_headers, clinic,
                                                                problem, role):
    headers = make_headers(role) if role == "admin" else make_headers(role, clinic.id)
    problem(client.post(f"{API}/plans", headers=headers, json={"nonsense": True}), 403)


def test_a_forbidden_role_gets_403_even_for_an_unknown_plan(client, front_desk, problem):
    problem(client.post(f"{API}/plans/pln_nope/reports", headers=front_desk,
                        json=report_body()), 403)
