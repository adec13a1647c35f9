"""Authorization caps and cancellation reasons over HTTP (rules.md 21-23, api.md 'Authorization
caps and cancellation reasons'): bad input changes nothing, the plan shows what is used and
left, the webhook fires once per crossing, and cancellations reach the right worklist."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.plan_support import API, act, iso, make_plan, ok, plan_body, visit_body
from tests.builders import count_events, footprint, outbox

CAP = {"payer": "Pacific Blue Cross", "visits_allowed": 4, "valid_until": "2027-01-31",
       "count_no_shows": False}


def attend(client: Any, headers: Any, plan_id: str, n: int, days: float) -> Any:
    return ok(client.post(f"{API}/plans/{plan_id}/visits", headers=headers, json=visit_body(
        f"A-{n}", "attended", iso(days))), 201)


def plan_of(client: Any, headers: Any, plan_id: str) -> Any:
    return ok(client.get(f"{API}/plans/{plan_id}", headers=headers))


# -- authorization --------------------------------------------------------------------------------
def test_a_plan_created_with_an_authorization_shows_what_is_used_and_left(client, booking,
                                                                         clinic, clock):
    plan = make_plan(client, booking, clinic.id, authorization=CAP)
    assert plan["authorization"] == {**CAP, "visits_used": 0, "visits_left": 4}
    clock.advance(days=1)
    attend(client, booking, plan["id"], 1, 1)
    assert plan_of(client, booking, plan["id"])["authorization"]["visits_left"] == 3


@pytest.mark.parametrize(("authorization", "field"), [
    pytest.param({**CAP, "visits_allowed": 0}, "authorization.visits_allowed", id="zero"),
    pytest.param({**CAP, "visits_allowed": 201}, "authorization.visits_allowed", id="over-200"),
    pytest.param({**CAP, "visits_allowed": "4"}, "authorization.visits_allowed", id="text"),
    pytest.param({k: v for k, v in CAP.items() if k != "count_no_shows"},
                 "authorization.count_no_shows", id="count-no-shows-missing"),
    pytest.param({**CAP, "count_no_shows": "yes"}, "authorization.count_no_shows", id="yes"),
    pytest.param({**CAP, "valid_until": "31/01/2027"}, "authorization.valid_until",
                 id="not-a-date"),
    pytest.param({**CAP, "payer": "x" * 201}, "authorization.payer", id="payer-too-long"),
    pytest.param({**CAP, "copay": 20}, "authorization.copay", id="unknown-field"),
])
def test_a_bad_authorization_on_a_new_plan_is_a_422_naming_the_field(
        client, booking, clinic, problem, authorization, field):
    patient = ok(client.post(f"{API}/patients", headers=booking,
                             json={"clinic_id": clinic.id, "external_id": "MRN-9"}), 201)
    response = client.post(f"{API}/plans", headers=booking,
                           json=plan_body(patient["id"], authorization=authorization))
    assert field in problem(response, 422)["errors"]
    listed = ok(client.get(f"{API}/plans?patient_id={patient['id']}", headers=booking))
    assert listed["items"] == []


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"action": "set_authorization", "reason": "payer"}, "authorization",
                 id="set-without-authorization"),
    pytest.param({"action": "set_authorization", "authorization": CAP}, "reason",
                 id="set-without-reason"),
    pytest.param({"action": "set_authorization", "authorization": {**CAP, "visits_allowed": -1},
                  "reason": "payer"}, "authorization.visits_allowed", id="negative-visits"),
    pytest.param({"action": "clear_authorization", "reason": "x", "authorization": CAP},
                 "authorization", id="clear-with-an-authorization"),
])
def test_a_bad_authorization_action_is_a_422_and_changes_nothing(client, physio, booking,
                                                                 clinic, problem, uow, body,
                                                                 field):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    assert field in problem(act(client, physio, plan["id"], body), 422)["errors"]
    assert footprint(uow, plan["id"]) == before


def test_set_then_clear_authorization_through_actions(client, physio, booking, clinic, uow):
    plan = make_plan(client, booking, clinic.id)
    result = ok(act(client, physio, plan["id"], {"action": "set_authorization",
                                                 "authorization": CAP, "reason": "approved"}))
    assert result["authorization"]["visits_left"] == 4
    assert "authorization.set" in [e["rule"] for e in result["decision"]["explanations"]]
    cleared = ok(act(client, physio, plan["id"], {"action": "clear_authorization",
                                                  "reason": "pays privately"}))
    assert cleared["authorization"] is None


def test_the_low_webhook_fires_once_per_crossing(client, physio, booking, clinic, clock,
                                                 uow_factory):
    plan = make_plan(client, booking, clinic.id, authorization={**CAP, "valid_until": None})
    for n in range(1, 5):  # 4 allowed: low at 2 left (the 2nd visit), exhausted at the 4th
        clock.advance(days=4)
        attend(client, booking, plan["id"], n, 4 * n)
    low = [e for e in outbox(uow_factory, plan["id"]) if e.type == "plan.authorization_low"]
    assert len(low) == 1 and low[0].payload["exhausted"] is False
    shown = plan_of(client, booking, plan["id"])
    assert {"authorization_low", "authorization_exhausted"} <= set(shown["flags"])
    assert shown["frequency"]["frequency"] >= 1  # a cap never changes the frequency
    # a new authorization lifts the flags; running low again is a second crossing
    ok(act(client, physio, plan["id"], {"action": "set_authorization", "reason": "renewed",
                                        "authorization": {**CAP, "visits_allowed": 3,
                                                          "valid_until": None}}))
    assert count_events(uow_factory, "plan.authorization_low") == 1
    clock.advance(days=4)
    attend(client, booking, plan["id"], 5, 20)
    assert count_events(uow_factory, "plan.authorization_low") == 2


def test_the_worklist_items_carry_the_authorization_flags(client, booking, clinic):
    make_plan(client, booking, clinic.id, authorization={**CAP, "visits_allowed": 1})
    page = ok(client.get(f"{API}/followups?clinic_id={clinic.id}", headers=booking))
    assert page["items"][0]["flags"] == ["authorization_low"]


def test_the_series_stops_at_the_authorized_visits(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id, authorization={**CAP, "visits_allowed": 3})
    items = ok(client.get(f"{API}/plans/{plan['id']}/schedule?count=10",
                          headers=booking))["items"]
    assert len(items) == 3


# -- cancellation reasons -------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"cancellation_reason": "bored", "status": "cancelled"}, "cancellation_reason",
                 id="unknown-reason"),
    pytest.param({"cancellation_reason": "sick", "status": "attended"}, "cancellation_reason",
                 id="reason-on-an-attended-visit"),
    pytest.param({"cancellation_reason": "sick", "status": "booked"}, "cancellation_reason",
                 id="reason-on-a-booking"),
    pytest.param({"needs_reschedule": False, "status": "no_show"}, "needs_reschedule",
                 id="reschedule-on-a-no-show"),
    pytest.param({"needs_reschedule": "no", "status": "cancelled"}, "needs_reschedule",
                 id="reschedule-not-a-boolean"),
])
def test_a_bad_cancellation_is_a_422_naming_the_field(client, booking, clinic, problem, uow,
                                                     body, field):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    response = client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                           json={**visit_body("C-1", starts_at=iso(-1)), **body})
    assert field in problem(response, 422)["errors"]
    assert footprint(uow, plan["id"]) == before
    booked = ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                            json=visit_body("C-2", "booked", iso(2))), 201)
    patched = client.patch(f"{API}/visits/{booked['id']}", headers=booking, json=body)
    assert field in problem(patched, 422)["errors"]


def test_condition_worse_puts_a_review_on_the_physiotherapists_list(client, booking, physio,
                                                                    clinic, uow_factory):
    plan = make_plan(client, booking, clinic.id)
    other = make_plan(client, booking, clinic.id, "MRN-2")
    booked = ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                            json=visit_body("B-1", "booked", iso(2))), 201)
    visit = ok(client.patch(f"{API}/visits/{booked['id']}", headers=booking,
                            json={"status": "cancelled", "cancellation_reason": "condition_worse"}))
    assert (visit["cancellation_reason"], visit["needs_reschedule"]) == ("condition_worse", True)
    reviews = ok(client.get(f"{API}/followups?clinic_id={clinic.id}&flag=review_suggested",
                            headers=physio))
    assert [i["plan_id"] for i in reviews["items"]] == [plan["id"]]
    assert other["id"] not in [i["plan_id"] for i in reviews["items"]]
    shown = plan_of(client, physio, plan["id"])
    assert shown["status"] == "active" and "review_suggested" in shown["flags"]
    (event,) = [e for e in outbox(uow_factory, plan["id"]) if e.type == "plan.review_required"]
    assert event.payload["new_reasons"] == ["patient_reported_worse"]
    trail = ok(client.get(f"{API}/plans/{plan['id']}/decisions", headers=physio))["items"]
    assert "condition is worse" in [e for e in trail[0]["explanations"]
                                    if e["rule"] == "visit.cancelled_reason"][0]["text"]
    audit = ok(client.get(f"{API}/audit?plan_id={plan['id']}", headers=physio))["items"]
    (entry,) = [a for a in audit if a["action"] == "visit.cancelled"]
    assert entry["after"]["cancellation_reason"] == "condition_worse"


def test_no_reschedule_leaves_the_plan_off_the_worklist_until_the_latest_day(client, booking,
                                                                            clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking, json={
        **visit_body("C-1", "cancelled", iso(1)), "needs_reschedule": False}), 201)
    shown = plan_of(client, booking, plan["id"])
    latest = shown["next_visit"]["latest"]
    assert shown["next_visit"]["snoozed_until"] == latest
    empty = ok(client.get(f"{API}/followups?clinic_id={clinic.id}", headers=booking))
    assert empty["items"] == []
    snoozed = ok(client.get(f"{API}/followups?clinic_id={clinic.id}&include_snoozed=true",
                            headers=booking))
    assert [i["snoozed_until"] for i in snoozed["items"]] == [latest]
    after = ok(client.get(f"{API}/followups?clinic_id={clinic.id}&on=2026-12-31",
                          headers=booking))
    assert [i["plan_id"] for i in after["items"]] == [plan["id"]]
