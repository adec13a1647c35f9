"""The follow-ups page (GET /app/clinics/{id}/followups?state=&on=&page=) and patient search
(GET /app/patients?q=)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient

from scheduler.services import contacts, patients
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders
from tests.builders import UowFactory
from tests.web.page_support import signed_in_as, text

Staff = Callable[..., StaffUser]


def followups(clinic_id: str, query: str = "") -> str:
    return f"/app/clinics/{clinic_id}/followups{query}"


def rows(html: str) -> list[str]:
    """The external ids linked from the Follow-ups table, in order."""
    table = re.search(r"<table class=\"worklist\">\s*<caption>Follow-ups</caption>.*?</table>",
                      html, re.S)
    if table is None:
        return []
    return re.findall(r'<a href="/app/plans/pln_[^"]+">(MRN-[\w-]+)', table.group(0))


def named(uow_factory: UowFactory, now: datetime, clinic_id: str, external_id: str,
          name: str) -> str:
    patient = patients.create_patient(uow_factory(), clinic_id=clinic_id,
                                      external_id=external_id, display_name=name,
                                      actor=builders.ACTOR, now=now)
    return patient.id


def overdue(uow_factory: UowFactory, now: datetime, clinic_id: str, external_id: str) -> str:
    """A plan whose only session was three weeks ago: overdue (or lapsed) by now."""
    session_at = now - timedelta(days=21)
    made = builders.plan(uow_factory, session_at - timedelta(days=1), clinic_id, external_id)
    builders.visit(uow_factory, made.id, session_at, external_id=f"{external_id}-V",
                   starts_at=session_at)
    return made.id


@pytest.mark.parametrize("path", ["/app/clinics/cln_x/followups?state=due", "/app/patients?q=a"])
def test_without_a_session_the_pages_lead_to_sign_in(web_client: FlaskClient, path: str) -> None:
    answer = web_client.get(path)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/app/login?next=")
    assert path.split("?")[0] in answer.headers["Location"]


def test_the_list_puts_overdue_first_and_links_each_patient_to_the_plan(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff,
        uow_factory: UowFactory, now: datetime) -> None:
    upcoming = builders.plan_with_session(uow_factory, clinic.id, now, now - timedelta(hours=2))
    late = overdue(uow_factory, now, clinic.id, "MRN-LATE")
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    html = text(web_client.get(followups(clinic.id)))
    assert "<caption>Follow-ups</caption>" in html
    found = rows(html)
    assert found[0] == "MRN-LATE" and len(found) == 2
    assert f'href="/app/plans/{late}"' in html and f'href="/app/plans/{upcoming.id}"' in html
    assert "(today)" in html


def test_a_row_shows_the_name_flags_and_the_last_contact(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff,
        uow_factory: UowFactory, now: datetime) -> None:
    patient_id = named(uow_factory, now, clinic.id, "MRN-5", "Ada Lovelace")
    made = builders.plan(uow_factory, now, patient_id=patient_id)
    contacts.log_contact(uow_factory(), made.id, channel="phone", outcome="do_not_contact",
                         actor=builders.ACTOR, now=now)
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    assert rows(text(web_client.get(followups(clinic.id)))) == []  # off outreach
    html = text(web_client.get(followups(clinic.id, "?snoozed=1")))
    row = re.search(r'<tr class="state-[a-z]+">.*?</tr>', html, re.S)
    assert row is not None
    assert "MRN-5 · Ada Lovelace" in row.group(0)
    assert "Do not contact" in row.group(0)
    assert "Do not contact by phone" in row.group(0)  # the last contact's outcome
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', row.group(0))


def test_the_state_filter_and_the_day_are_kept_in_the_url(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff,
        uow_factory: UowFactory, now: datetime) -> None:
    builders.plan_with_session(uow_factory, clinic.id, now, now - timedelta(hours=2))
    overdue(uow_factory, now, clinic.id, "MRN-LATE")
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    html = text(web_client.get(followups(clinic.id, "?state=upcoming")))
    assert "MRN-LATE" not in rows(html) and len(rows(html)) == 1
    tab = f'href="/app/clinics/{clinic.id}/followups?state=upcoming" aria-current="page"'
    assert tab in html
    later = (now.date() + timedelta(days=60)).isoformat()
    html = text(web_client.get(followups(clinic.id, f"?on={later}&state=upcoming")))
    assert f'value="{later}"' in html
    assert f"?state=overdue&amp;on={later}" in html  # the tabs keep the day


@pytest.mark.parametrize(("query", "message"), [
    pytest.param("", "No follow-ups due today", id="today"),
    pytest.param("?state=overdue", "No overdue follow-ups today", id="overdue-today"),
    pytest.param("?on=2026-11-20", "No follow-ups due on Fri 20 Nov 2026", id="another-day"),
])
def test_an_empty_list_reads_as_one(web_client: FlaskClient, clinic: ClinicView,
                                    make_staff: Staff, query: str, message: str) -> None:
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    answer = web_client.get(followups(clinic.id, query))
    assert answer.status_code == 200
    assert message in text(answer) and "<caption>Follow-ups</caption>" not in text(answer)


@pytest.mark.parametrize(("query", "field"), [
    pytest.param("?state=late", "state", id="unknown-state"),
    pytest.param("?on=20-11-2026", "on", id="day-not-iso"),
    pytest.param("?page=0", "page", id="page-0"),
    pytest.param("?page=x", "page", id="page-not-a-number"),
])
def test_a_bad_filter_is_named_beside_its_field(web_client: FlaskClient, clinic: ClinicView,
                                                make_staff: Staff, query: str,
                                                field: str) -> None:
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    answer = web_client.get(followups(clinic.id, query))
    assert answer.status_code == 400
    assert f'id="{field}-error"' in text(answer)


def test_the_list_is_paged_fifty_rows_at_a_time(web_client: FlaskClient, clinic: ClinicView,
                                               make_staff: Staff, uow_factory: UowFactory,
                                               now: datetime) -> None:
    for n in range(51):
        builders.plan(uow_factory, now, clinic.id, f"MRN-{n:03d}")
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    first = text(web_client.get(followups(clinic.id)))
    assert len(rows(first)) == 50 and 'rel="next"' in first and 'rel="prev"' not in first
    second = text(web_client.get(followups(clinic.id, "?page=2")))
    assert len(rows(second)) == 1 and 'rel="prev"' in second and 'rel="next"' not in second
    assert set(rows(first)).isdisjoint(rows(second))
    assert rows(text(web_client.get(followups(clinic.id, "?page=3")))) == []


def test_another_clinics_list_is_a_404_page(web_client: FlaskClient, clinic: ClinicView,
                                            make_staff: Staff, uow_factory: UowFactory,
                                            now: datetime) -> None:
    other = builders.clinic(uow_factory, now, name="Elsewhere")
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    assert web_client.get(followups(other.id)).status_code == 404
    assert web_client.get(followups("cln_missing")).status_code == 404


def test_patient_search_finds_by_id_or_name_within_the_users_clinics(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Staff,
        uow_factory: UowFactory, now: datetime) -> None:
    other = builders.clinic(uow_factory, now, name="Elsewhere")
    ada = named(uow_factory, now, clinic.id, "MRN-100", "Ada Lovelace")
    plan = builders.plan(uow_factory, now, patient_id=ada)
    named(uow_factory, now, other.id, "MRN-101", "Ada Elsewhere")
    signed_in_as(web_client, make_staff, "front_desk", clinic.id)
    by_name = text(web_client.get("/app/patients?q=ada"))
    assert f'href="/app/plans/{plan.id}">MRN-100</a>' in by_name
    assert "MRN-101" not in by_name
    assert "MRN-100" in text(web_client.get("/app/patients?q=mrn-1"))
    assert "No patient matches" in text(web_client.get("/app/patients?q=nobody"))
    assert '<label for="q">External id or name</label>' in text(web_client.get("/app/patients"))
    too_long = web_client.get("/app/patients?q=" + "x" * 101)
    assert too_long.status_code == 400 and 'id="q-error"' in text(too_long)
