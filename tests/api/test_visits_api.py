"""POST/GET /plans/{id}/visits and PATCH /visits/{id}: shapes, duplicates per clinic, attended
visits not in the future (5-minute skew), every validation error and no partial writes."""

from __future__ import annotations

import pytest

from tests.api.plan_support import (
    API,
    iso,
    make_plan,
    ok,
    visit_body,
)
from tests.builders import footprint

VISIT_KEYS = {"id", "plan_id", "clinic_id", "external_id", "kind", "starts_at", "status",
              "created_at", "updated_at", "cancellation_reason", "needs_reschedule"}


def url(plan_id: str) -> str:
    return f"{API}/plans/{plan_id}/visits"


def test_a_booked_visit_is_201_with_a_location_and_books_the_window(client, booking, clinic,
                                                                    uow):
    plan = make_plan(client, booking, clinic.id)
    response = client.post(url(plan["id"]), headers=booking, json=visit_body(starts_at=iso(2)))
    visit = ok(response, 201)
    assert set(visit) == VISIT_KEYS
    assert (visit["plan_id"], visit["clinic_id"], visit["status"]) == (plan["id"], clinic.id,
                                                                       "booked")
    assert visit["starts_at"] == iso(2)
    assert response.headers["Location"] == f"{API}/visits/{visit['id']}"
    assert footprint(uow, plan["id"])["version"] == plan["version"] + 1
    window = ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking))
    assert window["state"] == "booked"


def test_an_attended_visit_moves_the_window_after_the_session(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(url(plan["id"]), headers=booking,
                   json=visit_body(status="attended", starts_at=iso(hours=-1))), 201)
    window = ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking))
    assert window["earliest"] > "2026-11-02" and window["reasons"][0]["rule"] == \
        "window.after_session"


def test_front_desk_and_physiotherapists_may_send_visits(client, booking, physio, front_desk,
                                                         clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(url(plan["id"]), headers=physio, json=visit_body("V1")), 201)
    ok(client.post(url(plan["id"]), headers=front_desk, json=visit_body("V2")), 201)


def test_a_visit_four_minutes_ahead_may_be_attended(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(url(plan["id"]), headers=booking,
                   json=visit_body(status="attended", starts_at=iso(hours=4 / 60))), 201)


def test_a_duplicate_external_id_in_the_clinic_is_409_even_on_another_plan(client, booking,
                                                                           clinic, problem, uow):
    first = make_plan(client, booking, clinic.id, "MRN-1")
    second = make_plan(client, booking, clinic.id, "MRN-2")
    visit = ok(client.post(url(first["id"]), headers=booking, json=visit_body("EXT-9")), 201)
    before = footprint(uow, second["id"])
    body = problem(client.post(url(second["id"]), headers=booking, json=visit_body("EXT-9")), 409)
    assert visit["id"] in body["detail"]
    assert footprint(uow, second["id"]) == before


def test_the_same_external_id_in_another_clinic_is_fine(client, booking, other_booking, clinic,
                                                        other_clinic):
    mine = make_plan(client, booking, clinic.id)
    theirs = make_plan(client, other_booking, other_clinic.id)
    ok(client.post(url(mine["id"]), headers=booking, json=visit_body("EXT-1")), 201)
    ok(client.post(url(theirs["id"]), headers=other_booking, json=visit_body("EXT-1")), 201)


@pytest.mark.parametrize(("change", "fields"), [
    ({"status": "attended", "starts_at": iso(hours=6 / 60)}, {"starts_at"}),
    ({"status": "no_show", "starts_at": iso(1)}, {"starts_at"}),
    ({"starts_at": "2026-11-04T09:00:00"}, {"starts_at"}),
    ({"starts_at": "2026-11-04"}, {"starts_at"}),
    ({"kind": "massage"}, {"kind"}),
    ({"status": "done"}, {"status"}),
    ({"external_id": ""}, {"external_id"}),
    ({"external_id": 7}, {"external_id"}),
    ({"room": "2"}, {"room"}),
], ids=["attended-six-minutes-ahead", "no-show-tomorrow", "naive-start", "date-only-start",
        "unknown-kind", "unknown-status", "empty-external-id", "external-id-as-number",
        "unknown-field"])
def test_an_invalid_visit_is_422_per_field_and_changes_nothing(client, booking, clinic, problem,
                                                               uow, change, fields):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    body = problem(client.post(url(plan["id"]), headers=booking,
                               json={**visit_body(), **change}), 422)
    assert set(body["errors"]) == fields
    assert footprint(uow, plan["id"]) == before


@pytest.mark.parametrize("missing", ["external_id", "kind", "starts_at", "status"])
def test_a_visit_without_a_required_field_is_422(client, booking, clinic, problem, missing):
    plan = make_plan(client, booking, clinic.id)
    body = visit_body()
    del body[missing]
    assert set(problem(client.post(url(plan["id"]), headers=booking, json=body),
                       422)["errors"]) == {missing}


def test_malformed_json_is_400(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    problem(client.post(url(plan["id"]), headers=booking, data="[",
                        content_type="application/json"), 400)


def test_a_patch_changes_the_status_and_time(client, booking, front_desk, clinic, clock, uow):
    plan = make_plan(client, booking, clinic.id)
    visit = ok(client.post(url(plan["id"]), headers=booking, json=visit_body(starts_at=iso(1))),
               201)
    clock.advance(days=1, hours=2)
    patched = ok(client.patch(f"{API}/visits/{visit['id']}", headers=front_desk,
                              json={"status": "attended", "starts_at": iso(1, 1)}))
    assert (patched["status"], patched["starts_at"]) == ("attended", iso(1, 1))
    assert patched["updated_at"] == clock().isoformat() and patched["kind"] == "needling"
    assert footprint(uow, plan["id"])["version"] == plan["version"] + 2


@pytest.mark.parametrize(("body", "fields"), [
    ({"status": "attended"}, {"starts_at"}),
    ({"status": "attended", "starts_at": "2026-11-02T09:00:00"}, {"starts_at"}),
    ({"status": "gone"}, {"status"}),
    ({}, {"status"}),
    ({"status": "cancelled", "kind": "review"}, {"kind"}),
], ids=["attended-in-the-future", "naive-start", "unknown-status", "no-status",
        "kind-may-not-change"])
def test_an_invalid_patch_is_422_and_changes_nothing(client, booking, clinic, problem, uow,
                                                     body, fields):
    plan = make_plan(client, booking, clinic.id)
    visit = ok(client.post(url(plan["id"]), headers=booking, json=visit_body(starts_at=iso(1))),
               201)
    before = footprint(uow, plan["id"])
    assert set(problem(client.patch(f"{API}/visits/{visit['id']}", headers=booking, json=body),
                       422)["errors"]) == fields
    assert footprint(uow, plan["id"]) == before


def test_visits_are_listed_in_the_order_sent_and_page(client, booking, front_desk, clinic,
                                                     clock):
    plan = make_plan(client, booking, clinic.id)
    made = []
    for n in range(3):
        made.append(ok(client.post(url(plan["id"]), headers=booking,
                                   json=visit_body(f"V{n}", starts_at=iso(n + 1))), 201))
        clock.advance(minutes=1)
    assert ok(client.get(url(plan["id"]), headers=front_desk)) == {"items": made,
                                                                   "next_cursor": None}
    first = ok(client.get(url(plan["id"]) + "?limit=1", headers=front_desk))
    assert first["items"] == made[:1] and first["next_cursor"]


def test_visits_of_unknown_objects_are_404(client, booking, problem):
    problem(client.post(url("pln_nope"), headers=booking, json=visit_body()), 404)
    problem(client.get(url("pln_nope"), headers=booking), 404)
    problem(client.patch(f"{API}/visits/vis_nope", headers=booking, json={"status": "booked"}),
            404)


def test_visits_without_a_key_are_401(client, problem):
    problem(client.post(url("pln_nope"), json=visit_body()), 401)
    problem(client.patch(f"{API}/visits/vis_nope", json={"status": "booked"}), 401)
