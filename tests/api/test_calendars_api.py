"""iCalendar: a plan's calendar.ics and a clinic's revocable feeds, parsed with `icalendar`."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from scheduler.models import AuditEntry, CalendarFeed, IdempotencyRecord
from tests.api.plan_support import API, iso, make_plan, ok, visit_body


def events(response: Any) -> list[Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return list(Calendar.from_ical(response.get_data()).walk("VEVENT"))


def plan_events(client: Any, headers: dict[str, str], plan_id: str) -> list[Any]:
    return events(client.get(f"{API}/plans/{plan_id}/calendar.ics", headers=headers))


def by_uid(items: list[Any]) -> dict[str, Any]:
    return {str(e["UID"]): e for e in items}


def test_a_plans_calendar_holds_the_window_and_the_series_as_all_day_transparent_events(
        client, booking, clinic):
    plan = make_plan(client, booking, clinic.id, external_id="MRN-42")
    items = plan_events(client, booking, plan["id"])
    window = plan["next_visit"]
    first = items[0]
    assert first.decoded("DTSTART") == date.fromisoformat(window["earliest"])
    assert first.decoded("DTEND") == date.fromisoformat(window["latest"]) + timedelta(days=1)
    series = ok(client.get(f"{API}/plans/{plan['id']}/schedule", headers=booking))["items"]
    assert [e.decoded("DTSTART").isoformat() for e in items[1:]] == [
        s["target"] for s in series]
    assert all(str(e["TRANSP"]) == "TRANSPARENT" for e in items)
    assert all(isinstance(e.decoded("DTSTART"), date) for e in items)
    assert window["reasons"][0]["text"] in str(first["DESCRIPTION"])
    assert "MRN-42" in str(first["SUMMARY"])


def test_uids_are_stable_and_sequence_rises_only_when_the_plan_changes(client, booking,
                                                                        clinic):
    plan = make_plan(client, booking, clinic.id)
    before = by_uid(plan_events(client, booking, plan["id"]))
    again = by_uid(plan_events(client, booking, plan["id"]))
    assert before.keys() == again.keys()
    assert [e["SEQUENCE"] for e in before.values()] == [e["SEQUENCE"] for e in again.values()]
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json=visit_body("V1", "attended", iso(hours=-2))), 201)
    after = by_uid(plan_events(client, booking, plan["id"]))
    assert after.keys() == before.keys()
    window = next(uid for uid in after if uid.endswith(".window@ims-cadence"))
    assert after[window].decoded("DTSTART") != before[window].decoded("DTSTART")
    assert after[window]["SEQUENCE"] > before[window]["SEQUENCE"]


def test_the_calendar_carries_no_patient_name(client, booking, clinic):
    patient = ok(client.post(f"{API}/patients", headers=booking, json={
        "clinic_id": clinic.id, "external_id": "MRN-8", "display_name": "Grace Hopper"}), 201)
    plan = ok(client.post(f"{API}/plans", headers=booking, json={
        "patient_id": patient["id"], "condition": "neck pain", "onset_date": "2026-10-01",
        "baseline": {"pain": 6}, "neuropathic_symptoms": False}), 201)
    body = client.get(f"{API}/plans/{plan['id']}/calendar.ics", headers=booking).get_data()
    assert b"Grace" not in body and b"MRN-8" in body


def test_another_clinics_plan_calendar_is_not_found(client, booking, other_booking,
                                                    other_clinic, problem):
    plan = make_plan(client, other_booking, other_clinic.id)
    problem(client.get(f"{API}/plans/{plan['id']}/calendar.ics", headers=booking), 404)


def create_feed(client: Any, headers: dict[str, str], clinic_id: str) -> Any:
    return client.post(f"{API}/clinics/{clinic_id}/calendar-feeds", headers=headers)


def feed_path(response: Any) -> str:
    body = ok(response, 201)
    return "/" + body["url"].split("/", 3)[3]


def test_a_feed_serves_one_item_per_plan_window_in_the_next_eight_weeks(client, booking,
                                                                        clinic):
    plans = [make_plan(client, booking, clinic.id, external_id=f"MRN-{n}") for n in range(3)]
    response = create_feed(client, booking, clinic.id)
    assert response.headers["Cache-Control"] == "no-store"
    items = events(client.get(feed_path(response)))
    assert sorted(str(e["UID"]) for e in items) == sorted(
        f"{p['id']}.window@ims-cadence" for p in plans)
    assert {e.decoded("DTSTART").isoformat() for e in items} == {
        p["next_visit"]["earliest"] for p in plans}


def test_a_feed_leaves_out_booked_discharged_and_other_clinics_plans(client, booking, clinic,
                                                                     other_booking,
                                                                     other_clinic):
    shown = make_plan(client, booking, clinic.id, external_id="MRN-1")
    booked = make_plan(client, booking, clinic.id, external_id="MRN-2")
    ok(client.post(f"{API}/plans/{booked['id']}/visits", headers=booking,
                   json=visit_body("V2", "booked", iso(2))), 201)
    make_plan(client, other_booking, other_clinic.id, external_id="MRN-3")
    items = events(client.get(feed_path(create_feed(client, booking, clinic.id))))
    assert [str(e["UID"]) for e in items] == [f"{shown['id']}.window@ims-cadence"]


def test_the_feed_token_is_stored_only_hashed(client, booking, clinic, uow):
    path = feed_path(create_feed(client, {**booking, "Idempotency-Key": "f-1"}, clinic.id))
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits
    with uow:
        (stored,) = uow.session.scalars(select(CalendarFeed)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        rows = [(stored.id, stored.clinic_id, stored.created_by)]
        rows += [(a.before, a.after) for a in uow.session.scalars(select(AuditEntry))]
        rows += [(r.response_body,) for r in uow.session.scalars(select(IdempotencyRecord))]
    assert token not in repr(rows)


def test_a_revoked_or_unknown_token_is_a_bare_404(client, booking, clinic):
    response = create_feed(client, booking, clinic.id)
    path, feed_id = feed_path(response), response.get_json()["id"]
    assert client.get(path).status_code == 200
    assert client.delete(f"{API}/calendar-feeds/{feed_id}", headers=booking).status_code == 204
    for gone in (path, "/feeds/not-a-token.ics"):
        answer = client.get(gone)
        assert answer.status_code == 404
        assert answer.get_json(force=True)["detail"] == "The requested resource does not exist."


def test_another_clinics_feed_cannot_be_made_or_revoked(client, booking, other_booking,
                                                       other_clinic, problem):
    problem(create_feed(client, booking, other_clinic.id), 404)
    response = create_feed(client, other_booking, other_clinic.id)
    feed_id = ok(response, 201)["id"]
    problem(client.delete(f"{API}/calendar-feeds/{feed_id}", headers=booking), 404)
    assert client.get(feed_path(response)).status_code == 200


def test_only_admin_and_booking_keys_create_feeds(client, physio, front_desk, clinic,
                                                  problem):
    for headers in (physio, front_desk):
        problem(create_feed(client, headers, clinic.id), 403)


def test_a_feed_url_is_not_replayed_for_an_idempotency_key(client, booking, clinic, problem):
    """Like a new API key's secret: the replay is a 409 naming the feed made, never its URL."""
    headers = {**booking, "Idempotency-Key": "feed-1"}
    first = create_feed(client, headers, clinic.id)
    second = create_feed(client, headers, clinic.id)
    assert first.status_code == 201
    body = problem(second, 409)
    assert body["created_id"] == first.get_json()["id"]
    assert first.get_json()["url"].rsplit("/", 1)[-1] not in second.get_data(as_text=True)
