"""CDS Hooks appointment-book: discovery, cards judged in the clinic's zone, feedback, errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from scheduler.models import AuditEntry
from tests.api.plan_support import API, act, iso, make_plan, ok, visit_body

CDS = "/cds-services"
SERVICE = f"{CDS}/ims-cadence-visit-window"
KIND = "urn:ims-cadence:visit-kind"


def appointment(start: str, *, kind: str | None = "needling", text: str | None = None,
                appointment_id: str = "appt-1") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Appointment", "id": appointment_id,
                                "status": "proposed", "start": start}
    if kind:
        resource["serviceType"] = [{"coding": [{"system": KIND, "code": kind}]}]
    if text:
        resource["serviceType"] = [{"text": text}]
    return resource


def hook_body(patient_id: str, *appointments: dict[str, Any]) -> dict[str, Any]:
    return {"hook": "appointment-book", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/123", "patientId": patient_id,
                        "appointments": {"resourceType": "Bundle", "type": "collection",
                                         "entry": [{"resource": a} for a in appointments]}}}


def call(client: Any, headers: dict[str, str], body: Any) -> list[dict[str, Any]]:
    return ok(client.post(SERVICE, headers=headers, json=body))["cards"]


def local(day: str, time: str = "10:00:00") -> str:
    """An instant at `time` in Vancouver on `day` (PST in November)."""
    return f"{day}T{time}-08:00"


def shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def plan_after_session(client: Any, headers: dict[str, str], clinic_id: str,
                       external_id: str = "MRN-1") -> dict[str, Any]:
    plan = make_plan(client, headers, clinic_id, external_id=external_id)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=headers,
                   json=visit_body("V1", "attended", iso(hours=-2))), 201)
    return ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=headers))


def test_discovery_lists_the_appointment_book_service_with_a_patient_prefetch(client,
                                                                             booking):
    (service,) = ok(client.get(CDS, headers=booking))["services"]
    assert service["hook"] == "appointment-book"
    assert service["id"] == "ims-cadence-visit-window"
    assert service["prefetch"] == {"patient": "Patient/{{context.patientId}}"}


def test_discovery_needs_a_key(client, problem):
    problem(client.get(CDS), 401)


def test_an_appointment_inside_the_window_gets_no_cards(client, booking, clinic):
    window = plan_after_session(client, booking, clinic.id)
    for day in (window["earliest"], window["target"], window["latest"]):
        assert call(client, booking, hook_body("MRN-1", appointment(local(day)))) == []


def test_too_soon_is_a_warning_naming_the_days_with_a_move_to_the_target(client, booking,
                                                                        clinic):
    window = plan_after_session(client, booking, clinic.id)
    early = shift(window["earliest"], -1)
    (card,) = call(client, booking, hook_body("MRN-1", appointment(local(early))))
    assert card["indicator"] == "warning"
    assert early in card["summary"] and window["earliest"] in card["summary"]
    assert "days after the last session on 2026-11-02" in card["summary"]
    assert len(card["summary"]) <= 140
    assert card["source"]["label"] == "IMS Cadence"
    assert window["reasons"][0]["text"] in card["detail"]
    assert {r["code"] for r in card["overrideReasons"]} == {
        "different-body-region", "non-needling-visit", "physiotherapist-approved"}
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    assert action["resource"]["start"] == local(window["target"])
    assert action["resource"]["id"] == "appt-1"


def test_after_the_latest_day_is_an_info(client, booking, clinic):
    window = plan_after_session(client, booking, clinic.id)
    (card,) = call(client, booking, hook_body("MRN-1", appointment(
        local(shift(window["latest"], 1)))))
    assert card["indicator"] == "info"
    assert window["latest"] in card["summary"]
    assert card["suggestions"][0]["actions"][0]["resource"]["start"] == local(
        window["target"])


def test_an_appointment_given_in_utc_is_judged_on_the_clinics_local_day(client, booking,
                                                                       clinic):
    window = plan_after_session(client, booking, clinic.id)
    # 03:00 UTC on the earliest day is 19:00 the evening before in Vancouver: too soon.
    utc = f"{window['earliest']}T03:00:00Z"
    (card,) = call(client, booking, hook_body("MRN-1", appointment(utc)))
    assert card["indicator"] == "warning"
    assert shift(window["earliest"], -1) in card["summary"]
    # 07:00 UTC on the day after latest is 23:00 on latest in Vancouver: inside.
    assert call(client, booking, hook_body("MRN-1", appointment(
        f"{shift(window['latest'], 1)}T07:00:00Z"))) == []


def test_a_plan_on_hold_without_consent_or_discharged_warns_whatever_the_day(client, booking,
                                                                           clinic):
    held = make_plan(client, booking, clinic.id, external_id="HOLD")
    ok(act(client, booking, held["id"], {"action": "hold", "reason": "review"}))
    make_plan(client, booking, clinic.id, external_id="NOCONSENT", consent=None)
    done = make_plan(client, booking, clinic.id, external_id="DONE")
    ok(act(client, booking, done["id"], {"action": "discharge", "reason": "goals met"}))
    found = {}
    for patient in ("HOLD", "NOCONSENT", "DONE"):
        (card,) = call(client, booking, hook_body(patient, appointment(local("2026-11-10"))))
        found[patient] = (card["indicator"], card["summary"].split(" ")[0:3])
    assert found == {"HOLD": ("warning", ["Plan", "on", "hold"]),
                     "NOCONSENT": ("warning", ["No", "consent", "recorded:"]),
                     "DONE": ("warning", ["Plan", "discharged:", "no"])}


def test_no_plan_unknown_patient_or_another_clinics_patient_gives_no_cards(
        client, booking, clinic, other_booking, other_clinic):
    ok(client.post(f"{API}/patients", headers=booking,
                   json={"clinic_id": clinic.id, "external_id": "NOPLAN"}), 201)
    plan_after_session(client, other_booking, other_clinic.id, external_id="THEIRS")
    soon = local("2026-11-03")
    for patient in ("NOPLAN", "NOBODY", "THEIRS"):
        assert call(client, booking, hook_body(patient, appointment(soon))) == []
    assert len(call(client, other_booking, hook_body("THEIRS", appointment(soon)))) == 1


def test_only_needling_appointments_are_judged(client, booking, clinic):
    window = plan_after_session(client, booking, clinic.id)
    soon = local(shift(window["earliest"], -1))
    assert call(client, booking, hook_body("MRN-1", appointment(soon, kind="review"))) == []
    assert call(client, booking, hook_body("MRN-1", appointment(
        soon, kind=None, text="Massage therapy"))) == []
    assert len(call(client, booking, hook_body("MRN-1", appointment(
        soon, kind=None, text="Dry needling follow-up")))) == 1
    assert len(call(client, booking, hook_body("MRN-1", appointment(soon, kind=None)))) == 1


def test_malformed_hook_requests_are_a_400_naming_the_field(client, booking):
    bad_start = hook_body("MRN-1", appointment("2026-11-05T10:00:00"))
    no_patient = hook_body("MRN-1")
    del no_patient["context"]["patientId"]
    cases = {
        "hook": {**hook_body("MRN-1"), "hook": "patient-view"},
        "context.patientId": no_patient,
        "context.appointments.entry.0.resource.start": bad_start,
        "context.appointments.resourceType": {**hook_body("MRN-1"), "context": {
            "userId": "u", "patientId": "MRN-1", "appointments": {"resourceType": "List"}}},
        "body": [1, 2],
        "hookInstance": {**hook_body("MRN-1"), "hookInstance": "\ud800"},
    }
    for field, body in cases.items():
        response = client.post(SERVICE, headers=booking, json=body)
        assert response.status_code == 400, (field, response.get_data(as_text=True))
        assert response.mimetype == "application/json"
        assert field in response.get_json()["errors"], field
    unstorable = json.dumps(hook_body("MRN-\ud800")).encode()
    response = client.post(SERVICE, headers={**booking, "Content-Type": "application/json"},
                           data=unstorable)
    assert response.status_code == 400
    assert "context.patientId" in response.get_json()["errors"]
    response = client.post(SERVICE, headers={**booking, "Content-Type": "application/json"},
                           data=b"{not json")
    assert response.status_code == 400 and "error" in response.get_json()


def test_an_unknown_service_is_a_404(client, booking):
    response = client.post(f"{CDS}/nope", headers=booking, json=hook_body("MRN-1"))
    assert response.status_code == 404 and "error" in response.get_json()


def test_feedback_is_recorded_in_the_audit_trail(client, booking, clinic, uow):
    body = {"feedback": [
        {"card": "9368d37b-283f-44a0-93ea-547cebab93bb", "outcome": "overridden",
         "outcomeTimestamp": iso(),
         "overrideReason": {"reason": {"code": "physiotherapist-approved",
                                       "system": "urn:ims-cadence:cds-override-reason"},
                            "userComment": "ok per physio"}},
        {"card": "7dfa9c6d-4ab3-4e3b-9b1b-6a3c5c3fbd9e", "outcome": "accepted",
         "outcomeTimestamp": iso(), "acceptedSuggestions": [{"id": "s-1"}]}]}
    ok(client.post(f"{SERVICE}/feedback", headers=booking, json=body))
    with uow:
        rows = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "cds.feedback").order_by(AuditEntry.id)).all()
        found = sorted((r.after["outcome"], r.clinic_id, (r.after["override_reason"] or {})
                        .get("code")) for r in rows)
    assert found == [("accepted", clinic.id, None),
                     ("overridden", clinic.id, "physiotherapist-approved")]


def test_malformed_feedback_is_a_400_and_stores_nothing(client, booking, uow):
    body = {"feedback": [{"card": "c-1", "outcome": "accepted", "outcomeTimestamp": iso()},
                         {"card": "c-2", "outcome": "maybe", "outcomeTimestamp": iso()}]}
    response = client.post(f"{SERVICE}/feedback", headers=booking, json=body)
    assert response.status_code == 400
    assert "feedback.1.outcome" in response.get_json()["errors"]
    with uow:
        assert uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "cds.feedback")).all() == []
