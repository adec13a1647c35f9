"""GET /plans/{id}/fhir: a FHIR R4 Bundle that validates, for every status and phase history."""

from __future__ import annotations

from typing import Any

from tests.api.fhir_support import validated
from tests.api.plan_support import API, act, iso, make_plan, ok, report_body, visit_body

FHIR = "application/fhir+json"


def bundle(client: Any, headers: dict[str, str], plan_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/plans/{plan_id}/fhir", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    return response.get_json(force=True)


def of_type(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == kind]


def test_an_active_plan_is_a_collection_bundle_with_its_frequency_and_window(client, booking,
                                                                            clinic):
    plan = make_plan(client, booking, clinic.id)
    body = bundle(client, booking, plan["id"])
    resources = validated(body)
    assert body["type"] == "collection"
    care_plan, request = resources["CarePlan"], resources["ServiceRequest"]
    assert (care_plan["status"], care_plan["intent"]) == ("active", "plan")
    (activity,) = care_plan["activity"]
    assert activity["detail"]["status"] == "in-progress"
    repeat = activity["detail"]["scheduledTiming"]["repeat"]
    frequency = plan["frequency"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (
        frequency["frequency"], frequency["period"], frequency["period_unit"])
    assert request["intent"] == "plan"
    assert request["occurrenceTiming"]["repeat"]["frequency"] == frequency["frequency"]
    assert request["basedOn"] == [{"reference": f"urn:uuid:{care_plan['id']}"}]
    appointment = resources["Appointment"]
    assert appointment["status"] == "proposed" and "start" not in appointment
    window = plan["next_visit"]
    assert appointment["requestedPeriod"] == [{"start": window["earliest"],
                                               "end": window["latest"]}]
    assert appointment["basedOn"] == [{"reference": f"urn:uuid:{request['id']}"}]
    assert appointment["appointmentType"]["coding"][0]["code"] == "FOLLOWUP"
    assert appointment["serviceType"][0]["coding"][0]["code"] == "needling"
    assert activity["progress"] and all(note["text"] for note in activity["progress"])


def test_the_patient_is_an_identifier_of_the_clinic_and_no_name(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id, external_id="MRN-77")
    patient = validated(bundle(client, booking, plan["id"]))["Patient"]
    assert patient["identifier"] == [{"system": f"urn:ims-cadence:clinic:{clinic.id}:patient",
                                      "value": "MRN-77"}]
    assert "name" not in patient


def test_a_patient_with_a_display_name_is_named(client, booking, clinic):
    patient = ok(client.post(f"{API}/patients", headers=booking, json={
        "clinic_id": clinic.id, "external_id": "MRN-5", "display_name": "Ada L."}), 201)
    plan = ok(client.post(f"{API}/plans", headers=booking, json={
        "patient_id": patient["id"], "condition": "neck pain", "onset_date": "2026-10-01",
        "baseline": {"pain": 6}, "neuropathic_symptoms": False}), 201)
    assert validated(bundle(client, booking, plan["id"]))["Patient"]["name"] == [
        {"text": "Ada L."}]


def test_ids_are_stable_across_requests(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ids = [[e["fullUrl"] for e in bundle(client, booking, plan["id"])["entry"]]
           for _ in range(2)]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])


def test_each_plan_status_maps_to_a_care_plan_status(client, booking, clinic):
    pending = make_plan(client, booking, clinic.id, external_id="P-1", consent=None)
    held = make_plan(client, booking, clinic.id, external_id="P-2")
    ok(act(client, booking, held["id"], {"action": "hold", "reason": "review"}))
    done = make_plan(client, booking, clinic.id, external_id="P-3")
    ok(act(client, booking, done["id"], {"action": "discharge", "reason": "goals met"}))
    found = {}
    for name, plan in (("pending", pending), ("held", held), ("done", done)):
        resources = validated(bundle(client, booking, plan["id"]))
        found[name] = (resources["CarePlan"]["status"], resources["ServiceRequest"]["status"],
                       resources["CarePlan"]["activity"][-1]["detail"]["status"],
                       resources.get("Appointment", {}).get("serviceType", [{}])[0]
                       .get("coding", [{}])[0].get("code"))
    assert found == {"pending": ("draft", "draft", "not-started", "assessment"),
                     "held": ("on-hold", "on-hold", "on-hold", "review"),
                     "done": ("completed", "completed", "completed", None)}


def test_a_discharged_care_plan_has_an_end_and_no_appointment(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, booking, plan["id"], {"action": "discharge", "reason": "goals met"}))
    body = bundle(client, booking, plan["id"])
    validated(body)
    assert of_type(body, "Appointment") == []
    assert "end" in of_type(body, "CarePlan")[0]["period"]


def test_each_phase_is_an_activity_the_earlier_ones_completed_with_their_last_frequency(
        client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    initial = plan["frequency"]
    clock.advance(days=3)
    moved = ok(act(client, booking, plan["id"], {"action": "set_phase", "phase": "middle",
                                                 "reason": "responding well"}))
    clock.advance(days=7)
    ok(act(client, booking, plan["id"], {"action": "set_phase", "phase": "maintenance",
                                         "reason": "stable"}))
    care_plan = validated(bundle(client, booking, plan["id"]))["CarePlan"]
    activities = care_plan["activity"]
    assert [a["detail"]["code"]["text"].split()[0] for a in activities] == [
        "initial", "middle", "maintenance"]
    assert [a["detail"]["status"] for a in activities] == [
        "completed", "completed", "in-progress"]
    first, second, third = (a["detail"]["scheduledTiming"]["repeat"] for a in activities)
    assert first["frequency"] == initial["frequency"]
    assert second["frequency"] == moved["frequency"]["frequency"]
    assert first["boundsPeriod"] == {"start": "2026-11-02", "end": "2026-11-05"}
    assert second["boundsPeriod"] == {"start": "2026-11-05", "end": "2026-11-12"}
    assert third["boundsPeriod"] == {"start": "2026-11-12"}
    assert "responding well" not in str(activities[2]["progress"])


def test_pain_reports_are_loinc_observations(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json=visit_body("V1", "attended", iso(hours=-30))), 201)
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                   json=report_body(iso(), pain=4, soreness_hours=10)), 201)
    body = bundle(client, booking, plan["id"])
    validated(body)
    (observation,) = of_type(body, "Observation")
    assert observation["code"]["coding"][0] == {
        "system": "http://loinc.org", "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
    assert observation["valueInteger"] == 4
    assert observation["effectiveDateTime"].startswith("2026-11-02T17:30")


def test_a_missing_plan_is_an_operation_outcome_for_a_fhir_client(client, booking):
    response = client.get(f"{API}/plans/pln_missing/fhir",
                          headers={**booking, "Accept": FHIR})
    assert response.status_code == 404 and response.mimetype == FHIR
    outcome = response.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


def test_a_missing_plan_is_a_problem_for_other_clients(client, booking, problem):
    problem(client.get(f"{API}/plans/pln_missing/fhir", headers=booking), 404)


def test_another_clinics_plan_is_not_found(client, booking, other_booking, other_clinic,
                                           problem):
    plan = make_plan(client, other_booking, other_clinic.id)
    problem(client.get(f"{API}/plans/{plan['id']}/fhir", headers=booking), 404)


def test_a_new_report_is_in_the_next_bundle(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    assert of_type(bundle(client, booking, plan["id"]), "Observation") == []
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                   json=report_body(iso(), pain=3)), 201)
    (observation,) = of_type(bundle(client, booking, plan["id"]), "Observation")
    assert observation["valueInteger"] == 3


def test_an_authorization_is_the_service_requests_quantity(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id, authorization={
        "payer": "Pacific Blue Cross", "visits_allowed": 6, "valid_until": "2027-01-31",
        "count_no_shows": False})
    clock.advance(days=1)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json=visit_body("A-1", "attended", iso(1))), 201)
    request = validated(bundle(client, booking, plan["id"]))["ServiceRequest"]
    assert request["quantityQuantity"]["value"] == 6
    assert "5 left" in request["note"][0]["text"]
    plain = make_plan(client, booking, clinic.id, "MRN-2")
    assert "quantityQuantity" not in validated(bundle(client, booking, plain["id"]))[
        "ServiceRequest"]

