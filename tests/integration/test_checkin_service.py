"""Check-in links in the core: one error per wrong token, single use, and an answer that is a
progress report made by the very path of POST /reports (decision, audit, outbox), or nothing
at all when an answer is bad."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.errors import AlreadyUsed, Gone, NotFound, ValidationFailed
from scheduler.models import AuditEntry, Checkin, Report
from scheduler.services import checkins, plans
from tests import builders
from tests.builders import ACTOR


@pytest.fixture
def clinic_id(uow_factory, now) -> str:
    return builders.clinic(uow_factory, now).id


@pytest.fixture
def plan(uow_factory, clinic_id, now) -> plans.PlanView:
    """A plan (baseline pain 5, no function) whose last session was 3 days ago."""
    return builders.plan_with_session(uow_factory, clinic_id, now, now - timedelta(hours=72))


def issue(uow_factory, plan_id, now, **kw) -> checkins.IssuedCheckin:
    return checkins.create_checkin(uow_factory(), plan_id, actor=ACTOR, now=now, **kw)


def test_the_page_shows_the_clinic_and_the_last_sessions_day_only(uow_factory, plan, now):
    issued = issue(uow_factory, plan.id, now)
    page = checkins.open_checkin(uow_factory(), issued.token, now=now)
    assert page == checkins.CheckinPage(issued.checkin.id, "Kits Physio",
                                        (now - timedelta(hours=72)).date(), False)
    tracked = builders.plan(uow_factory, now, plan.clinic_id, "MRN-F")  # baseline function 3
    page = checkins.open_checkin(uow_factory(), issue(uow_factory, tracked.id, now).token,
                                 now=now)
    assert page.tracks_function and page.last_session_date is None


@pytest.mark.parametrize("wrong", ["", "x", "a" * 43, "a" * 101, "\u00e9" * 43, "../" * 20],
                         ids=["empty", "short", "well-formed", "too-long", "unicode", "path"])
def test_every_wrong_token_is_the_same_not_found(uow_factory, plan, now, wrong):
    issue(uow_factory, plan.id, now)
    with pytest.raises(NotFound) as raised:
        checkins.open_checkin(uow_factory(), wrong, now=now)
    assert (raised.value.kind, raised.value.object_id) == ("check-in", "-")


def test_a_tampered_token_is_not_found(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(NotFound):
        checkins.open_checkin(uow_factory(), tampered, now=now)
    with pytest.raises(NotFound):
        checkins.submit_checkin(uow_factory(), tampered, {"pain": "3"}, now=now)


def test_a_link_expires_at_its_hour(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now, expires_in_hours=2).token
    checkins.open_checkin(uow_factory(), token, now=now + timedelta(hours=2, seconds=-1))
    with pytest.raises(Gone) as raised:
        checkins.open_checkin(uow_factory(), token, now=now + timedelta(hours=2))
    assert raised.value.reason == "expired"
    with pytest.raises(Gone):
        checkins.submit_checkin(uow_factory(), token, {"pain": "3"},
                                now=now + timedelta(hours=3))


def test_a_revoked_link_is_gone(uow_factory, plan, now):
    issued = issue(uow_factory, plan.id, now)
    checkins.revoke_checkin(uow_factory(), issued.checkin.id, actor=ACTOR, now=now)
    with pytest.raises(Gone) as raised:
        checkins.submit_checkin(uow_factory(), issued.token, {"pain": "3"}, now=now)
    assert raised.value.reason == "revoked"


def test_a_link_of_a_discharged_plan_is_gone(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    builders.act(uow_factory, plan.id, "discharge", now)
    with pytest.raises(Gone) as raised:
        checkins.open_checkin(uow_factory(), token, now=now)
    assert raised.value.reason == "closed"


def test_an_answer_is_the_report_post_reports_would_record(uow_factory, clinic_id, now):
    """Twin plans: one answers a check-in, the other gets the same values by record_report;
    the decisions and the outbox events are the same, the audit names the check-in."""
    session_at = now - timedelta(hours=72)
    twins = [builders.plan_with_session(uow_factory, clinic_id, now, session_at, n)
             for n in (1, 2)]
    answer_at = now + timedelta(minutes=5)
    issued = issue(uow_factory, twins[0].id, now)
    result = checkins.submit_checkin(uow_factory(), issued.token, {
        "pain": "2", "soreness": "1_2_days", "adverse_event": "no", "notes": " fine "},
        now=answer_at)
    _, decision, _ = builders.report(uow_factory, twins[1].id, answer_at,
                                     recorded_at=answer_at, pain=2, soreness_hours=36,
                                     notes="fine")
    mine, theirs = (builders.stored(uow_factory, p.id) for p in twins)
    assert [d[2]["explanations"] for d in mine["decisions"]] == [
        d[2]["explanations"] for d in theirs["decisions"]]
    assert mine["state"] | {"last_event_at": None} == theirs["state"] | {"last_event_at": None}
    assert [(e.type, e.payload.get("status")) for e in builders.outbox(uow_factory, twins[0].id)
            ] == [(e.type, e.payload.get("status"))
                  for e in builders.outbox(uow_factory, twins[1].id)]
    assert decision["explanations"] == mine["decisions"][-1][2]["explanations"]
    with uow_factory() as uow:
        report = uow.session.get(Report, result.report_id)
        assert (report.pain, report.soreness_hours, report.notes, report.recorded_at) == (
            2, 36, "fine", answer_at)
        entry = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.plan_id == twins[0].id, AuditEntry.action == "plan.report_recorded")).one()
        assert (entry.actor_key_id, entry.actor_name) == (None,
                                                          f"patient:checkin:{issued.checkin.id}")
        link = uow.session.get(Checkin, issued.checkin.id)
        assert (link.used_at, link.report_id) == (answer_at, result.report_id)


def test_each_link_works_once(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    checkins.submit_checkin(uow_factory(), token, {"pain": "4"}, now=now)
    for call in (lambda: checkins.open_checkin(uow_factory(), token, now=now),
                 lambda: checkins.submit_checkin(uow_factory(), token, {"pain": "1"}, now=now)):
        with pytest.raises(AlreadyUsed):
            call()
    assert len(builders.stored(uow_factory, plan.id)["reports"]) == 1


@pytest.mark.parametrize(("form", "fields"), [
    ({}, {"pain"}),
    ({"pain": " "}, {"pain"}),
    ({"pain": "11"}, {"pain"}),
    ({"pain": "-1"}, {"pain"}),
    ({"pain": "4.5"}, {"pain"}),
    ({"pain": "\u0665"}, {"pain"}),  # an Arabic-Indic five: isdigit() but not a choice here
    ({"pain": "4", "adverse_event": "yes", "adverse_event_note": "x" * 2001},
     {"adverse_event_note"}),
    ({"pain": "4", "notes": "x" * 5001}, {"notes"}),
    ({"pain": "4", "soreness": "forever"}, {"soreness"}),
    ({"pain": "4", "adverse_event": "maybe"}, {"adverse_event"}),
    ({"pain": "12", "notes": "x" * 5001}, {"pain", "notes"}),
], ids=["pain-missing", "pain-blank", "pain-11", "pain-negative", "pain-fraction",
        "pain-non-ascii-digit", "description-2001", "notes-5001", "soreness-unknown",
        "adverse-not-yes-no", "two-at-once"])
def test_bad_answers_name_their_fields_and_record_nothing(uow_factory, plan, now, form, fields):
    issued = issue(uow_factory, plan.id, now)
    before = builders.footprint(uow_factory(), plan.id)
    with pytest.raises(ValidationFailed) as raised:
        checkins.submit_checkin(uow_factory(), issued.token, form, now=now)
    assert set(raised.value.errors) == fields
    assert builders.footprint(uow_factory(), plan.id) == before
    checkins.open_checkin(uow_factory(), issued.token, now=now)  # still open


def test_a_description_of_2000_characters_is_accepted(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    result = checkins.submit_checkin(uow_factory(), token, {
        "pain": "4", "adverse_event": "yes", "adverse_event_note": "x" * 2000}, now=now)
    assert result.adverse_event


def test_an_adverse_event_puts_the_plan_on_hold(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    result = checkins.submit_checkin(uow_factory(), token, {
        "pain": "4", "adverse_event": "yes", "adverse_event_note": "dizzy"}, now=now)
    assert result.on_hold and result.adverse_event
    view = plans.get_plan(uow_factory(), plan.id, now=now)
    assert (view.status, view.review["reasons"]) == ("on_hold", ["adverse_event"])
    assert "plan.status_changed" in [e.type for e in builders.outbox(uow_factory, plan.id)]


def test_function_is_read_only_where_the_plan_tracks_it(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token  # baseline without function
    result = checkins.submit_checkin(uow_factory(), token, {"pain": "4", "function": "7"},
                                     now=now)
    with uow_factory() as uow:
        assert uow.session.get(Report, result.report_id).function is None
    tracked = builders.plan(uow_factory, now, plan.clinic_id, "MRN-F")
    token = issue(uow_factory, tracked.id, now).token
    result = checkins.submit_checkin(uow_factory(), token, {"pain": "4", "function": "7"},
                                     now=now)
    with uow_factory() as uow:
        assert uow.session.get(Report, result.report_id).function == 7


def test_still_sore_is_the_hours_since_the_last_session(uow_factory, plan, now):
    token = issue(uow_factory, plan.id, now).token
    result = checkins.submit_checkin(uow_factory(), token, {"pain": "4", "soreness":
                                                            "still_sore"},
                                     now=now + timedelta(minutes=59))
    with uow_factory() as uow:
        assert uow.session.get(Report, result.report_id).soreness_hours == 72
    assert "prolonged_soreness" not in plans.get_plan(uow_factory(), plan.id, now=now).flags


def test_answers_sent_at_once_on_one_link_record_one_report(uow_factory, plan, now):
    """Eight answers race on one link (a double tap, a retrying phone): one report, the
    others are told it was answered, and the stored state is the fold of what is stored."""
    from tests.integration.test_plan_concurrency import run_together

    token = issue(uow_factory, plan.id, now).token
    results = run_together([
        (lambda n=n: checkins.submit_checkin(uow_factory(), token, {"pain": str(n)},
                                             now=now + timedelta(seconds=n)))
        for n in range(8)])
    won = [r for r in results if isinstance(r, checkins.CheckinResult)]
    assert len(won) == 1, results
    assert all(isinstance(r, AlreadyUsed) for r in results if r not in won), results
    found = builders.stored(uow_factory, plan.id)
    assert [report_id for report_id, _ in found["reports"]] == [won[0].report_id]
    assert builders.replay(found).state.to_dict() == found["state"]
