"""The staff pages in a real browser: the follow-ups list, the plan page, its forms (issue 13).
The README's screenshots of the two pages are taken here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from scheduler.services import contacts, patients
from scheduler.services.plans import PlanView
from tests import builders
from tests.browser.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


def course(live: LiveServer, clinic_id: str, external_id: str, *, days_ago: int = 60,
           name: str | None = None) -> PlanView:
    """A plan started `days_ago` with a few weeks of sessions, a no-show, a cancellation and
    falling pain; its last session long enough ago that the next visit is overdue."""
    uows, start = live.uow_factory, live.now() - timedelta(days=days_ago)
    patient = patients.create_patient(uows(), clinic_id=clinic_id,
                                               external_id=external_id, display_name=name,
                                               actor=builders.ACTOR, now=start)
    made = builders.plan(uows, start, patient_id=patient.id)

    def at(day: float, hour: int = 17) -> datetime:
        return start.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=day)

    builders.visit(uows, made.id, at(5), external_id=f"{external_id}-C", starts_at=at(6),
                   status="cancelled")
    builders.visit(uows, made.id, at(12), external_id=f"{external_id}-NS", starts_at=at(12),
                   status="no_show")
    pain = 8
    for n, day in enumerate((1, 4, 8, 13, 16)):
        builders.visit(uows, made.id, at(day), external_id=f"{external_id}-V{n}",
                       starts_at=at(day))
        pain -= 1
        builders.report(uows, made.id, at(day + 2, 18), recorded_at=at(day + 2, 18),
                        pain=pain, function=3 + n, soreness_hours=30)
    return made


def upcoming(live: LiveServer, clinic_id: str, external_id: str, name: str) -> PlanView:
    """A plan whose needling session was yesterday: its next visit is upcoming."""
    yesterday = live.now() - timedelta(days=1)
    patient = patients.create_patient(live.uow_factory(), clinic_id=clinic_id,
                                      external_id=external_id, display_name=name,
                                      actor=builders.ACTOR, now=yesterday - timedelta(days=2))
    made = builders.plan(live.uow_factory, yesterday - timedelta(days=2),
                         patient_id=patient.id)
    builders.visit(live.uow_factory, made.id, yesterday, external_id=f"{external_id}-V",
                   starts_at=yesterday)
    return made


def test_the_front_desk_sees_the_overdue_plan_first_opens_it_and_logs_a_contact(
        page: Any, live_server: LiveServer) -> None:
    clinic = live_server.clinic(name="Kits Physio")
    upcoming(live_server, clinic.id, "MRN-2002", "Alan Turing")
    late = course(live_server, clinic.id, "MRN-1001", name="Ada Lovelace")
    called = course(live_server, clinic.id, "MRN-1004", days_ago=45, name="Mary Somerville")
    contacts.log_contact(live_server.uow_factory(), called.id, channel="phone",
                         outcome="no_answer", actor=builders.ACTOR, now=live_server.now())
    desk = live_server.staff("front_desk", clinic.id, name="Fran Desk")
    sign_in(page, desk.email)
    assert urlsplit(page.url).path == f"/app/clinics/{clinic.id}/followups"

    table = page.get_by_role("table", name="Follow-ups")
    first = table.locator("tbody tr").first
    assert "MRN-1001" in first.get_by_role("link").inner_text()
    assert first.locator(".badge").inner_text() in ("Overdue", "Lapsed")
    screenshot(page, "followups")

    first.get_by_role("link", name="MRN-1001").click()
    assert urlsplit(page.url).path == f"/app/plans/{late.id}"
    assert "MRN-1001" in page.get_by_role("heading", level=1).inner_text()
    chart = page.get_by_role("img", name="Progress chart", exact=False)
    assert chart.count() == 1 and chart.is_visible()
    for button in ("Hold", "Resume", "Discharge", "Override frequency"):
        assert page.get_by_role("button", name=button, exact=True).count() == 0

    form = page.get_by_role("form", name="Log contact")
    form.get_by_label("Outcome").select_option("left_message")
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Note").fill("Voicemail, asked to call back")
    form.get_by_role("button", name="Save contact").click()
    assert page.get_by_role("status").filter(has_text="Contact saved.").is_visible()
    assert "Voicemail, asked to call back" in page.get_by_role(
        "table", name="Contact log").inner_text()


def test_a_physiotherapist_holds_with_a_reason_then_resumes(page: Any,
                                                            live_server: LiveServer) -> None:
    clinic = live_server.clinic()
    made = course(live_server, clinic.id, "MRN-3003", name="Grace Hopper")
    physio = live_server.staff("physiotherapist", clinic.id, name="Pat Physio")
    sign_in(page, physio.email)
    page.goto(f"/app/plans/{made.id}")
    screenshot(page, "plan")

    hold = page.get_by_role("form", name="Put on hold")
    hold.get_by_label("Reason").fill("Travelling for two weeks")
    hold.get_by_role("button", name="Hold", exact=True).click()
    assert page.get_by_role("status").filter(has_text="Plan on hold.").is_visible()
    assert "On hold" in page.locator(".facts").inner_text()

    resume = page.get_by_role("form", name="Resume the plan")
    resume.get_by_label("Reason").fill("Back from travel")
    resume.get_by_role("button", name="Resume", exact=True).click()
    assert page.get_by_role("status").filter(has_text="Plan resumed.").is_visible()
    assert "Active" in page.locator(".facts").inner_text()
    region = page.get_by_role("region", name="Next visit")
    assert region.locator("time[datetime]").count() >= 3


def test_a_stale_form_shows_the_conflict_and_writes_nothing(page: Any,
                                                            live_server: LiveServer) -> None:
    clinic = live_server.clinic()
    made = course(live_server, clinic.id, "MRN-4004")
    physio = live_server.staff("physiotherapist", clinic.id)
    sign_in(page, physio.email)
    page.goto(f"/app/plans/{made.id}")
    # Someone else acts on the plan while this page is open.
    builders.act(live_server.uow_factory, made.id, "hold", live_server.now(), reason="other")
    hold = page.get_by_role("form", name="Put on hold")
    hold.get_by_label("Reason").fill("Mine")
    hold.get_by_role("button", name="Hold", exact=True).click()
    assert page.get_by_role("alert").filter(
        has_text="Someone else changed this plan").is_visible()
    # The page shows the plan as it is now: on hold (the other user's), not "Mine" twice.
    assert "On hold" in page.locator(".facts").inner_text()


def test_another_clinics_plan_is_a_404_page(page: Any, live_server: LiveServer) -> None:
    ours, theirs = live_server.clinic(), live_server.clinic(name="Elsewhere")
    foreign = course(live_server, theirs.id, "MRN-5005")
    physio = live_server.staff("physiotherapist", ours.id)
    sign_in(page, physio.email)
    answer = page.goto(f"/app/plans/{foreign.id}")
    assert answer is not None and answer.status == 404
    assert "MRN-5005" not in page.content()


def test_after_logout_the_plan_page_asks_to_sign_in(page: Any, live_server: LiveServer) -> None:
    clinic = live_server.clinic()
    made = course(live_server, clinic.id, "MRN-6006")
    physio = live_server.staff("physiotherapist", clinic.id)
    sign_in(page, physio.email)
    page.goto(f"/app/plans/{made.id}")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"/app/plans/{made.id}")
    assert urlsplit(page.url).path == "/app/login"
    assert "MRN-6006" not in page.content()
