"""The patient's check-in page in headless Chromium: fill it and send (report, decision,
webhook), a second visit, expired / revoked / tampered links, an adverse event, bad answers,
and the phone-sized screenshot of the README. The conftest fails any request to another host
and any console error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from scheduler.services import checkins, plans
from tests import builders
from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def a_plan(live: LiveServer, *, session_hours_ago: float = 72,
           **fields: Any) -> plans.PlanView:
    """A severe plan (pain 8: 2 per week) whose last needling session was that long ago."""
    now = live.now()
    clinic = live.clinic(name="Kits Physio")
    made = builders.plan(live.uow_factory, now - timedelta(days=7), clinic.id,
                         f"MRN-{now.timestamp()}", **fields)
    builders.visit(live.uow_factory, made.id, now, external_id=f"V-{made.id}",
                   starts_at=now - timedelta(hours=session_hours_ago))
    return made


def link(live: LiveServer, plan_id: str, **kw: Any) -> checkins.IssuedCheckin:
    return checkins.create_checkin(live.uow_factory(), plan_id, actor=builders.ACTOR,
                                   now=kw.pop("now", live.now()), **kw)


def test_a_patient_fills_the_page_on_a_phone_and_sends_it(page: Any,
                                                          live_server: LiveServer) -> None:
    plan = a_plan(live_server)
    hook = builders.subscribe(live_server.uow_factory, plan.clinic_id,
                              "https://booking.example/hooks", live_server.now())
    issued = link(live_server, plan.id)
    page.set_viewport_size(PHONE)
    response = page.goto(issued.path)
    assert response.status == 200
    assert page.locator("header").inner_text().strip() == "Kits Physio"
    page.get_by_label("Pain right now (0-10)").fill("3")
    page.get_by_label("How well can you do the activity you came in for? (0-10)").fill("7")
    page.get_by_label("1-2 days").check()
    page.get_by_label("Anything else?").fill("Walking is easier.")
    page.get_by_label("Anything else?").blur()  # no focus ring in the README's picture
    screenshot(page, "checkin-phone")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    found = builders.stored(live_server.uow_factory, plan.id)
    assert len(found["reports"]) == 1
    decision = found["decisions"][-1][2]
    assert "initial.reduce" in [e["rule"] for e in decision["explanations"]]  # 8 -> 3
    types = [d.event_type for d in builders.deliveries(live_server.uow_factory, hook.webhook.id)]
    assert "plan.frequency_changed" in types
    # a second visit: already answered, nothing more recorded
    page.goto(issued.path)
    assert page.get_by_role("heading", name="Answer received").is_visible()
    assert len(builders.stored(live_server.uow_factory, plan.id)["reports"]) == 1


def test_an_adverse_event_puts_the_plan_on_hold(page: Any, live_server: LiveServer) -> None:
    plan = a_plan(live_server)
    page.goto(link(live_server, plan.id).path)
    page.get_by_label("Pain right now (0-10)").fill("5")
    page.get_by_role("group", name="Anything unusual after the session?").get_by_label(
        "Yes").check()
    page.get_by_label("If yes, what happened?").fill("Felt faint in the evening.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert page.get_by_text("Please contact your clinic before your next session.").is_visible()
    view = plans.get_plan(live_server.uow_factory(), plan.id, now=live_server.now())
    assert (view.status, view.review["reasons"]) == ("on_hold", ["adverse_event"])


def test_bad_answers_show_beside_their_fields_and_record_nothing(page: Any,
                                                                 live_server: LiveServer) -> None:
    plan = a_plan(live_server)
    page.goto(link(live_server, plan.id).path)
    page.get_by_label("Pain right now (0-10)").fill("12")
    page.get_by_label("If yes, what happened?").fill("x" * 2001)
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    pain = page.get_by_label("Pain right now (0-10)")
    assert pain.get_attribute("aria-invalid") == "true"
    assert "0 to 10" in page.locator("#pain-error").inner_text()
    assert "2,000" in page.locator("#adverse_event_note-error").inner_text()
    assert pain.input_value() == "12"  # what was typed is kept
    assert builders.stored(live_server.uow_factory, plan.id)["reports"] == []
    screenshot(page, "checkin-errors")
    pain.fill("")
    page.get_by_label("If yes, what happened?").fill("")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "Choose your pain" in page.locator("#pain-error").inner_text()
    pain.fill("4")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Thank you").is_visible()


def test_an_expired_link_is_a_410_under_freezegun(page: Any, live_server: LiveServer) -> None:
    plan = a_plan(live_server)
    issued = link(live_server, plan.id, expires_in_hours=1)
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    # freezegun moves the clock the server thread reads; playwright's own calls keep theirs
    with freeze_time(later, tick=True, ignore=["playwright", "asyncio", "greenlet"]):
        response = page.goto(issued.path)
    assert response.status == 410
    assert page.get_by_role("heading", name="This link is no longer active").is_visible()


def test_a_revoked_link_is_a_410_and_a_tampered_one_a_404(page: Any,
                                                          live_server: LiveServer) -> None:
    plan = a_plan(live_server)
    revoked = link(live_server, plan.id)
    checkins.revoke_checkin(live_server.uow_factory(), revoked.checkin.id, actor=builders.ACTOR,
                            now=live_server.now())
    assert page.goto(revoked.path).status == 410
    fresh = link(live_server, plan.id)
    tampered = fresh.token[:-1] + ("A" if fresh.token[-1] != "A" else "B")
    response = page.goto(f"/c/{tampered}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Link not found").is_visible()
    assert page.goto(fresh.path).status == 200  # the real one still works
