"""POST /plans, GET /plans/{id} and GET /plans: the success shape and every error shape."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Plan
from tests.api.plan_support import (
    API,
    act,
    iso,
    make_patient,
    make_plan,
    ok,
    plan_body,
)
from tests.conftest import T0

PLAN_KEYS = {"id", "patient_id", "clinic_id", "condition", "status", "phase", "phase_since",
             "frequency", "interval_days", "computed_frequency", "override", "review", "flags",
             "next_visit", "ruleset", "version", "created_at", "updated_at", "authorization"}
WINDOW_KEYS = {"kind", "earliest", "target", "latest", "state", "extended", "reasons"}


def count_plans(uow: Any) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).select_from(Plan))


def test_a_created_plan_has_the_contract_shape_a_location_and_an_etag(client, booking, clinic):
    patient = make_patient(client, booking, clinic.id)
    response = client.post(f"{API}/plans", headers=booking, json=plan_body(patient["id"]))
    plan = ok(response, 201)
    assert set(plan) == PLAN_KEYS
    assert WINDOW_KEYS <= set(plan["next_visit"])
    assert plan["patient_id"] == patient["id"] and plan["clinic_id"] == clinic.id
    assert plan["status"] == "assessment_pending" and plan["phase"] == "initial"
    assert plan["version"] == 1 and plan["ruleset"] == "ims-default@1"
    assert plan["review"] == {"required": False, "reasons": []}
    assert plan["created_at"] == T0.isoformat()
    assert response.headers["Location"] == f"{API}/plans/{plan['id']}"
    assert response.headers["ETag"] == '"1-2026-11-02"'


def test_a_plan_with_consent_starts_active_and_proposes_needling(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    assert plan["status"] == "active" and plan["next_visit"]["kind"] == "needling"


def test_a_plan_is_read_back_as_created(client, booking, clinic, front_desk):
    plan = make_plan(client, booking, clinic.id)
    read = ok(client.get(f"{API}/plans/{plan['id']}", headers=front_desk))
    assert read == plan


def test_calls_without_a_key_are_401_with_a_bearer_challenge(client, problem):
    for response in (client.post(f"{API}/plans", json={}), client.get(f"{API}/plans/pln_x"),
                     client.get(f"{API}/plans")):
        problem(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_unknown_plan_is_404(client, booking, problem):
    body = problem(client.get(f"{API}/plans/pln_nope", headers=booking), 404)
    assert "pln_nope" not in body["detail"]


def test_a_second_open_plan_for_a_patient_is_409_and_names_the_first(client, booking, clinic,
                                                                     problem, uow):
    plan = make_plan(client, booking, clinic.id)
    again = client.post(f"{API}/plans", headers=booking, json=plan_body(plan["patient_id"]))
    assert plan["id"] in problem(again, 409)["detail"]
    assert count_plans(uow) == 1


def test_after_a_discharge_the_patient_may_get_a_new_plan(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "goals met"}))
    again = ok(client.post(f"{API}/plans", headers=booking,
                           json=plan_body(plan["patient_id"])), 201)
    assert again["id"] != plan["id"] and again["status"] == "assessment_pending"


@pytest.mark.parametrize(("change", "fields"), [
    ({"colour": "blue"}, {"colour"}),
    ({"baseline": {"pain": 11}}, {"baseline.pain"}),
    ({"baseline": {"pain": -1, "function": 11}}, {"baseline.pain", "baseline.function"}),
    ({"baseline": {"pain": "8"}}, {"baseline.pain"}),
    ({"baseline": {"pain": 7.5}}, {"baseline.pain"}),
    ({"baseline": {"pain": 8, "mood": 3}}, {"baseline.mood"}),
    ({"neuropathic_symptoms": "yes"}, {"neuropathic_symptoms"}),
    ({"neuropathic_symptoms": 1}, {"neuropathic_symptoms"}),
    ({"onset_date": "2026-13-01"}, {"onset_date"}),
    ({"onset_date": "2026-11-03"}, {"onset_date"}),
    ({"condition": ""}, {"condition"}),
    ({"condition": 42}, {"condition"}),
    ({"consent": {"recorded_at": "2026-11-02T09:00:00", "recorded_by": "p"}},
     {"consent.recorded_at"}),
    ({"consent": {"recorded_at": iso(hours=1), "recorded_by": "p"}}, {"consent.recorded_at"}),
    ({"consent": {"recorded_at": iso(hours=-1)}}, {"consent.recorded_by"}),
    ({"patient_id": "pat_unknown"}, {"patient_id"}),
], ids=["unknown-field", "pain-11", "pain-and-function-out-of-range", "pain-as-string",
        "pain-as-float", "unknown-baseline-field", "neuropathic-as-string", "neuropathic-as-1",
        "impossible-date", "onset-after-start", "empty-condition", "condition-as-number",
        "naive-consent-time", "consent-an-hour-ahead", "consent-without-author",
        "unknown-patient"])
def test_an_invalid_plan_is_422_per_field_and_stores_nothing(client, booking, clinic, problem,
                                                             uow, change, fields):
    patient = make_patient(client, booking, clinic.id)
    body = problem(client.post(f"{API}/plans", headers=booking,
                               json={**plan_body(patient["id"]), **change}), 422)
    assert set(body["errors"]) == fields
    assert count_plans(uow) == 0


@pytest.mark.parametrize("missing", ["patient_id", "condition", "onset_date", "baseline",
                                     "neuropathic_symptoms"])
def test_a_plan_without_a_required_field_is_422(client, booking, clinic, problem, missing):
    patient = make_patient(client, booking, clinic.id)
    body = plan_body(patient["id"])
    del body[missing]
    assert set(problem(client.post(f"{API}/plans", headers=booking, json=body),
                       422)["errors"]) == {missing}


def test_consent_within_the_clock_skew_tolerance_is_accepted(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id, consent={"recorded_at": iso(hours=4 / 60),
                                                          "recorded_by": "physio:7"})
    assert plan["status"] == "active"


def test_malformed_json_is_400_and_stores_nothing(client, booking, problem, uow):
    response = client.post(f"{API}/plans", headers=booking, data='{"patient_id": ',
                           content_type="application/json")
    assert "errors" not in problem(response, 400)
    assert count_plans(uow) == 0


def test_an_explicit_start_date_sets_the_assessment_window(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id, consent=None, start_date="2026-11-09")
    assert plan["phase_since"] == "2026-11-09"
    assert plan["next_visit"]["earliest"] == "2026-11-09"
    assert plan["next_visit"]["state"] == "upcoming"


def test_the_list_is_oldest_first_and_filters_by_status_phase_and_patient(client, booking,
                                                                           clinic, clock):
    first = make_plan(client, booking, clinic.id, "MRN-1")
    clock.advance(hours=1)
    second = make_plan(client, booking, clinic.id, "MRN-2", consent=None)
    listed = ok(client.get(f"{API}/plans", headers=booking))
    assert [p["id"] for p in listed["items"]] == [first["id"], second["id"]]
    assert listed["next_cursor"] is None

    def ids(query: str) -> list[str]:
        return [p["id"] for p in ok(client.get(f"{API}/plans?{query}", headers=booking))["items"]]

    assert ids("status=active") == [first["id"]]
    assert ids("status=assessment_pending") == [second["id"]]
    assert ids(f"patient_id={second['patient_id']}") == [second["id"]]
    assert ids(f"clinic_id={clinic.id}&phase=initial") == [first["id"], second["id"]]
    assert ids("phase=maintenance") == []


def test_the_list_pages_with_a_cursor(client, booking, clinic, clock):
    made = []
    for n in range(3):
        made.append(make_plan(client, booking, clinic.id, f"MRN-{n}")["id"])
        clock.advance(minutes=1)
    seen, cursor = [], None
    while True:
        page = ok(client.get(f"{API}/plans?limit=1" + (f"&cursor={cursor}" if cursor else ""),
                             headers=booking))
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


@pytest.mark.parametrize("query", ["status=closed", "phase=late", "limit=0", "limit=201",
                                   "colour=red", "cursor=%21%21"])
def test_invalid_list_queries_are_422(client, booking, problem, query):
    problem(client.get(f"{API}/plans?{query}", headers=booking), 422)
