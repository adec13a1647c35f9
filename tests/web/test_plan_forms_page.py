"""The plan page's forms: one service call each with the API's validation and audit (actor
`staff:<id>`); refusals re-render the page with the error beside its field and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.models import PlanEvent
from scheduler.services import audit, contacts, plans, reports
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders
from tests.builders import UowFactory
from tests.conftest import FakeClock
from tests.web.page_support import form_with_button, signed_in_as, submit, text, written

Staff = Callable[..., StaffUser]


@pytest.fixture
def plan_id(uow_factory: UowFactory, now: datetime, clinic: ClinicView) -> str:
    return builders.plan(uow_factory, now, clinic.id, "MRN-9").id


def last_event(uow_factory: UowFactory, plan_id: str) -> dict[str, object]:
    with uow_factory() as uow:
        return dict(uow.session.scalars(select(PlanEvent.payload).where(
            PlanEvent.plan_id == plan_id).order_by(PlanEvent.seq.desc()).limit(1)).one())


def page_of(plan_id: str) -> str:
    return f"/app/plans/{plan_id}"


def last_audit(uow_factory: UowFactory, plan_id: str) -> dict[str, object]:
    return audit.list_entries(uow_factory(), scope=None, plan_id=plan_id, limit=1).items[0]


@pytest.mark.parametrize(("button", "values", "status", "action"), [
    pytest.param("Hold", {}, "on_hold", "plan.hold", id="hold"),
    pytest.param("Discharge", {"confirm": "yes"}, "discharged", "plan.discharge",
                 id="discharge-confirmed"),
    pytest.param("Set phase", {"phase": "middle"}, "active", "plan.set_phase", id="set-phase"),
    pytest.param("Override frequency", {"frequency": "1", "period": "1", "period_unit": "wk",
                                        "until": "2026-12-31"}, "active", "plan.override",
                 id="override-until-a-date"),
    pytest.param("Record consent", {}, "active", "plan.record_consent", id="record-consent"),
])
def test_an_action_is_saved_audited_as_the_staff_user_and_redirects_back(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, clock: FakeClock, button: str, values: dict[str, str],
        status: str, action: str) -> None:
    user = signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    before = written(uow_factory, plan_id)
    clock.advance(minutes=5)  # the audit entry is the newest one
    answer = submit(web_client, page_of(plan_id), button, reason="Clinical judgement",
                    **values)
    assert answer.status_code == 303, text(answer)
    assert answer.headers["Location"].startswith(f"/app/plans/{plan_id}?saved=")
    after = written(uow_factory, plan_id)
    assert after["version"] == before["version"] + 1 and after["status"] == status
    entry = last_audit(uow_factory, plan_id)
    assert entry["action"] == action
    assert entry["actor"] == {"key_id": None, "name": f"staff:{user.id}"}
    # The reason is stored as the API stores it: with the event (consent: in the audit entry).
    assert "Clinical judgement" in str(last_event(uow_factory, plan_id)) + str(entry["after"])
    shown = text(web_client.get(answer.headers["Location"]))
    assert 'role="status"' in shown


def test_resume_and_clear_override_undo_hold_and_override(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    builders.act(uow_factory, plan_id, "hold", now)
    builders.act(uow_factory, plan_id, "override", now, frequency={
        "frequency": 1, "period": 1, "period_unit": "wk"}, until=now.date() + timedelta(days=30))
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    assert submit(web_client, page_of(plan_id), "Resume", reason="back").status_code == 303
    assert submit(web_client, page_of(plan_id), "Clear override",
                  reason="done").status_code == 303
    plan = plans.get_plan(uow_factory(), plan_id, now=now)
    assert plan.status == "active" and plan.override is None


def test_discharge_asks_for_confirmation_first_and_writes_nothing_until_then(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    before = written(uow_factory, plan_id)
    answer = submit(web_client, page_of(plan_id), "Discharge", reason="Goals met")
    assert answer.status_code == 200
    assert written(uow_factory, plan_id) == before
    confirm = form_with_button(text(answer), "Confirm discharge")
    assert confirm.fields["reason"] == "Goals met" and confirm.fields["confirm"] == "yes"
    done = web_client.post(confirm.action, data=confirm.fields)
    assert done.status_code == 303
    assert written(uow_factory, plan_id)["status"] == "discharged"


@pytest.mark.parametrize(("button", "values", "field"), [
    pytest.param("Hold", {"reason": ""}, "reason", id="hold-without-a-reason"),
    pytest.param("Hold", {"reason": "x" * 1001}, "reason", id="reason-over-1000"),
    pytest.param("Override frequency", {"reason": "r", "frequency": "0", "period": "1",
                                        "until": "2026-12-31"}, "frequency",
                 id="override-frequency-0"),
    pytest.param("Override frequency", {"reason": "r", "frequency": "1", "period": "1",
                                        "until": "31/12/2026"}, "until",
                 id="override-until-not-a-date"),
    pytest.param("Set phase", {"reason": "r", "phase": "final"}, "phase", id="unknown-phase"),
    pytest.param("Discharge", {"reason": ""}, "reason", id="discharge-without-a-reason"),
])
def test_a_refused_form_shows_the_error_beside_its_field_and_writes_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, button: str, values: dict[str, str], field: str) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    before = written(uow_factory, plan_id)
    answer = submit(web_client, page_of(plan_id), button, **values)
    assert answer.status_code == 422
    html = text(answer)
    assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
    assert f'aria-describedby="{field}-error"' in html
    assert written(uow_factory, plan_id) == before


def test_the_services_own_refusal_is_shown_beside_its_field(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    before = written(uow_factory, plan_id)
    past = (now.date() - timedelta(days=3)).isoformat()
    answer = submit(web_client, page_of(plan_id), "Override frequency", reason="r",
                    frequency="1", period="1", period_unit="wk", until=past)
    assert answer.status_code == 422, text(answer)
    assert 'id="until-error"' in text(answer)
    assert written(uow_factory, plan_id) == before


def test_a_stale_form_says_someone_else_changed_the_plan_and_writes_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    form = form_with_button(text(web_client.get(page_of(plan_id))), "Hold")
    builders.act(uow_factory, plan_id, "set_phase", now, phase="middle")  # someone else
    before = written(uow_factory, plan_id)
    answer = web_client.post(form.action, data={**form.fields, "reason": "mine"})
    assert answer.status_code == 409
    html = text(answer)
    assert "Someone else changed this plan" in html
    assert "Middle since" in html  # the current state
    assert written(uow_factory, plan_id) == before
    fresh = form_with_button(html, "Hold")
    assert fresh.fields["if_match"] == str(before["version"])


def test_a_discharged_plans_page_offers_no_actions(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    form = form_with_button(text(web_client.get(page_of(plan_id))), "Hold")
    builders.act(uow_factory, plan_id, "discharge", now)
    html = text(web_client.get(page_of(plan_id)))
    assert "This plan is discharged" in html and ">Hold<" not in html
    answer = web_client.post(form.action, data={**form.fields, "reason": "late",
                                                "if_match": str(form.fields["if_match"])})
    assert answer.status_code == 409  # stale, and discharged anyway: nothing written


@pytest.mark.parametrize("path", ["hold", "discharge", "record-consent", "reports"])
def test_a_front_desk_post_anyway_is_a_403_page_and_changes_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, path: str) -> None:
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    token = form_with_button(text(web_client.get(page_of(plan_id))), "Save contact").fields
    before = written(uow_factory, plan_id)
    answer = web_client.post(f"/app/plans/{plan_id}/{path}", data={
        "csrf_token": token["csrf_token"], "if_match": str(before["version"]),
        "reason": "not mine", "pain": "3", "confirm": "yes"})
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert written(uow_factory, plan_id) == before


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    form = form_with_button(text(web_client.get(page_of(plan_id))), "Hold")
    before = written(uow_factory, plan_id)
    fields = {k: v for k, v in form.fields.items() if k != "csrf_token"}
    answer = web_client.post(form.action, data={**fields, "reason": "no token"})
    assert answer.status_code == 400
    assert written(uow_factory, plan_id) == before


def test_another_clinics_plan_takes_no_post(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    other = builders.clinic(uow_factory, now, name="Elsewhere")
    foreign = builders.plan(uow_factory, now, other.id, "MRN-X").id
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    form = form_with_button(text(web_client.get(page_of(plan_id))), "Hold")
    before = written(uow_factory, foreign)
    for path in ("hold", "discharge", "reports", "contacts"):
        answer = web_client.post(f"/app/plans/{foreign}/{path}", data={
            **form.fields, "reason": "x", "pain": "3", "confirm": "yes", "channel": "phone",
            "outcome": "reached", "if_match": str(before["version"])})
        assert answer.status_code == 404, path
    assert written(uow_factory, foreign) == before


def test_a_progress_report_is_recorded_now_with_its_decision(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, clock: FakeClock) -> None:
    user = signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    now = clock.advance(minutes=5)
    answer = submit(web_client, page_of(plan_id), "Record report", pain="5", function="6",
                    soreness_hours="12", notes="Feeling looser")
    assert answer.status_code == 303, text(answer)
    [report] = reports.list_reports(uow_factory(), plan_id).items
    assert (report.pain, report.function, report.recorded_at) == (5, 6, now)
    assert report.notes == "Feeling looser"
    assert last_audit(uow_factory, plan_id)["actor"] == {"key_id": None,
                                                         "name": f"staff:{user.id}"}


@pytest.mark.parametrize(("values", "field"), [
    pytest.param({"pain": ""}, "pain", id="no-pain"),
    pytest.param({"pain": "11"}, "pain", id="pain-11"),
    pytest.param({"pain": "3", "global_change": "8"}, "global_change", id="global-change-8"),
    pytest.param({"pain": "3", "soreness_hours": "many"}, "soreness_hours",
                 id="soreness-not-a-number"),
])
def test_a_refused_report_names_its_field_and_stores_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, values: dict[str, str], field: str) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    before = written(uow_factory, plan_id)
    answer = submit(web_client, page_of(plan_id), "Record report", **values)
    assert answer.status_code == 422
    assert f'id="{field}-error"' in text(answer)
    assert written(uow_factory, plan_id) == before


def test_a_stale_report_form_writes_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    form = form_with_button(text(web_client.get(page_of(plan_id))), "Record report")
    builders.act(uow_factory, plan_id, "hold", now)
    before = written(uow_factory, plan_id)
    answer = web_client.post(form.action, data={**form.fields, "pain": "4"})
    assert answer.status_code == 409 and "Someone else changed this plan" in text(answer)
    assert written(uow_factory, plan_id) == before


@pytest.mark.parametrize("role", ["front_desk", "physiotherapist"])
def test_log_contact_saves_the_contact_as_the_staff_user(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime, role: str) -> None:
    user = signed_in_as(web_client, make_staff, role, clinic.id)
    snooze = (now.date() + timedelta(days=3)).isoformat()
    answer = submit(web_client, page_of(plan_id), "Save contact", outcome="left_message",
                    channel="sms", note="Texted the clinic number", snooze_until=snooze)
    assert answer.status_code == 303, text(answer)
    [logged] = contacts.list_contacts(uow_factory(), plan_id).items
    assert (logged.outcome, logged.channel, logged.note) == ("left_message", "sms",
                                                              "Texted the clinic number")
    assert logged.snooze_until is not None and logged.snooze_until.isoformat() == snooze
    assert logged.actor == f"staff:{user.id}"
    assert "Texted the clinic number" in text(web_client.get(answer.headers["Location"]))


@pytest.mark.parametrize(("values", "field"), [
    pytest.param({"outcome": "ghosted"}, "outcome", id="unknown-outcome"),
    pytest.param({"note": "x" * 2001}, "note", id="note-over-2000"),
    pytest.param({"snooze_until": "2026-10-01"}, "snooze_until", id="snooze-in-the-past"),
    pytest.param({"snooze_until": "2027-06-01"}, "snooze_until", id="snooze-over-90-days"),
])
def test_a_refused_contact_names_its_field_and_stores_nothing(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, values: dict[str, str], field: str) -> None:
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    before = written(uow_factory, plan_id)
    answer = submit(web_client, page_of(plan_id), "Save contact",
                    **{"outcome": "reached", "channel": "phone", **values})
    assert answer.status_code == 422
    assert f'id="{field}-error"' in text(answer)
    assert written(uow_factory, plan_id) == before


def test_do_not_contact_is_cleared_by_a_physiotherapist_from_the_page(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff, plan_id: str,
        uow_factory: UowFactory, now: datetime) -> None:
    contacts.log_contact(uow_factory(), plan_id, channel="phone", outcome="do_not_contact",
                         actor=builders.ACTOR, now=now)
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    answer = submit(web_client, page_of(plan_id), "Clear do not contact", reason="Asked again")
    assert answer.status_code == 303, text(answer)
    assert "do_not_contact" not in plans.get_plan(uow_factory(), plan_id, now=now).flags
