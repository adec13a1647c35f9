"""The contact log over HTTP (api.md, Contacts): 201 with id, created_at and actor; newest
first in pages; every 422 names its field and changes nothing; the worklist's last_contact
and contact_attempts; the snooze and the do_not_contact flag with its clearing action.

Clinic in Vancouver, clock at Mon 2026-11-02 09:30 local; the default plan is due
11-02..11-06.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.plan_support import API, act, etag, make_plan, ok
from tests.builders import footprint


def contact(client: Any, headers: dict[str, str], plan_id: str, **body: Any) -> Any:
    return client.post(f"{API}/plans/{plan_id}/contacts", headers=headers,
                       json={"channel": "phone", "outcome": "no_answer", **body})


def worklist(client: Any, headers: dict[str, str], clinic_id: str, query: str = "") -> Any:
    return ok(client.get(f"{API}/followups?clinic_id={clinic_id}{query}", headers=headers))


def test_a_logged_contact_is_201_with_its_id_time_and_actor(client, booking, front_desk,
                                                            clinic):
    plan = make_plan(client, booking, clinic.id)
    made = ok(contact(client, {**front_desk, "X-Actor": "staff:41"}, plan["id"],
                      channel="sms", outcome="left_message", note="Texted the clinic's number",
                      snooze_until="2026-11-04"), 201)
    assert made["id"].startswith("con_") and made["plan_id"] == plan["id"]
    assert made == {"id": made["id"], "plan_id": plan["id"], "clinic_id": clinic.id,
                    "channel": "sms", "outcome": "left_message",
                    "note": "Texted the clinic's number", "snooze_until": "2026-11-04",
                    "actor": "staff:41", "created_at": "2026-11-02T17:30:00+00:00"}
    keyed = ok(contact(client, front_desk, plan["id"]), 201)
    assert keyed["actor"].startswith("key_") and keyed["note"] is None


def test_contacts_are_listed_newest_first_in_pages(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    made = []
    for n in range(3):
        made.append(ok(contact(client, booking, plan["id"], note=f"call {n}"), 201)["id"])
        clock.advance(minutes=1)
    first = ok(client.get(f"{API}/plans/{plan['id']}/contacts?limit=2", headers=booking))
    rest = ok(client.get(f"{API}/plans/{plan['id']}/contacts?limit=2&cursor="
                         f"{first['next_cursor']}", headers=booking))
    assert [c["id"] for c in first["items"] + rest["items"]] == made[::-1]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"channel": "fax"}, "channel"),
    ({"outcome": "maybe"}, "outcome"),
    ({"note": "x" * 2001}, "note"),
    ({"snooze_until": "2026-11-01"}, "snooze_until"),
    ({"snooze_until": "2027-02-01"}, "snooze_until"),  # 91 days after 11-02
    ({"snooze_until": "2026-11-02T10:00:00Z"}, "snooze_until"),
    ({"colour": "red"}, "colour"),
], ids=["unknown-channel", "unknown-outcome", "note-over-2000-characters",
        "snooze-before-the-clinics-today", "snooze-91-days-ahead", "snooze-not-a-date",
        "unknown-field"])
def test_bad_input_is_a_422_naming_the_field_that_changes_nothing(client, booking, clinic, uow,
                                                                  problem, body, field):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    answer = problem(contact(client, booking, plan["id"], **body), 422)
    assert list(answer["errors"]) == [field]
    assert footprint(uow, plan["id"]) == before


@pytest.mark.parametrize(("note", "snooze"), [("x" * 2000, "2026-11-02"),
                                              (None, "2027-01-31")],
                         ids=["note-of-2000-and-snooze-today", "snooze-90-days-ahead"])
def test_the_limits_themselves_are_accepted(client, booking, clinic, note, snooze):
    plan = make_plan(client, booking, clinic.id)
    ok(contact(client, booking, plan["id"], note=note, snooze_until=snooze), 201)


def test_a_missing_channel_or_outcome_is_a_422(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    answer = problem(client.post(f"{API}/plans/{plan['id']}/contacts", headers=booking,
                                 json={}), 422)
    assert set(answer["errors"]) == {"channel", "outcome"}


def test_a_discharged_plan_takes_no_contact(client, booking, physio, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, physio, plan["id"], {"action": "discharge", "reason": "done"}))
    problem(contact(client, booking, plan["id"]), 409)


def test_each_contact_is_in_the_audit_trail(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    made = ok(contact(client, {**booking, "X-Actor": "front:3"}, plan["id"],
                      outcome="do_not_contact"), 201)
    entries = ok(client.get(f"{API}/audit?plan_id={plan['id']}", headers=physio))["items"]
    (entry,) = [e for e in entries if e["action"] == "contact.logged"]
    assert entry["actor"]["name"] == "front:3"
    assert entry["after"]["contact_id"] == made["id"]
    assert (entry["before"]["do_not_contact"], entry["after"]["do_not_contact"]) == (False, True)


def test_worklist_items_carry_the_last_contact_and_the_attempts(client, booking, front_desk,
                                                                clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    other = make_plan(client, booking, clinic.id, "MRN-2")
    ok(contact(client, front_desk, plan["id"]), 201)
    clock.advance(hours=1)
    ok(contact(client, {**front_desk, "X-Actor": "staff:9"}, plan["id"], channel="email",
               outcome="left_message"), 201)
    items = {i["plan_id"]: i for i in worklist(client, front_desk, clinic.id)["items"]}
    assert items[plan["id"]]["contact_attempts"] == 2
    assert items[plan["id"]]["last_contact"] == {
        "at": "2026-11-02T18:30:00+00:00", "channel": "email", "outcome": "left_message",
        "actor": "staff:9"}
    assert (items[other["id"]]["last_contact"], items[other["id"]]["contact_attempts"]) == (
        None, 0)


def test_attempts_count_from_the_day_the_window_became_due(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    ok(contact(client, booking, plan["id"]), 201)
    # an attended session on Wed 11-04: the new window's earliest is Mon 11-09
    clock.advance(days=2)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json={"external_id": "A-1", "kind": "needling", "status": "attended",
                         "starts_at": "2026-11-04T17:00:00+00:00"}), 201)
    (item,) = worklist(client, booking, clinic.id)["items"]
    assert (item["window"]["earliest"], item["contact_attempts"]) == ("2026-11-09", 0)
    assert item["last_contact"]["outcome"] == "no_answer"
    clock.advance(days=5)  # Mon 11-09: due
    ok(contact(client, booking, plan["id"], outcome="reached"), 201)
    (item,) = worklist(client, booking, clinic.id)["items"]
    assert (item["window"]["state"], item["contact_attempts"]) == ("due", 1)


def test_a_snooze_is_off_the_worklist_through_its_day_and_the_plans_etag_moves(
        client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    before = etag(client, booking, plan["id"])
    ok(contact(client, booking, plan["id"], outcome="reached", snooze_until="2026-11-03"), 201)
    assert etag(client, booking, plan["id"]) != before
    shown = ok(client.get(f"{API}/plans/{plan['id']}", headers=booking))
    assert shown["next_visit"]["snoozed_until"] == "2026-11-03"
    assert worklist(client, booking, clinic.id)["items"] == []
    (item,) = worklist(client, booking, clinic.id, "&include_snoozed=true")["items"]
    assert item["snoozed_until"] == "2026-11-03"
    assert worklist(client, booking, clinic.id, "&on=2026-11-04")["items"] != []
    clock.advance(days=1)  # 11-03: the snooze's last day
    assert worklist(client, booking, clinic.id)["items"] == []
    clock.advance(days=1)  # 11-04: back
    (item,) = worklist(client, booking, clinic.id)["items"]
    assert item["snoozed_until"] is None


def test_do_not_contact_flags_the_plan_and_a_physiotherapist_clears_it(
        client, booking, front_desk, physio, clinic, problem, clock):
    plan = make_plan(client, booking, clinic.id)
    ok(contact(client, front_desk, plan["id"], outcome="do_not_contact"), 201)
    flagged = ok(client.get(f"{API}/plans/{plan['id']}", headers=front_desk))
    assert "do_not_contact" in flagged["flags"]
    assert worklist(client, front_desk, clinic.id)["items"] == []
    (item,) = worklist(client, front_desk, clinic.id, "&include_snoozed=true")["items"]
    assert "do_not_contact" in item["flags"]
    (listed,) = worklist(client, physio, clinic.id, "&flag=do_not_contact")["items"]
    assert listed["plan_id"] == plan["id"]
    # the front desk may not clear it; the action needs If-Match like the others
    clear = {"action": "clear_do_not_contact", "reason": "patient called back"}
    problem(act(client, front_desk, plan["id"], clear), 403)
    problem(client.post(f"{API}/plans/{plan['id']}/actions", headers=physio, json=clear), 428)
    problem(act(client, physio, plan["id"], clear, if_match='"1-2026-11-02"'), 412)
    problem(act(client, physio, plan["id"], {"action": "clear_do_not_contact"}), 422)
    clock.advance(minutes=5)
    cleared = ok(act(client, physio, plan["id"], clear))
    assert "do_not_contact" not in cleared["flags"] and cleared["decision"] is None
    assert cleared["version"] == flagged["version"] + 1
    assert worklist(client, front_desk, clinic.id)["items"] != []
    problem(act(client, physio, plan["id"], clear), 409)  # nothing left to clear


def test_a_visit_booked_after_a_snooze_puts_the_plan_back(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(contact(client, booking, plan["id"], outcome="reached", snooze_until="2026-11-20"), 201)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json={"external_id": "B-1", "kind": "needling", "status": "booked",
                         "starts_at": "2026-11-05T18:00:00+00:00"}), 201)
    (item,) = worklist(client, booking, clinic.id)["items"]
    assert (item["window"]["state"], item["snoozed_until"]) == ("booked", None)
