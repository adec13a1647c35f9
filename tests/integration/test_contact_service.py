"""The contact log's service: logging and listing contacts, their snooze and the
do_not_contact flag on the plan and the worklist, attempts counted since the window became
due, and the plan action that clears the flag.

Clinic in Vancouver, open Mon-Fri, clock at Mon 2026-11-02 09:30 local (T0). The default
plan (consented, 2/week, started today) is due 11-02..11-06, overdue to 11-09.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.services import audit, contacts, plans, proposals, visits, what_if
from scheduler.services.common import Actor
from tests import builders

FRONT_DESK = Actor(key_id=None, name="staff:41")


def log(uow_factory, plan_id, now, **fields):
    values = {"channel": "phone", "outcome": "no_answer"} | fields
    return contacts.log_contact(uow_factory(), plan_id, **values, actor=FRONT_DESK, now=now)


def worklist(uow_factory, clinic_id, now, **query):
    return proposals.followups(uow_factory(), clinic_id=clinic_id, on=query.pop("on", None),
                               now=now, **query).items


def test_a_contact_is_stored_with_its_author_and_listed_newest_first(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    first = log(uow_factory, plan.id, now, note="Voicemail full")
    second = log(uow_factory, plan.id, now + timedelta(minutes=5), channel="sms",
                 outcome="left_message")
    assert (first.actor, first.channel, first.outcome, first.note) == (
        "staff:41", "phone", "no_answer", "Voicemail full")
    page = contacts.list_contacts(uow_factory(), plan.id)
    assert [c.id for c in page.items] == [second.id, first.id]
    assert page.items[1] == first and page.next_cursor is None


def test_contacts_page_newest_first_with_a_cursor(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    made = [log(uow_factory, plan.id, now + timedelta(minutes=i)).id for i in range(5)]
    seen, cursor = [], None
    for _ in range(5):
        page = contacts.list_contacts(uow_factory(), plan.id, limit=2, cursor=cursor)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made[::-1]


def test_an_empty_note_is_no_note(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    assert log(uow_factory, plan.id, now, note="").note is None
    assert contacts.list_contacts(uow_factory(), plan.id).items[0].note is None


def test_a_plain_contact_leaves_the_plan_version_alone(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now)
    assert plans.get_plan(uow_factory(), plan.id, now=now).version == plan.version


def test_each_contact_has_an_audit_entry_without_its_note(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    made = log(uow_factory, plan.id, now, note="Sentinel note 7731",
               snooze_until=date(2026, 11, 4))
    (entry,) = [e for e in audit.list_entries(uow_factory(), scope=None, plan_id=plan.id).items
                if e["action"] == "contact.logged"]
    assert entry["actor"] == {"key_id": None, "name": "staff:41"}
    assert entry["after"]["contact_id"] == made.id
    assert entry["after"]["contact_snoozed_until"] == "2026-11-04"
    assert entry["before"] == {"contact_snoozed_until": None, "do_not_contact": False}
    assert "Sentinel" not in str(entry)


@pytest.mark.parametrize(("fields", "field"), [
    ({"channel": "fax"}, "channel"),
    ({"outcome": "maybe"}, "outcome"),
    ({"note": "x" * 2001}, "note"),
    ({"snooze_until": date(2026, 11, 1)}, "snooze_until"),
    ({"snooze_until": date(2026, 11, 2) + timedelta(days=91)}, "snooze_until"),
], ids=["unknown-channel", "unknown-outcome", "note-over-2000", "snooze-yesterday",
        "snooze-91-days-ahead"])
def test_bad_input_names_the_field_and_changes_nothing(uow_factory, now, fields, field):
    plan = builders.plan(uow_factory, now)
    before = builders.footprint(uow_factory(), plan.id)
    with pytest.raises(ValidationFailed) as raised:
        log(uow_factory, plan.id, now, **fields)
    assert list(raised.value.errors) == [field]
    assert builders.footprint(uow_factory(), plan.id) == before


@pytest.mark.parametrize("snooze", [date(2026, 11, 2), date(2026, 11, 2) + timedelta(days=90)],
                         ids=["today", "90-days-ahead"])
def test_a_snooze_from_today_to_90_days_ahead_is_accepted(uow_factory, now, snooze):
    plan = builders.plan(uow_factory, now)
    assert log(uow_factory, plan.id, now, snooze_until=snooze).snooze_until == snooze


def test_the_snooze_range_is_the_clinics_today_not_utcs(uow_factory):
    # 2026-11-03 06:00 UTC is still 11-02 in Vancouver: a snooze until 11-02 is today
    late = datetime(2026, 11, 3, 6, 0, tzinfo=UTC)
    plan = builders.plan(uow_factory, late)
    assert log(uow_factory, plan.id, late, snooze_until=date(2026, 11, 2)).snooze_until


def test_another_clinics_plan_is_not_found(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    with pytest.raises(NotFound):
        contacts.log_contact(uow_factory(), plan.id, channel="phone", outcome="reached",
                             actor=FRONT_DESK, now=now, scope=frozenset({"cln_other"}))
    with pytest.raises(NotFound):
        contacts.list_contacts(uow_factory(), plan.id, scope=frozenset({"cln_other"}))


def test_a_discharged_plan_takes_no_contact(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    builders.act(uow_factory, plan.id, "discharge", now)
    with pytest.raises(Conflict):
        log(uow_factory, plan.id, now)


def test_the_worklist_carries_the_last_contact_and_the_attempts(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    (item,) = worklist(uow_factory, plan.clinic_id, now)
    assert (item["last_contact"], item["contact_attempts"]) == (None, 0)
    log(uow_factory, plan.id, now)
    log(uow_factory, plan.id, now + timedelta(hours=1), channel="email",
        outcome="left_message")
    (item,) = worklist(uow_factory, plan.clinic_id, now + timedelta(hours=2))
    assert item["contact_attempts"] == 2
    assert item["last_contact"] == {"at": now + timedelta(hours=1), "channel": "email",
                                    "outcome": "left_message", "actor": "staff:41"}


def test_attempts_restart_when_a_new_window_becomes_due(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now)
    log(uow_factory, plan.id, now + timedelta(days=1))
    # attended on Wed 11-04: the next window is Mon 11-09 (earliest, +3 -> Sat -> Mon) onward
    session = now + timedelta(days=2)
    builders.visit(uow_factory, plan.id, session, external_id="A-1", starts_at=session)
    (item,) = worklist(uow_factory, plan.clinic_id, session)
    assert item["window"]["state"] == "upcoming" and item["contact_attempts"] == 0
    assert item["last_contact"]["at"] == now + timedelta(days=1)  # the last one, still shown
    due = datetime.fromisoformat(f"{item['window']['earliest']}T17:00:00+00:00")
    log(uow_factory, plan.id, due)
    (item,) = worklist(uow_factory, plan.clinic_id, due)
    assert item["window"]["state"] == "due" and item["contact_attempts"] == 1


def test_a_snooze_keeps_the_plan_off_the_worklist_through_its_day(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    snoozed = log(uow_factory, plan.id, now, outcome="reached", snooze_until=date(2026, 11, 4))
    assert plans.get_plan(uow_factory(), plan.id, now=now).version == plan.version + 1
    for day, shown in ((2, False), (4, False), (5, True)):
        on = date(2026, 11, day)
        assert [i["plan_id"] for i in worklist(uow_factory, plan.clinic_id, now, on=on)] == (
            [plan.id] if shown else []), on
    (item,) = worklist(uow_factory, plan.clinic_id, now, include_snoozed=True)
    assert item["snoozed_until"] == snoozed.snooze_until == date(2026, 11, 4)
    view = plans.get_plan(uow_factory(), plan.id, now=now)
    assert view.next_visit["snoozed_until"] == date(2026, 11, 4)
    assert proposals.next_visit(uow_factory(), plan.id, now=now)["snoozed_until"] == (
        date(2026, 11, 4))


def test_the_snooze_expires_with_the_clinics_clock(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now, snooze_until=date(2026, 11, 3))
    # 23:59 on 11-03 in Vancouver is 07:59 UTC on 11-04: still snoozed; a minute later, back
    for moment, shown in (("2026-11-04T07:59:00Z", False), ("2026-11-04T08:00:00Z", True)):
        with freeze_time(moment):
            wall = datetime.now(UTC)
            items = worklist(uow_factory, plan.clinic_id, wall)
            assert [i["plan_id"] for i in items] == ([plan.id] if shown else []), moment
            snooze = plans.get_plan(uow_factory(), plan.id, now=wall).next_visit["snoozed_until"]
            assert snooze == (None if shown else date(2026, 11, 3))


def test_a_later_snooze_replaces_an_earlier_one_and_a_plain_contact_keeps_it(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now, snooze_until=date(2026, 11, 20))
    log(uow_factory, plan.id, now + timedelta(minutes=1), snooze_until=date(2026, 11, 3))
    log(uow_factory, plan.id, now + timedelta(minutes=2))
    view = plans.get_plan(uow_factory(), plan.id, now=now)
    assert view.next_visit["snoozed_until"] == date(2026, 11, 3)


def test_a_booking_ends_a_contacts_snooze_as_it_ends_rule_23s(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now, snooze_until=date(2026, 11, 20))
    builders.visit(uow_factory, plan.id, now, external_id="B-1", status="booked",
                   starts_at=now + timedelta(days=1))
    assert plans.get_plan(uow_factory(), plan.id, now=now).next_visit["snoozed_until"] is None
    assert [i["plan_id"] for i in worklist(uow_factory, plan.clinic_id, now)] == [plan.id]


def test_the_later_of_rule_23s_and_a_contacts_snooze_holds(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    booked = builders.visit(uow_factory, plan.id, now, external_id="B-1", status="booked",
                            starts_at=now + timedelta(days=1))
    visits.update_visit(uow_factory(), booked.id, status="cancelled", needs_reschedule=False,
                        actor=FRONT_DESK, now=now)  # rule 23: snoozed through latest, 11-06
    log(uow_factory, plan.id, now, snooze_until=date(2026, 11, 3))
    (item,) = worklist(uow_factory, plan.clinic_id, now, include_snoozed=True)
    assert item["snoozed_until"] == date(2026, 11, 6)
    assert worklist(uow_factory, plan.clinic_id, now, on=date(2026, 11, 5)) == ()
    log(uow_factory, plan.id, now, snooze_until=date(2026, 11, 10))
    (item,) = worklist(uow_factory, plan.clinic_id, now, include_snoozed=True)
    assert item["snoozed_until"] == date(2026, 11, 10)


def test_do_not_contact_flags_the_plan_until_a_physiotherapist_clears_it(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now, outcome="do_not_contact", note="Asked us to stop calling")
    view = plans.get_plan(uow_factory(), plan.id, now=now)
    assert "do_not_contact" in view.flags and view.version == plan.version + 1
    assert worklist(uow_factory, plan.clinic_id, now) == ()
    (shown,) = worklist(uow_factory, plan.clinic_id, now, include_snoozed=True)
    assert "do_not_contact" in shown["flags"]
    (listed,) = worklist(uow_factory, plan.clinic_id, now, flag="do_not_contact")
    assert listed["plan_id"] == plan.id
    # a later contact (the patient calls in) keeps the flag
    log(uow_factory, plan.id, now + timedelta(hours=1), outcome="reached")
    assert "do_not_contact" in plans.get_plan(uow_factory(), plan.id, now=now).flags
    later = now + timedelta(hours=2)
    cleared, decision = plans.act(uow_factory(), plan.id,
                                  {"action": "clear_do_not_contact", "reason": "patient agreed"},
                                  expected_version=view.version, actor=FRONT_DESK, now=later)
    assert decision is None and "do_not_contact" not in cleared.flags
    assert cleared.version == view.version + 1
    assert plans.get_plan(uow_factory(), plan.id, now=later) == cleared
    assert [i["plan_id"] for i in worklist(uow_factory, plan.clinic_id, later)] == [plan.id]
    actions = [e["action"] for e in audit.list_entries(uow_factory(), scope=None,
                                                       plan_id=plan.id).items]
    assert actions[0] == "plan.clear_do_not_contact"


def test_clearing_a_plan_without_the_flag_is_a_conflict(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    with pytest.raises(Conflict):
        builders.act(uow_factory, plan.id, "clear_do_not_contact", now)


def test_a_plan_write_keeps_the_contact_logs_columns(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    log(uow_factory, plan.id, now, outcome="do_not_contact", snooze_until=date(2026, 11, 9))
    builders.report(uow_factory, plan.id, now + timedelta(hours=1),
                    recorded_at=now + timedelta(hours=1), pain=6)
    view = plans.get_plan(uow_factory(), plan.id, now=now)
    assert "do_not_contact" in view.flags
    assert view.next_visit["snoozed_until"] == date(2026, 11, 9)


def test_contacts_are_not_engine_events_so_replay_and_what_if_still_hold(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    before = builders.stored(uow_factory, plan.id)
    log(uow_factory, plan.id, now, outcome="do_not_contact", snooze_until=date(2026, 11, 9))
    log(uow_factory, plan.id, now + timedelta(minutes=1), outcome="reached")
    found = builders.stored(uow_factory, plan.id)
    assert found["events"] == before["events"] and found["state"] == before["state"]
    assert builders.replay(found).state.to_dict() == found["state"]
    answer = what_if.what_if(uow_factory(), clinic_id=plan.clinic_id, candidate="ims-default@1",
                             as_of=None, now=now, scope=None, sync_max=100)
    assert (answer["plans"], answer["changed"]) == (1, 0)
