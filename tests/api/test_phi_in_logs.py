"""No patient data in the logs, at any level: sentinel strings go through every field of every
endpoint (bodies, queries, paths, headers, a crash whose message holds one) and no line the
process writes at DEBUG contains one.

Numbers (pain, function, soreness) cannot be told apart from other numbers in a line; they
travel in the same bodies as the sentinels, and no code path logs a body."""

from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from config import Settings
from scheduler.services import proposals
from tests.api.plan_support import API, ok
from tests.conftest import T0
from tests.integration.webhook_support import deliver

MARK = "PHI-SENTINEL"
SKIPPED_RULES = {"/static/<path:filename>"}  # flask's own; nothing of ours


def s(field: str) -> str:
    """A sentinel naming its field, e.g. PHI-SENTINEL-external_id-7F3A."""
    return f"{MARK}-{field}-7F3A"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, testing=True, log_level="DEBUG",
                    webhook_allow_private_networks=True)


def at(hours: float) -> str:
    from datetime import timedelta

    return (T0 + timedelta(hours=hours)).isoformat()


def test_no_sentinel_reaches_any_log_line(client, app, admin, make_headers, json_logs,
                                          monkeypatch) -> None:
    calls: list[str] = []

    def call(method: str, path: str, headers: dict[str, str] | None = None,
             body: Any = None) -> Any:
        response = client.open(path, method=method, headers={**admin, **(headers or {}),
                                                             "X-Actor": s("actor")}, json=body)
        calls.append(path)
        return response

    clinic = ok(call("POST", f"{API}/clinics", body={
        "name": s("clinic_name"), "timezone": "America/Vancouver",
        "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC"}), 201)
    cid = clinic["id"]
    booking = make_headers("booking_system", cid)
    physio = make_headers("physiotherapist", cid)
    clinic_tag = call("GET", f"{API}/clinics/{cid}").headers["ETag"]
    ok(call("PATCH", f"{API}/clinics/{cid}", {"If-Match": clinic_tag},
            {"name": s("clinic_rename")}))
    ok(call("GET", f"{API}/clinics"))
    ok(call("GET", f"{API}/clinics/{cid}"))
    key = ok(call("POST", f"{API}/api-keys", body={
        "name": s("key_name"), "role": "front_desk", "clinic_ids": [cid]}), 201)
    ok(call("GET", f"{API}/api-keys"))
    assert call("DELETE", f"{API}/api-keys/{key['id']}").status_code == 204
    staff = ok(call("POST", f"{API}/staff", body={
        "email": f"{s('staff_email')}@clinic.example", "name": s("staff_name"),
        "role": "front_desk", "clinic_ids": [cid], "password": s("staff_password")}), 201)
    ok(call("GET", f"{API}/staff"))
    ok(call("GET", f"{API}/staff/{staff['id']}"))
    ok(call("PATCH", f"{API}/staff/{staff['id']}", body={"name": s("staff_rename"),
                                                          "disabled": True}))

    patient = ok(call("POST", f"{API}/patients", booking, {
        "clinic_id": cid, "external_id": s("external_id"),
        "display_name": s("display_name")}), 201)
    ok(call("GET", f"{API}/patients?clinic_id={cid}&external_id={s('external_id')}", booking))
    ok(call("GET", f"{API}/patients/{patient['id']}", booking))
    plan = ok(call("POST", f"{API}/plans", booking, {
        "patient_id": patient["id"], "condition": s("condition"), "onset_date": "2026-06-01",
        "baseline": {"pain": 7, "function": 4}, "neuropathic_symptoms": False,
        "consent": {"recorded_at": at(-2), "recorded_by": s("recorded_by")}}), 201)
    pid = plan["id"]
    ok(call("GET", f"{API}/plans?clinic_id={cid}", booking))
    ok(call("GET", f"{API}/plans/{pid}", booking))
    tag = call("GET", f"{API}/plans/{pid}", booking).headers["ETag"]
    ok(call("POST", f"{API}/plans/{pid}/actions", {**physio, "If-Match": tag},
            {"action": "hold", "reason": s("reason")}))
    visit = ok(call("POST", f"{API}/plans/{pid}/visits", booking, {
        "external_id": s("visit_external_id"), "kind": "needling", "starts_at": at(-26),
        "status": "attended"}), 201)
    ok(call("PATCH", f"{API}/visits/{visit['id']}", booking, {"status": "attended"}))
    ok(call("GET", f"{API}/plans/{pid}/visits", booking))
    ok(call("POST", f"{API}/plans/{pid}/reports", {**booking, "Idempotency-Key": s("idem")}, {
        "recorded_at": at(-1), "pain": 6, "soreness_hours": 20, "adverse_event": True,
        "adverse_event_note": s("adverse_event_note"), "notes": s("notes")}), 201)
    ok(call("GET", f"{API}/plans/{pid}/reports", booking))
    for view in ("next-visit", "schedule", "decisions"):
        ok(call("GET", f"{API}/plans/{pid}/{view}", booking))
    ok(call("GET", f"{API}/followups?clinic_id={cid}", booking))
    # the contact log: a note, the worklist's last contact, the flag and its clearing
    ok(call("POST", f"{API}/plans/{pid}/contacts", make_headers("front_desk", cid), {
        "channel": "phone", "outcome": "do_not_contact", "note": s("contact_note")}), 201)
    ok(call("GET", f"{API}/plans/{pid}/contacts", booking))
    ok(call("GET", f"{API}/followups?clinic_id={cid}&include_snoozed=true", booking))
    tag = call("GET", f"{API}/plans/{pid}", booking).headers["ETag"]
    ok(call("POST", f"{API}/plans/{pid}/actions", {**physio, "If-Match": tag},
            {"action": "clear_do_not_contact", "reason": s("dnc_reason")}))
    ok(call("GET", f"{API}/rulesets"))
    ok(call("GET", f"{API}/rulesets/ims-default@1"))
    assert call("POST", f"{API}/rulesets", body={"name": s("ruleset")}).status_code == 422
    ok(call("GET", f"{API}/audit?plan_id={pid}"))
    hook = ok(call("POST", f"{API}/webhooks", booking, {
        "clinic_id": cid, "url": "https://booking.example/hooks", "events": ["plan.created"]}),
        201)
    ok(call("GET", f"{API}/webhooks", booking))
    ok(call("GET", f"{API}/webhooks/{hook['id']}/deliveries", booking))
    ok(call("PATCH", f"{API}/webhooks/{hook['id']}", booking, {"enabled": False}))
    ok(call("POST", f"{API}/webhooks/{hook['id']}/rotate-secret", booking))
    ok(call("POST", f"{API}/webhooks/{hook['id']}/replay", booking, {"since": at(-1)}), 202)
    assert call("POST", f"{API}/webhooks/{hook['id']}/replay", booking,
                {"since": s("since")}).status_code == 422
    assert call("DELETE", f"{API}/webhooks/{hook['id']}", booking).status_code == 204
    # the interoperability endpoints and the caps' fields (rules 21-22)
    tag = call("GET", f"{API}/plans/{pid}", booking).headers["ETag"]
    ok(call("POST", f"{API}/plans/{pid}/actions", {**physio, "If-Match": tag}, {
        "action": "set_authorization", "reason": s("auth_reason"),
        "authorization": {"payer": s("payer"), "visits_allowed": 6, "count_no_shows": False}}))
    booked = ok(call("POST", f"{API}/plans/{pid}/visits", booking, {
        "external_id": s("booked_external_id"), "kind": "needling", "starts_at": at(30),
        "status": "booked"}), 201)
    ok(call("PATCH", f"{API}/visits/{booked['id']}", booking, {
        "status": "cancelled", "cancellation_reason": "condition_worse"}))
    ok(call("GET", f"{API}/plans/{pid}/fhir", booking))
    assert call("GET", f"{API}/plans/{pid}/calendar.ics", booking).status_code == 200
    feed = ok(call("POST", f"{API}/clinics/{cid}/calendar-feeds", booking), 201)
    assert call("GET", "/" + feed["url"].split("/", 3)[3]).status_code == 200
    assert call("DELETE", f"{API}/calendar-feeds/{feed['id']}", booking).status_code == 204
    link = ok(call("POST", f"{API}/plans/{pid}/checkins", booking, {"expires_in_hours": 24}),
              201)
    ok(call("GET", f"{API}/plans/{pid}/checkins", booking))
    assert call("DELETE", f"{API}/checkins/{link['id']}", booking).status_code == 204
    ok(call("GET", "/cds-services", booking))
    what_if = ok(call("POST", f"{API}/rulesets/what-if", physio, {
        "clinic_id": cid, "candidate": "ims-default@1"}))
    assert what_if["changed"] == 0
    assert call("GET", f"{API}/rulesets/what-if/wif_{'0' * 20}", physio).status_code == 404
    appointment = {"resourceType": "Appointment", "id": s("appointment_id"),
                   "status": "proposed", "start": at(40), "description": s("appointment_text"),
                   "serviceType": [{"coding": [{"system": "urn:ims-cadence:visit-kind",
                                                "code": "needling"}]}]}
    ok(call("POST", "/cds-services/ims-cadence-visit-window", booking, {
        "hook": "appointment-book", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/1", "patientId": s("external_id"),
                    "appointments": {"resourceType": "Bundle", "type": "collection",
                                     "entry": [{"resource": appointment}]}}}))
    ok(call("POST", "/cds-services/ims-cadence-visit-window/feedback", booking, {"feedback": [
        {"card": "9368d37b-283f-44a0-93ea-547cebab93bb", "outcome": "overridden",
         "outcomeTimestamp": at(0), "overrideReason": {
             "reason": {"code": "physiotherapist-approved",
                        "system": "urn:ims-cadence:cds-override-reason"},
             "userComment": s("cds_comment")}}]}))
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert call("GET", path).status_code == 200

    # rejected input echoes nothing into the log either: bad values, unknown fields, paths
    assert call("POST", f"{API}/patients", booking, {
        "clinic_id": s("clinic_id"), "external_id": s("external_id2"),
        s("unknown_field"): s("unknown_value")}).status_code == 422
    assert call("GET", f"{API}/plans/{s('plan_path')}", booking).status_code == 404
    assert call("POST", f"{API}/plans/{pid}/contacts", booking, {
        "channel": s("channel"), "outcome": "reached", "note": s("note") * 100,
        "snooze_until": "2020-01-01"}).status_code == 422
    assert call("GET", f"{API}/{s('unknown_path')}?q={s('query')}").status_code == 404
    assert call("POST", f"{API}/plans/{pid}/reports", booking, {
        "recorded_at": s("recorded_at"), "pain": s("pain")}).status_code == 422
    # a crash whose message carries patient data: the 500's line names the type only
    def crash(*_: Any, **__: Any) -> Any:
        raise RuntimeError(s("exception_message"))

    monkeypatch.setattr(proposals, "next_visit", crash)
    assert call("GET", f"{API}/plans/{pid}/next-visit", booking).status_code == 500

    access = json_logs.events("request")
    assert len(access) == len(calls)  # one access line per request
    seen = {(line["method"], line["route"]) for line in access}
    every = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule not in SKIPPED_RULES
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert every - seen == set(), "endpoints the test did not exercise"
    lines = json_logs.text()
    assert "RuntimeError" in lines  # the crash was logged, without its message
    assert MARK not in lines, [line for line in lines.splitlines() if MARK in line][:3]
    assert "?" not in "".join(line["route"] for line in access)


def test_the_scheduler_and_webhook_lines_carry_no_patient_data(uow_factory, json_logs,
                                                               now) -> None:
    from datetime import timedelta

    from scheduler.jobs.nightly import run_nightly
    from tests import builders

    clinic_id = builders.clinic(uow_factory, now).id
    builders.subscribe(uow_factory, clinic_id, "https://booking.example/x", now)
    builders.plan(uow_factory, now, clinic_id, s("external_id"))
    run_nightly(uow_factory, now + timedelta(days=1))
    deliver(uow_factory, now=now, send=lambda url, headers, body: 500)
    assert json_logs.events("nightly pass done") and json_logs.events("webhook attempt")
    assert MARK not in json_logs.text()


def test_an_app_without_log_setup_still_answers(database_url, engine) -> None:
    app = create_app(Settings(database_url=database_url, testing=True))
    try:
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        app.extensions["cadence"].engine.dispose()
