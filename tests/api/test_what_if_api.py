"""POST /rulesets/what-if and GET /rulesets/what-if/{id}: a candidate ruleset replayed over a
clinic's active plans, changing nothing; roles, tenancy, 422s naming the parameter, the
expected counts of a known change, and the job path for a big clinic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from api import create_app
from scheduler.models import Base, Plan
from scheduler.services import patients, plans, reports, rulesets, visits
from scheduler.services.what_if import run_due_jobs
from tests.api.plan_support import ok
from tests.builders import ACTOR as SETUP
from tests.conftest import T0

API = "/api/v1/rulesets/what-if"
PARAMETERS = rulesets.BUILTIN["ims-default@1"].parameters()
STRICTER = {"name": "ims-default", "version": 2,
            "parameters": {**PARAMETERS, "mcid_pain_points": 3}}
SESSION_AT = T0 + timedelta(days=1)  # Tue 3 Nov 2026, 09:30 in Vancouver
REPORT_AT = SESSION_AT + timedelta(hours=72)  # outside the 48 h soreness window
AFTER = REPORT_AT + timedelta(hours=1)


def seed(uow_factory: Callable[..., Any], clinic_id: str, n: int, *, baseline: int,
         neuropathic: bool, report_pain: int | None, discharge: bool = False,
         tag: str = "p") -> list[str]:
    """n consented plans (created at T0), one attended session each, then a report 72 h
    later with `report_pain` (None: no report), optionally discharged."""
    ids = []
    for i in range(n):
        patient = patients.create_patient(uow_factory(), clinic_id=clinic_id,
                                          external_id=f"MRN-{tag}{i}", actor=SETUP, now=T0)
        plan = plans.create_plan(
            uow_factory(), patient_id=patient.id, condition="lumbar myofascial pain",
            onset_date=date(2026, 10, 1), baseline={"pain": baseline},
            neuropathic_symptoms=neuropathic,
            consent={"recorded_at": T0 - timedelta(hours=1), "recorded_by": "physio:7"},
            actor=SETUP, now=T0)
        visits.record_visit(uow_factory(), plan.id, external_id=f"V-{tag}{i}", kind="needling",
                            starts_at=SESSION_AT, status="attended", actor=SETUP,
                            now=SESSION_AT + timedelta(hours=1))
        if report_pain is not None:
            reports.record_report(uow_factory(), plan.id, recorded_at=REPORT_AT,
                                  pain=report_pain, actor=SETUP, now=REPORT_AT)
        if discharge:
            plans.act(uow_factory(), plan.id, {"action": "discharge", "reason": "goals met"},
                      expected_version=None, actor=SETUP, now=AFTER - timedelta(minutes=5))
        ids.append(plan.id)
    return ids


@pytest.fixture
def seeded(uow_factory: Any, clinic: Any, clock: Any) -> dict[str, list[str]]:
    """A clinic where mcid_pain_points 2 -> 3 matters for some plans and not for others:

    - 2 "responders by 2 points": neuropathic (so 2/week), pain 6 -> 4 (2 points, 33 %):
      meaningful at mcid 2 (reduced to 1/week), only partial at mcid 3 (kept at 2/week);
    - 1 "clear responder": pain 8 -> 5 (3 points, 38 %): meaningful either way (1/week);
    - 1 "no report yet": pain 8, one session: 2/week either way;
    - 1 discharged plan, which a what-if leaves out.
    """
    found = {
        "two_points": seed(uow_factory, clinic.id, 2, baseline=6, neuropathic=True,
                           report_pain=4, tag="a"),
        "three_points": seed(uow_factory, clinic.id, 1, baseline=8, neuropathic=False,
                             report_pain=5, tag="b"),
        "no_report": seed(uow_factory, clinic.id, 1, baseline=8, neuropathic=False,
                          report_pain=None, tag="c"),
        "discharged": seed(uow_factory, clinic.id, 1, baseline=8, neuropathic=False,
                           report_pain=5, discharge=True, tag="d"),
    }
    clock.now = AFTER
    return found


def rows(uow_factory: Any) -> dict[str, Any]:
    """Every table's row count and every plan's version: what a write would change."""
    with uow_factory() as uow:
        session = uow.session
        counts = {t.name: session.scalar(select(func.count()).select_from(t))
                  for t in Base.metadata.sorted_tables if t.name != "apscheduler_jobs"}
        versions = dict(session.execute(select(Plan.id, Plan.version)).all())
        return {"counts": counts, "versions": versions}


def test_a_stricter_mcid_changes_the_two_point_responders_only(
        client: Any, physio: Any, clinic: Any, seeded: dict, uow_factory: Any) -> None:
    before = rows(uow_factory)
    body = ok(client.post(API, headers=physio,
                          json={"clinic_id": clinic.id, "candidate": STRICTER}))
    assert rows(uow_factory) == before  # nothing stored, no plan touched
    assert body["status"] == "done" and body["candidate"] == "ims-default@2"
    assert (body["plans"], body["changed"], body["errors"]) == (4, 2, 0)
    # current: 1 + 1 (reduced) + 1 (reduced) + 2 = 5; candidate: 2 + 2 + 1 + 2 = 7
    assert body["visits_per_week"] == {"current": 5.0, "candidate": 7.0}
    assert body["by_rule"]["initial.reduce"] == {"current": 3, "candidate": 1}
    assert body["by_rule"]["initial.maintain"] == {"current": 0, "candidate": 2}
    assert body["by_rule"]["initial.start"] == {"current": 4, "candidate": 4}
    assert body["by_rule"]["visit.attended"] == {"current": 4, "candidate": 4}
    assert [item["plan_id"] for item in body["items"]] == sorted(seeded["two_points"])
    item = body["items"][0]
    assert item["ruleset"] == {"current": "ims-default@1", "candidate": "ims-default@2"}
    assert item["before"]["frequency"] == {"frequency": 1, "period": 1, "period_unit": "wk"}
    assert item["after"]["frequency"] == {"frequency": 2, "period": 1, "period_unit": "wk"}
    assert item["before"]["phase"] == item["after"]["phase"] == "initial"
    assert item["before"]["status"] == item["after"]["status"] == "active"
    assert item["before"]["window"] != item["after"]["window"]
    # "current" is the stored plan: its window is the one the plan shows
    stored = ok(client.get(f"/api/v1/plans/{item['plan_id']}", headers=physio))["next_visit"]
    assert item["before"]["window"] == {k: stored[k] for k in
                                        ("kind", "earliest", "target", "latest")}
    assert item["first_difference"] == {
        "position": 3, "event_kind": "report", "at": REPORT_AT.isoformat(),
        "rules": {"current": ["initial.reduce"], "candidate": ["initial.maintain"]}}
    assert body["next_cursor"] is None


def test_the_current_ruleset_by_name_changes_nothing(client: Any, admin: Any, clinic: Any,
                                                     seeded: dict) -> None:
    body = ok(client.post(API, headers=admin,
                          json={"clinic_id": clinic.id, "candidate": "ims-default@1"}))
    assert (body["plans"], body["changed"], body["items"]) == (4, 0, [])
    assert body["visits_per_week"]["current"] == body["visits_per_week"]["candidate"] == 5.0
    assert all(v["current"] == v["candidate"] for v in body["by_rule"].values())


def test_the_same_request_gives_the_same_answer_and_pages_follow_the_cursor(
        client: Any, physio: Any, clinic: Any, seeded: dict) -> None:
    request = {"clinic_id": clinic.id, "candidate": STRICTER}
    whole = ok(client.post(API, headers=physio, json=request))
    assert ok(client.post(API, headers=physio, json=request)) == whole
    first = ok(client.post(f"{API}?limit=1", headers=physio, json=request))
    second = ok(client.post(f"{API}?limit=1&cursor={first['next_cursor']}", headers=physio,
                            json=request))
    assert first["items"] + second["items"] == whole["items"]
    assert second["next_cursor"] is None and second["as_of"] == first["as_of"]


def test_as_of_before_the_reports_sees_no_difference(client: Any, physio: Any, clinic: Any,
                                                     seeded: dict) -> None:
    body = ok(client.post(API, headers=physio, json={
        "clinic_id": clinic.id, "candidate": STRICTER,
        "as_of": (REPORT_AT - timedelta(hours=1)).isoformat()}))
    assert (body["plans"], body["changed"]) == (4, 0)
    assert body["visits_per_week"] == {"current": 8.0, "candidate": 8.0}  # all at 2/week


@pytest.mark.parametrize(("candidate", "field"), [
    pytest.param({**STRICTER, "parameters": {**PARAMETERS, "mcid_pain_points": 11}},
                 "candidate.parameters.mcid_pain_points", id="mcid-out-of-range"),
    pytest.param({**STRICTER, "parameters": {**PARAMETERS, "mcid_pain_points": "3"}},
                 "candidate.parameters.mcid_pain_points", id="mcid-a-string"),
    pytest.param({**STRICTER, "parameters": {**PARAMETERS, "mcid_pain_points": 0.5}},
                 "candidate.parameters.partial_pain_points", id="partial-above-mcid"),
    pytest.param({**STRICTER, "parameters": {**PARAMETERS, "colour": 1}},
                 "candidate.parameters.colour", id="unknown-parameter"),
    pytest.param({"name": "ims-default", "version": 2}, "candidate.parameters",
                 id="no-parameters"),
    pytest.param({**STRICTER, "version": 0}, "candidate.version", id="version-zero"),
    pytest.param("ims-default@9", "candidate", id="unknown-name-at-version"),
    pytest.param("not a ruleset id", "candidate", id="malformed-id"),
    pytest.param(7, "candidate", id="a-number"),
])
def test_a_bad_candidate_is_a_422_naming_the_parameter(client: Any, admin: Any, clinic: Any,
                                                       problem: Any, candidate: Any,
                                                       field: str) -> None:
    body = problem(client.post(API, headers=admin,
                               json={"clinic_id": clinic.id, "candidate": candidate}), 422)
    assert list(body["errors"]) == [field]


def test_post_rulesets_names_the_same_parameter(client: Any, admin: Any, problem: Any) -> None:
    bad = {**STRICTER, "parameters": {**PARAMETERS, "mcid_pain_points": 11}}
    body = problem(client.post("/api/v1/rulesets", headers=admin, json=bad), 422)
    assert list(body["errors"]) == ["parameters.mcid_pain_points"]


@pytest.mark.parametrize("role", ["booking_system", "front_desk"])
def test_only_admins_and_physiotherapists_may_ask(client: Any, make_headers: Any, clinic: Any,
                                                  problem: Any, role: str) -> None:
    headers = make_headers(role, clinic.id)
    problem(client.post(API, headers=headers,
                        json={"clinic_id": clinic.id, "candidate": "ims-default@1"}), 403)
    problem(client.get(f"{API}/wif_00000000000000000000", headers=headers), 403)


def test_another_clinic_is_not_found_for_a_physiotherapist(
        client: Any, physio: Any, other_clinic: Any, problem: Any) -> None:
    problem(client.post(API, headers=physio, json={"clinic_id": other_clinic.id,
                                                   "candidate": "ims-default@1"}), 404)


def test_an_unknown_clinic_is_not_found(client: Any, admin: Any, problem: Any) -> None:
    problem(client.post(API, headers=admin, json={"clinic_id": "cln_nope",
                                                  "candidate": "ims-default@1"}), 404)


@pytest.fixture
def small_sync_app(settings: Any, engine: Any, clock: Any) -> Any:
    """The app with WHAT_IF_SYNC_MAX = 3: the seeded clinic's 4 active plans make a job."""
    from dataclasses import replace
    application = create_app(replace(settings, what_if_sync_max=3), clock=clock)
    yield application
    application.extensions["cadence"].engine.dispose()


def test_a_big_clinic_gets_a_job_that_the_scheduler_runs_once(
        small_sync_app: Any, physio: Any, make_headers: Any, other_clinic: Any,
        clinic: Any, seeded: dict, uow_factory: Any, clock: Any, problem: Any) -> None:
    client = small_sync_app.test_client()
    sync = ok(client_of_default(small_sync_app, clock, uow_factory, clinic.id))
    stranger = make_headers("physiotherapist", other_clinic.id)
    before = rows(uow_factory)
    response = client.post(API, headers=physio,
                           json={"clinic_id": clinic.id, "candidate": STRICTER})
    job = ok(response, 202)
    assert job == {"id": job["id"], "status": "queued"}
    assert response.headers["Location"] == f"{API}/{job['id']}"
    polled = ok(client.get(f"{API}/{job['id']}", headers=physio))
    assert polled["status"] == "queued" and "items" not in polled
    problem(client.get(f"{API}/{job['id']}", headers=stranger), 404)  # another clinic's
    assert rows(uow_factory)["counts"] == {**before["counts"], "what_if_jobs": 1}

    assert run_due_jobs(uow_factory, clock.now, claimed_by="scheduler-a") == 1
    assert run_due_jobs(uow_factory, clock.now, claimed_by="scheduler-b") == 0  # claimed once
    after = rows(uow_factory)
    assert after["versions"] == before["versions"]
    assert after["counts"] == {**before["counts"], "what_if_jobs": 1,
                               "what_if_items": 2}  # the job's own rows, nothing else

    done = ok(client.get(f"{API}/{job['id']}", headers=physio))
    assert done["status"] == "done"
    same = {k: sync[k] for k in ("plans", "changed", "errors", "visits_per_week", "by_rule",
                                 "items", "candidate", "as_of", "clinic_id")}
    assert {k: done[k] for k in same} == same
    page = ok(client.get(f"{API}/{job['id']}?limit=1", headers=physio))
    rest = ok(client.get(f"{API}/{job['id']}?limit=1&cursor={page['next_cursor']}",
                         headers=physio))
    assert page["items"] + rest["items"] == done["items"] and rest["next_cursor"] is None


def client_of_default(app: Any, clock: Any, uow_factory: Any, clinic_id: str) -> Any:
    """The synchronous answer for the same request, from an app with the default limit."""
    from dataclasses import replace
    settings = app.extensions["cadence"].settings
    default = create_app(replace(settings, what_if_sync_max=20_000), clock=clock)
    try:
        admin = default.test_client()
        from scheduler.services import api_keys
        key = api_keys.create_api_key(uow_factory(), name="a", role="admin", clinic_ids=(),
                                      actor=SETUP, now=clock.now).secret
        return admin.post(API, headers={"Authorization": f"Bearer {key}"},
                          json={"clinic_id": clinic_id, "candidate": STRICTER})
    finally:
        default.extensions["cadence"].engine.dispose()


def test_a_job_of_an_unknown_id_is_not_found(client: Any, admin: Any, problem: Any) -> None:
    problem(client.get(f"{API}/wif_nope", headers=admin), 404)


def test_a_job_keeps_the_as_of_of_its_request(small_sync_app: Any, admin: Any, clinic: Any,
                                              seeded: dict, uow_factory: Any) -> None:
    client = small_sync_app.test_client()
    as_of = (REPORT_AT - timedelta(hours=1)).isoformat()
    job = ok(client.post(API, headers=admin, json={"clinic_id": clinic.id,
                                                    "candidate": STRICTER, "as_of": as_of}), 202)
    run_due_jobs(uow_factory, datetime.now().astimezone(), claimed_by="s")
    done = ok(client.get(f"{API}/{job['id']}", headers=admin))
    assert (done["status"], done["as_of"], done["changed"]) == ("done", as_of, 0)
