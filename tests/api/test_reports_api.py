"""POST and GET /plans/{id}/reports: the report + decision + plan shape, late reports, the
clock-skew tolerance, every validation error, 409 on a discharged plan, and no partial writes."""

from __future__ import annotations

import pytest

from tests.api.plan_support import (
    API,
    act,
    iso,
    make_plan,
    ok,
    report_body,
)
from tests.builders import footprint

REPORT_KEYS = {"id", "plan_id", "recorded_at", "pain", "function", "global_change",
               "soreness_hours", "adverse_event", "adverse_event_note", "notes", "created_at"}


def url(plan_id: str) -> str:
    return f"{API}/plans/{plan_id}/reports"


def test_a_report_answers_with_the_report_its_decision_and_the_plan(client, booking, clinic,
                                                                    uow):
    plan = make_plan(client, booking, clinic.id)
    body = report_body(iso(hours=-2), pain=6, function=5, global_change=2, soreness_hours=24,
                       adverse_event=True, adverse_event_note="bruise", notes="ok")
    result = ok(client.post(url(plan["id"]), headers=booking, json=body), 201)
    assert set(result) == {"report", "decision", "plan"}
    report = result["report"]
    assert set(report) == REPORT_KEYS and report["plan_id"] == plan["id"]
    assert {k: report[k] for k in body} == {**body, "recorded_at": iso(hours=-2)}
    decision = result["decision"]
    assert decision["trigger"] == "report" and decision["ruleset"] == "ims-default@1"
    assert decision["explanations"] and {"rule", "text", "inputs"} <= set(
        decision["explanations"][0])
    assert result["plan"]["version"] == plan["version"] + 1
    after = footprint(uow, plan["id"])
    assert (after["reports"], after["events"], after["decisions"]) == (1, 3, 3)


def test_a_physiotherapist_may_record_a_report(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(url(plan["id"]), headers=physio, json=report_body()), 201)


def test_reports_are_listed_in_arrival_order_and_page_with_a_cursor(client, booking,
                                                                    front_desk, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    made = []
    for pain in (7, 6, 5):
        clock.advance(days=2)
        made.append(ok(client.post(url(plan["id"]), headers=booking,
                                   json=report_body(clock().isoformat(), pain)), 201)["report"])
    listed = ok(client.get(url(plan["id"]), headers=front_desk))
    assert listed == {"items": made, "next_cursor": None}
    first = ok(client.get(url(plan["id"]) + "?limit=2", headers=front_desk))
    rest = ok(client.get(url(plan["id"]) + f"?limit=2&cursor={first['next_cursor']}",
                         headers=front_desk))
    assert first["items"] + rest["items"] == made and rest["next_cursor"] is None


def test_a_late_report_is_accepted_and_the_plan_is_refolded(client, booking, clinic, clock, uow):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=6)
    ok(client.post(url(plan["id"]), headers=booking, json=report_body(iso(4), 5)), 201)
    late = ok(client.post(url(plan["id"]), headers=booking, json=report_body(iso(2), 6)), 201)
    assert late["decision"]["at"].startswith(iso(2)[:10])
    assert late["plan"]["version"] == 3
    assert footprint(uow, plan["id"])["decisions"] == 4


def test_a_report_four_minutes_ahead_is_within_the_clock_skew(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(url(plan["id"]), headers=booking,
                   json=report_body(iso(hours=4 / 60))), 201)


@pytest.mark.parametrize(("change", "fields"), [
    ({"pain": 11}, {"pain"}),
    ({"pain": -1}, {"pain"}),
    ({"pain": "5"}, {"pain"}),
    ({"pain": 5.5}, {"pain"}),
    ({"pain": None}, {"pain"}),
    ({"function": 11}, {"function"}),
    ({"global_change": 8}, {"global_change"}),
    ({"global_change": -8}, {"global_change"}),
    ({"soreness_hours": 337}, {"soreness_hours"}),
    ({"soreness_hours": -1}, {"soreness_hours"}),
    ({"adverse_event": "true"}, {"adverse_event"}),
    ({"adverse_event": 1}, {"adverse_event"}),
    ({"notes": 3}, {"notes"}),
    ({"mood": "good"}, {"mood"}),
    ({"recorded_at": "2026-11-02T09:00:00"}, {"recorded_at"}),
    ({"recorded_at": "2026-11-02"}, {"recorded_at"}),
    ({"recorded_at": "yesterday"}, {"recorded_at"}),
    ({"recorded_at": iso(hours=6 / 60)}, {"recorded_at"}),
    ({"recorded_at": iso(days=2)}, {"recorded_at"}),
], ids=["pain-11", "pain-negative", "pain-as-string", "pain-as-float", "pain-null",
        "function-11", "global-change-8", "global-change-minus-8", "soreness-337h",
        "soreness-negative", "adverse-event-as-string", "adverse-event-as-1", "notes-as-number",
        "unknown-field", "naive-timestamp", "date-only", "not-a-timestamp",
        "six-minutes-ahead", "two-days-ahead"])
def test_an_invalid_report_is_422_per_field_and_changes_nothing(client, booking, clinic, problem,
                                                                uow, change, fields):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    body = problem(client.post(url(plan["id"]), headers=booking,
                               json={**report_body(), **change}), 422)
    assert set(body["errors"]) == fields
    assert footprint(uow, plan["id"]) == before


@pytest.mark.parametrize("missing", ["recorded_at", "pain"])
def test_a_report_without_a_required_field_is_422(client, booking, clinic, problem, missing):
    plan = make_plan(client, booking, clinic.id)
    body = report_body()
    del body[missing]
    assert set(problem(client.post(url(plan["id"]), headers=booking, json=body),
                       422)["errors"]) == {missing}


def test_malformed_json_is_400_and_changes_nothing(client, booking, clinic, problem, uow):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    problem(client.post(url(plan["id"]), headers=booking, data='{"pain": 5,',
                        content_type="application/json"), 400)
    assert footprint(uow, plan["id"]) == before


def test_a_report_on_a_discharged_plan_is_409_and_changes_nothing(client, booking, clinic,
                                                                  problem, uow):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "done"}))
    before = footprint(uow, plan["id"])
    problem(client.post(url(plan["id"]), headers=booking, json=report_body()), 409)
    assert footprint(uow, plan["id"]) == before


def test_a_late_report_before_a_discharge_is_409_too(client, booking, clinic, clock, problem,
                                                     uow):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=3)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "done"}))
    before = footprint(uow, plan["id"])
    problem(client.post(url(plan["id"]), headers=booking, json=report_body(iso(1), 4)), 409)
    assert footprint(uow, plan["id"]) == before


def test_reports_of_an_unknown_plan_are_404(client, booking, problem):
    problem(client.post(url("pln_nope"), headers=booking, json=report_body()), 404)
    problem(client.get(url("pln_nope"), headers=booking), 404)


def test_reports_without_a_key_are_401(client, problem):
    problem(client.post(url("pln_nope"), json=report_body()), 401)
    problem(client.get(url("pln_nope")), 401)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "since=1", "cursor=%21"])
def test_invalid_report_list_queries_are_422(client, booking, clinic, problem, query):
    plan = make_plan(client, booking, clinic.id)
    problem(client.get(url(plan["id"]) + f"?{query}", headers=booking), 422)
