"""The patient's check-in page through the Flask client: what it shows (and does not), its
headers, CSRF, sending, bad answers, used / expired / revoked / unknown links, rate limits."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from app_factory import build_app
from config import Settings
from scheduler.services import checkins, plans
from tests import builders
from tests.builders import ACTOR
from tests.web.conftest import csrf_token

LABELS = ("Pain right now (0-10)", "Soreness after your last session",
          "Anything unusual after the session?", "Anything else?")
FUNCTION = "How well can you do the activity you came in for? (0-10)"
SORENESS = ("None", "Under 24 hours", "1-2 days", "2-3 days", "More than 3 days", "Still sore")


@pytest.fixture
def web_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, testing=True, log_level="WARNING",
                    web_plain_http=True, checkin_token_limit="8/minute",
                    checkin_address_limit="1000/minute")


@pytest.fixture
def plan(uow_factory, clinic, now) -> plans.PlanView:
    """Last session Friday 30 October 2026 (72 h before T0), no function tracked."""
    return builders.plan_with_session(uow_factory, clinic.id, now, now - timedelta(hours=72))


@pytest.fixture
def link(uow_factory, plan, now) -> checkins.IssuedCheckin:
    return checkins.create_checkin(uow_factory(), plan.id, actor=ACTOR, now=now)


def text(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def send(client: Any, path: str, **answers: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **answers})


def test_the_page_shows_the_clinic_the_last_session_and_the_questions(web_client, link, plan):
    response = web_client.get(link.path)
    assert response.status_code == 200
    page = text(response)
    assert "Kits Physio" in page and "Friday 30 October 2026" in page
    for label in (*LABELS, *SORENESS, "Send"):
        assert label in page, label
    assert FUNCTION not in page  # the plan does not track function
    assert "shoulder" not in page and "MRN-" not in page  # nothing else about the patient
    assert "<script" not in page  # works without JavaScript: there is none
    assert re.search(r'<label for="pain">Pain right now \(0-10\)</label>', page)


def test_function_is_asked_when_the_plan_tracks_it(web_client, uow_factory, clinic, now):
    tracked = builders.plan(uow_factory, now, clinic.id, "MRN-F")
    issued = checkins.create_checkin(uow_factory(), tracked.id, actor=ACTOR, now=now)
    page = text(web_client.get(issued.path))
    assert FUNCTION in page and "No session is recorded yet." in page


def test_the_page_is_never_cached_leaks_no_referrer_and_runs_no_script(web_client, link):
    for response in (web_client.get(link.path), web_client.get("/c/nope")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_sending_records_the_report_and_thanks_the_patient(web_client, link, plan, clock,
                                                           uow_factory):
    token = csrf_token(web_client, link.path)
    response = send(web_client, link.path, pain="3", soreness="2_3_days", adverse_event="no",
                    notes="better")
    assert response.status_code == 200, text(response)
    assert "Thank you" in text(response) and "contact your clinic" not in text(response)
    found = builders.stored(uow_factory, plan.id)
    assert len(found["reports"]) == 1
    (listed,) = checkins.list_checkins(uow_factory(), plan.id, now=clock.now).items
    assert listed.state == "used" and listed.report_id == found["reports"][0][0]
    again = web_client.get(link.path)
    assert again.status_code == 200 and "Answer received" in text(again)
    late = web_client.post(link.path, data={"pain": "1", "csrf_token": token})
    assert late.status_code == 200 and "Answer received" in text(late)
    assert len(builders.stored(uow_factory, plan.id)["reports"]) == 1


def test_an_adverse_event_asks_to_contact_the_clinic_and_holds_the_plan(web_client, link,
                                                                        plan, uow_factory, now):
    response = send(web_client, link.path, pain="6", adverse_event="yes",
                    adverse_event_note="fainted")
    assert "Please contact your clinic before your next session." in text(response)
    assert plans.get_plan(uow_factory(), plan.id, now=now).status == "on_hold"


@pytest.mark.parametrize(("answers", "field"), [
    ({}, "pain"), ({"pain": "11"}, "pain"), ({"pain": "-2"}, "pain"),
    ({"pain": "4", "adverse_event": "yes", "adverse_event_note": "x" * 2001},
     "adverse_event_note")], ids=["pain-missing", "pain-11", "pain-negative",
                                  "description-2001"])
def test_bad_answers_re_show_the_form_with_the_error_beside_the_field(
        web_client, link, plan, uow_factory, answers, field):
    before = builders.footprint(uow_factory(), plan.id)
    response = send(web_client, link.path, notes="kept", **answers)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert re.search(rf'aria-describedby="({field}-hint )?{field}-error"', body)
    assert ">kept</textarea>" in body  # the answers given are kept
    assert builders.footprint(uow_factory(), plan.id) == before
    assert web_client.get(link.path).status_code == 200  # still open


def test_a_post_without_a_csrf_token_records_nothing_and_asks_again(web_client, link, plan,
                                                                     uow_factory):
    before = builders.footprint(uow_factory(), plan.id)
    response = web_client.post(link.path, data={"pain": "3", "notes": "mine"})
    assert response.status_code == 400
    assert "press Send again" in text(response) and ">mine</textarea>" in text(response)
    assert builders.footprint(uow_factory(), plan.id) == before
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert token is not None
    sent = web_client.post(link.path, data={"pain": "3", "csrf_token": token.group(1)})
    assert "Thank you" in text(sent)


def test_an_expired_or_revoked_link_is_a_410_and_a_wrong_one_a_404(web_client, uow_factory,
                                                                   plan, clock, now):
    expiring = checkins.create_checkin(uow_factory(), plan.id, expires_in_hours=1, actor=ACTOR,
                                       now=now)
    revoked = checkins.create_checkin(uow_factory(), plan.id, actor=ACTOR, now=now)
    checkins.revoke_checkin(uow_factory(), revoked.checkin.id, actor=ACTOR, now=now)
    page = web_client.get(revoked.path)
    assert page.status_code == 410 and "no longer active" in text(page)
    token = csrf_token(web_client, expiring.path)
    clock.advance(hours=1)
    assert web_client.get(expiring.path).status_code == 410
    assert web_client.post(expiring.path, data={"pain": "3", "csrf_token": token}
                           ).status_code == 410
    tampered = expiring.token[:-2] + ("xy" if expiring.token[-2:] != "xy" else "yz")
    pages = [web_client.get(f"/c/{wrong}") for wrong in (tampered, "x", "a" * 300)]
    assert {p.status_code for p in pages} == {404}
    assert len({p.get_data() for p in pages}) == 1  # the same page for every wrong token
    assert len(builders.stored(uow_factory, plan.id)["reports"]) == 0


def test_a_link_is_rate_limited(web_client, link):
    answers = [web_client.get(link.path).status_code for _ in range(9)]
    assert answers == [200] * 8 + [429]
    limited = web_client.get(link.path)
    assert int(limited.headers["Retry-After"]) >= 1 and "Please wait" in text(limited)
    assert web_client.get("/c/another-token").status_code == 404  # other links still served


def test_a_client_address_is_rate_limited_across_links(database_url, engine, clock, link):
    app = build_app(Settings(database_url=database_url, testing=True, log_level="WARNING",
                             web_plain_http=True, checkin_address_limit="3/minute"), clock=clock)
    try:
        client = app.test_client()
        answers = [client.get(path).status_code for path in (link.path, "/c/x", "/c/y", "/c/z")]
        assert answers == [200, 404, 404, 429]
        other = client.get("/c/z", environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert other.status_code == 404  # another address is not held back
    finally:
        app.extensions["cadence"].engine.dispose()


def test_no_answer_and_no_token_reaches_a_log_line(database_url, engine, clock, uow_factory,
                                                   plan, json_logs):
    """Sentinels in every answer, good and bad, and the link's token: none is logged."""
    app = build_app(Settings(database_url=database_url, testing=True, log_level="DEBUG",
                             web_plain_http=True), clock=clock)
    try:
        client = app.test_client()
        issued = checkins.create_checkin(uow_factory(), plan.id, actor=ACTOR, now=clock.now)
        mark = "PHI-SENTINEL-checkin-7F3A"
        bad = {"pain": mark, "function": mark, "soreness": mark, "adverse_event": mark,
               "adverse_event_note": mark * 200, "notes": mark}
        assert send(client, issued.path, **bad).status_code == 422
        assert client.post(issued.path, data={"pain": "2", "notes": mark}).status_code == 400
        assert send(client, issued.path, pain="2", adverse_event="yes",
                    adverse_event_note=mark, notes=mark).status_code == 200
        assert client.get(f"/c/{mark}").status_code == 404
    finally:
        app.extensions["cadence"].engine.dispose()
    lines = json_logs.text()
    assert json_logs.events("request")  # the access lines were written
    assert mark not in lines and issued.token not in lines
