"""The plan page (GET /app/plans/{id}): its accessible names are the contract (issue 13)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from scheduler.services import contacts, patients
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders
from tests.builders import UowFactory
from tests.web.page_support import forms, signed_in_as, text

CLINICAL_BUTTONS = ("Record consent", "Override frequency", "Clear override", "Set phase", "Hold",
                    "Resume", "Discharge")


def a_course(uow_factory: UowFactory, now: datetime, clinic_id: str,
             external_id: str = "MRN-77") -> str:
    """A plan with two sessions, a no-show and two reports, all before `now`."""
    start = now - timedelta(days=20)
    patient = patients.create_patient(uow_factory(), clinic_id=clinic_id, external_id=external_id,
                                      display_name="Ada Lovelace", actor=builders.ACTOR,
                                      now=start)
    made = builders.plan(uow_factory, start, patient_id=patient.id)
    for n, day in enumerate((1, 5)):
        at = start + timedelta(days=day)
        builders.visit(uow_factory, made.id, at, external_id=f"V{n}", starts_at=at)
        later = at + timedelta(hours=50)
        builders.report(uow_factory, made.id, later, recorded_at=later, pain=6 - n, function=4)
    missed = start + timedelta(days=9)
    builders.visit(uow_factory, made.id, missed, external_id="NS", starts_at=missed,
                   status="no_show")
    return made.id


def test_without_a_session_the_plan_page_leads_to_sign_in(web_client: FlaskClient) -> None:
    answer = web_client.get("/app/plans/pln_x")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/app/login?next=/app/plans/pln_x"


def test_the_page_names_the_patient_charts_progress_and_shows_the_next_visit(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Callable[..., StaffUser],
        uow_factory: UowFactory, now: datetime) -> None:
    plan_id = a_course(uow_factory, now, clinic.id)
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    html = text(web_client.get(f"/app/plans/{plan_id}"))

    h1 = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert h1 is not None and "MRN-77" in h1.group(1)
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))
    assert root.get("role") == "img"
    title = root.find(f"{{http://www.w3.org/2000/svg}}title[@id='{root.get('aria-labelledby')}']")
    assert title is not None and (title.text or "").startswith("Progress chart")
    drawn = [e.get("class") for e in root.iter()]
    assert drawn.count("visit attended") == 2 and drawn.count("visit no_show") == 1
    # The same data as a table follows the chart.
    assert "<caption>Progress data" in html and ">needling no-show<" in html

    region = re.search(r'<section aria-labelledby="next-visit-title".*?</section>', html, re.S)
    assert region is not None and '<h2 id="next-visit-title">Next visit</h2>' in region.group(0)
    days = re.findall(r'<time datetime="([^"]+)">', region.group(0))
    assert days and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)
    # The header: status, phase and since when, both frequencies, override, review, consent.
    for words in ("Status", "Phase", "Frequency in force", "Computed frequency", "Override",
                  "Review", "Flags", "Consent"):
        assert f"<dt>{words}</dt>" in html
    # The decision trail with each explanation's sentence.
    assert "Decision trail" in html and "Starting at 2 per week" in html


def test_a_physiotherapist_has_every_action_form_each_with_a_reason_and_the_version(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Callable[..., StaffUser],
        uow_factory: UowFactory, now: datetime) -> None:
    plan_id = a_course(uow_factory, now, clinic.id)
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    html = text(web_client.get(f"/app/plans/{plan_id}"))
    found = forms(html)
    version = str(builders.footprint(uow_factory(), plan_id)["version"])
    for button in CLINICAL_BUTTONS:
        [form] = [f for f in found if button in f.buttons]
        assert "Reason" in form.labels, button
        assert form.fields["if_match"] == version and form.fields["csrf_token"]
    [report] = [f for f in found if "Record report" in f.buttons]
    assert report.fields["if_match"] == version
    [contact] = [f for f in found if f.name == "Log contact"]
    assert contact.selects["outcome"] == list(contacts.OUTCOMES)
    assert contact.selects["channel"] == list(contacts.CHANNELS)
    assert {"Outcome", "Note"} <= set(contact.labels) and contact.buttons == ["Save contact"]
    assert "Audit trail" in html


def test_the_front_desk_sees_no_clinical_buttons_nor_the_audit_trail_but_logs_contacts(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Callable[..., StaffUser],
        uow_factory: UowFactory, now: datetime) -> None:
    plan_id = a_course(uow_factory, now, clinic.id)
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    html = text(web_client.get(f"/app/plans/{plan_id}"))
    buttons = {b for f in forms(html) for b in f.buttons}
    assert buttons.isdisjoint({*CLINICAL_BUTTONS, "Record report"})
    assert "Save contact" in buttons
    assert "Audit trail" not in html


def test_another_clinics_plan_is_a_404_page(web_client: FlaskClient, clinic: ClinicView,
                                            make_staff: Callable[..., StaffUser],
                                            uow_factory: UowFactory, now: datetime) -> None:
    other = builders.clinic(uow_factory, now, name="Elsewhere")
    plan_id = a_course(uow_factory, now, other.id, "MRN-SECRET")
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)
    answer = web_client.get(f"/app/plans/{plan_id}")
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert "MRN-SECRET" not in text(answer)
    assert web_client.get("/app/plans/pln_missing").status_code == 404
