"""GET next-visit, schedule and decisions of a plan, and the shape and errors of /followups."""

from __future__ import annotations

import pytest

from tests.api.plan_support import API, act, iso, make_plan, ok, report_body

DECISION_KEYS = {"id", "at", "trigger", "ruleset", "phase_before", "phase_after",
                 "frequency_before", "frequency_after", "status_after", "explanations"}


def test_the_next_visit_is_a_window_with_reasons(client, booking, front_desk, clinic):
    plan = make_plan(client, booking, clinic.id)
    window = ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=front_desk))
    assert {"kind", "earliest", "target", "latest", "state", "extended", "reasons"} <= set(window)
    assert (window["kind"], window["state"]) == ("needling", "due")
    assert window["earliest"] <= window["target"] <= window["latest"]
    assert window == plan["next_visit"]
    assert {"rule", "text", "inputs"} <= set(window["reasons"][0])


def test_a_discharged_plan_proposes_nothing(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "done"}))
    window = ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking))
    assert (window["kind"], window["state"], window["target"]) == (None, "none", None)


def test_the_schedule_lists_six_open_days_by_default_and_count_on_request(client, booking,
                                                                          clinic):
    plan = make_plan(client, booking, clinic.id)
    items = ok(client.get(f"{API}/plans/{plan['id']}/schedule", headers=booking))["items"]
    assert len(items) == 6
    assert all(set(i) == {"target", "earliest", "latest"} for i in items)
    assert all(i["earliest"] <= i["target"] <= i["latest"] for i in items)
    assert [i["target"] for i in items] == sorted(i["target"] for i in items)
    three = ok(client.get(f"{API}/plans/{plan['id']}/schedule?count=3", headers=booking))
    assert three["items"] == items[:3]


@pytest.mark.parametrize("query", ["count=0", "count=53", "count=x", "count=2&limit=1"])
def test_an_invalid_schedule_query_is_422(client, booking, clinic, problem, query):
    plan = make_plan(client, booking, clinic.id)
    problem(client.get(f"{API}/plans/{plan['id']}/schedule?{query}", headers=booking), 422)


def test_decisions_are_newest_first_with_their_explanations(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=3)
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                   json=report_body(clock().isoformat(), 4)), 201)
    trail = ok(client.get(f"{API}/plans/{plan['id']}/decisions", headers=booking))
    assert trail["next_cursor"] is None
    items = trail["items"]
    assert [d["trigger"] for d in items][0] == "report"
    assert [d["seq"] for d in items] == [2, 1, 0]
    assert all(DECISION_KEYS <= set(d) for d in items)
    assert items[0]["phase_before"] == "initial" and items[0]["explanations"][0]["rule"]
    assert items[-1]["explanations"][0]["rule"] == "initial.start"


def test_decisions_page_one_at_a_time_without_gaps(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    for pain in (7, 6, 5):
        clock.advance(days=2)
        ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                       json=report_body(clock().isoformat(), pain)), 201)
    seen, cursor = [], ""
    while True:
        page = ok(client.get(f"{API}/plans/{plan['id']}/decisions?limit=1{cursor}",
                             headers=booking))
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["seq"])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [4, 3, 2, 1, 0]


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=%21%21", "cursor=WyJhIl0",
                                   "order=asc"])
def test_an_invalid_decisions_query_is_422(client, booking, clinic, problem, query):
    plan = make_plan(client, booking, clinic.id)
    problem(client.get(f"{API}/plans/{plan['id']}/decisions?{query}", headers=booking), 422)


@pytest.mark.parametrize("path", ["next-visit", "schedule", "decisions"])
def test_proposals_of_an_unknown_plan_are_404(client, booking, problem, path):
    problem(client.get(f"{API}/plans/pln_nope/{path}", headers=booking), 404)


@pytest.mark.parametrize("path", ["plans/pln_x/next-visit", "plans/pln_x/schedule",
                                  "plans/pln_x/decisions", "followups?clinic_id=cln_x"])
def test_proposals_without_a_key_are_401(client, problem, path):
    response = client.get(f"{API}/{path}")
    problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_followup_item_names_the_plan_patient_phase_and_window(client, booking, front_desk,
                                                                 clinic):
    plan = make_plan(client, booking, clinic.id, "MRN-42")
    page = ok(client.get(f"{API}/followups?clinic_id={clinic.id}", headers=front_desk))
    assert page["next_cursor"] is None
    (item,) = page["items"]
    assert item == {"plan_id": plan["id"], "patient_id": plan["patient_id"],
                    "patient_external_id": "MRN-42", "phase": "initial", "status": "active",
                    "flags": [], "snoozed_until": None,
                    "on": "2026-11-02", "last_contact": None, "contact_attempts": 0,
                    "window": {k: plan["next_visit"][k]
                               for k in ("kind", "earliest", "target", "latest", "state")}}


def test_discharged_plans_are_not_followed_up(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "done"}))
    assert ok(client.get(f"{API}/followups?clinic_id={clinic.id}", headers=booking))[
        "items"] == []


TAMPERED = "WyJhIiwiYiIsImMiXQ"  # ["a", "b", "c"]: the right length, the wrong types


@pytest.mark.parametrize("query", ["", "clinic_id={c}&state=late", "clinic_id={c}&on=2026-13-01",
                                   "clinic_id={c}&on=tomorrow", "clinic_id={c}&limit=0",
                                   "clinic_id={c}&cursor=%21", f"clinic_id={{c}}&cursor={TAMPERED}",
                                   "clinic_id={c}&colour=red"])
def test_an_invalid_followups_query_is_422(client, booking, clinic, problem, query):
    problem(client.get(f"{API}/followups?{query.format(c=clinic.id)}", headers=booking), 422)


def test_followups_of_an_unknown_clinic_are_404(client, booking, problem):
    problem(client.get(f"{API}/followups?clinic_id=cln_nope", headers=booking), 404)


def test_the_window_reflects_a_late_report_immediately(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=5)
    result = ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                            json=report_body(iso(1), 3)), 201)
    window = ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking))
    assert window == result["plan"]["next_visit"]
