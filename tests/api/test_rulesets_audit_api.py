"""GET/POST /rulesets and GET /audit: shapes, 409 on an existing version, 422 naming the bad
parameter, audit filters, X-Actor, clinic scope and paging."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.api.plan_support import API, act, make_plan, ok, report_body


def default_body(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    found = ok(client.get(f"{API}/rulesets/ims-default@1", headers=headers))
    return {"name": "kits-custom", "version": 1, "description": "gentler",
            "parameters": copy.deepcopy(found["parameters"])}


def test_the_builtin_ruleset_is_listed_and_readable_by_every_role(client, admin, booking,
                                                                  physio, front_desk):
    for headers in (admin, booking, physio, front_desk):
        (only,) = ok(client.get(f"{API}/rulesets", headers=headers))["items"]
        assert only["id"] == "ims-default@1" and only["builtin"] is True
    one = ok(client.get(f"{API}/rulesets/ims-default@1", headers=front_desk))
    assert set(one) == {"id", "name", "version", "description", "builtin", "parameters"}
    assert one["parameters"]["min_gap_days"] == 3


def test_an_admin_adds_a_version_that_is_then_listed_and_audited(client, admin, physio, clock):
    body = default_body(client, admin)
    clock.advance(minutes=1)  # after the keys' own audit entries
    body["parameters"]["min_gap_days"] = 4
    response = client.post(f"{API}/rulesets", headers={**admin, "X-Actor": "ops:1"}, json=body)
    created = ok(response, 201)
    assert created["id"] == "kits-custom@1" and created["builtin"] is False
    assert created["parameters"]["min_gap_days"] == 4
    assert response.headers["Location"] == f"{API}/rulesets/kits-custom@1"
    listed = ok(client.get(f"{API}/rulesets", headers=physio))["items"]
    assert [r["id"] for r in listed] == ["ims-default@1", "kits-custom@1"]
    assert ok(client.get(f"{API}/rulesets/kits-custom@1", headers=physio)) == created
    entry = ok(client.get(f"{API}/audit", headers=admin))["items"][0]
    assert entry["action"] == "ruleset.created" and entry["actor"]["name"] == "ops:1"


def test_an_existing_version_is_409_and_versions_are_immutable(client, admin, problem):
    body = default_body(client, admin)
    ok(client.post(f"{API}/rulesets", headers=admin, json=body), 201)
    changed = {**body, "description": "other"}
    assert "kits-custom@1" in problem(client.post(f"{API}/rulesets", headers=admin,
                                                  json=changed), 409)["detail"]
    builtin = {**body, "name": "ims-default"}
    problem(client.post(f"{API}/rulesets", headers=admin, json=builtin), 409)


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["parameters"].update(min_gap_days=-1), "min_gap_days"),
    (lambda b: b["parameters"].update(min_gap_days="3"), "min_gap_days"),
    (lambda b: b["parameters"].pop("severe_pain_min"), "severe_pain_min"),
    (lambda b: b["parameters"].update(maintenance_steps_weeks=[8, 4]), "maintenance_steps_weeks"),
    (lambda b: b["parameters"].update(sparkle=1), "parameters.sparkle"),
    (lambda b: b.update(version=0), "version"),
    (lambda b: b.update(name="Bad Name"), "name"),
    (lambda b: b.update(colour="red"), "colour"),
], ids=["negative-gap", "gap-as-string", "missing-parameter", "steps-decreasing",
        "unknown-parameter", "version-0", "bad-name", "unknown-key"])
def test_a_bad_ruleset_is_422_naming_the_parameter_and_stores_nothing(client, admin, problem,
                                                                      change, field):
    body = default_body(client, admin)
    change(body)
    errors = problem(client.post(f"{API}/rulesets", headers=admin, json=body), 422)["errors"]
    assert any(field in name for name in errors), errors
    assert len(ok(client.get(f"{API}/rulesets", headers=admin))["items"]) == 1


def test_a_ruleset_that_is_not_an_object_is_422_and_bad_json_400(client, admin, problem):
    problem(client.post(f"{API}/rulesets", headers=admin, json=[1]), 422)
    problem(client.post(f"{API}/rulesets", headers=admin, data="{",
                        content_type="application/json"), 400)


@pytest.mark.parametrize("ruleset_id", ["ims-default@2", "nothing@1", "ims-default", "x@y"])
def test_an_unknown_ruleset_is_404(client, booking, problem, ruleset_id):
    problem(client.get(f"{API}/rulesets/{ruleset_id}", headers=booking), 404)


def test_rulesets_and_audit_without_a_key_are_401(client, problem):
    for response in (client.get(f"{API}/rulesets"), client.post(f"{API}/rulesets", json={}),
                     client.get(f"{API}/rulesets/ims-default@1"), client.get(f"{API}/audit")):
        problem(response, 401)


def test_the_audit_trail_says_who_did_what_newest_first_with_before_and_after(
        client, booking, physio, clinic, clock):
    plan = make_plan(client, {**booking, "X-Actor": "desk:3"}, clinic.id)
    clock.advance(minutes=5)
    held = act(client, {**physio, "X-Actor": "physio:1234"}, plan["id"],
               {"action": "hold", "reason": "imaging"})
    ok(held)
    items = ok(client.get(f"{API}/audit?plan_id={plan['id']}", headers=physio))["items"]
    assert [i["action"] for i in items] == ["plan.hold", "plan.created"]
    hold = items[0]
    assert set(hold) == {"id", "at", "clinic_id", "plan_id", "actor", "action", "before", "after",
                         "request_id"}
    assert hold["request_id"] == held.headers["X-Request-Id"]
    assert hold["actor"]["name"] == "physio:1234" and hold["clinic_id"] == clinic.id
    assert hold["before"]["status"] == "active" and hold["after"]["status"] == "on_hold"
    assert hold["at"] == clock().isoformat()
    assert items[1]["actor"]["name"] == "desk:3" and items[1]["before"] is None


def test_the_audit_filters_by_clinic_and_plan_and_pages(client, booking, physio, clinic, clock):
    first = make_plan(client, booking, clinic.id, "MRN-1")
    clock.advance(minutes=1)
    second = make_plan(client, booking, clinic.id, "MRN-2")
    for n in range(2):
        clock.advance(minutes=1)
        ok(client.post(f"{API}/plans/{second['id']}/reports", headers=booking,
                       json=report_body(clock().isoformat(), 6 - n)), 201)
    only_first = ok(client.get(f"{API}/audit?plan_id={first['id']}", headers=physio))["items"]
    assert [i["plan_id"] for i in only_first] == [first["id"]]
    everything = ok(client.get(f"{API}/audit?clinic_id={clinic.id}", headers=physio))["items"]
    seen, cursor = [], ""
    while True:
        page = ok(client.get(f"{API}/audit?clinic_id={clinic.id}&limit=1{cursor}",
                             headers=physio))
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == everything and [i["at"] for i in seen] == sorted(
        (i["at"] for i in seen), reverse=True)
    assert {i["action"] for i in seen} >= {"plan.created", "plan.report_recorded"}


def test_a_physiotherapist_sees_only_the_audit_of_their_clinics(client, booking, other_booking,
                                                                physio, admin, clinic,
                                                                other_clinic):
    mine = make_plan(client, booking, clinic.id)
    theirs = make_plan(client, other_booking, other_clinic.id)
    seen = ok(client.get(f"{API}/audit", headers=physio))["items"]
    assert {i["clinic_id"] for i in seen} == {clinic.id}
    assert {i["plan_id"] for i in seen} - {None} == {mine["id"]}
    assert ok(client.get(f"{API}/audit?plan_id={theirs['id']}", headers=physio))["items"] == []
    assert ok(client.get(f"{API}/audit?clinic_id={other_clinic.id}",
                         headers=physio))["items"] == []
    everything = ok(client.get(f"{API}/audit?limit=200", headers=admin))["items"]
    assert {mine["id"], theirs["id"]} <= {i["plan_id"] for i in everything}


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "cursor=%21%21", "actor=x"])
def test_an_invalid_audit_query_is_422(client, physio, problem, query):
    problem(client.get(f"{API}/audit?{query}", headers=physio), 422)
