"""Server-side sessions: the cookie's flags, rotation at sign-in, idle and absolute expiry
(under freezegun), sign-out and disabling end them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app_factory import build_app
from config import Settings
from scheduler.models import WebSession
from scheduler.services import staff as staff_service
from tests.builders import ACTOR
from tests.conftest import T0
from tests.web.conftest import csrf_token, sign_in

COOKIE = "cadence_session"


def cookie_header(response) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert found, response.headers
    return found[-1]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/app/").status_code == 303 and \
        not client.get("/app/").headers["Location"].startswith("/app/login")


def test_the_cookie_is_httponly_samesite_lax_and_not_secure_on_plain_http_localhost(
        web_client, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    header = cookie_header(sign_in(web_client, user.email))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header


@pytest.mark.parametrize(("plain_http", "base_url"), [
    pytest.param(False, "http://localhost", id="setting-off-localhost"),
    pytest.param(True, "http://clinic.example", id="setting-on-but-not-loopback"),
])
def test_the_cookie_is_secure_unless_plain_http_on_a_loopback_host(
        database_url, engine, clock, clinic, make_staff, plain_http, base_url) -> None:
    app = build_app(Settings(database_url=database_url, testing=True, log_level="WARNING",
                             web_plain_http=plain_http), clock=clock)
    try:
        client = app.test_client()
        page = client.get("/app/login", base_url=base_url)
        assert "Secure" in cookie_header(page)
    finally:
        app.extensions["cadence"].engine.dispose()


def test_sign_in_rotates_the_session_and_the_old_token_is_worthless(
        web_client, web_app, clinic, make_staff, uow_factory) -> None:
    user = make_staff("front_desk", clinic.id)
    before = cookie_header(web_client.get("/app/login")).split(";")[0].split("=", 1)[1]
    after = cookie_header(sign_in(web_client, user.email)).split(";")[0].split("=", 1)[1]
    assert before != after
    planted = web_app.test_client()
    planted.set_cookie(COOKIE, before)  # e.g. fixed by an attacker before the sign-in
    assert planted.get("/app/").headers["Location"].startswith("/app/login")
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(WebSession)) == 1


def test_sign_out_ends_the_session_server_side(web_client, web_app, clinic, make_staff) -> None:
    user = make_staff("physiotherapist", clinic.id)
    answer = sign_in(web_client, user.email)
    token = cookie_header(answer).split(";")[0].split("=", 1)[1]
    out = web_client.post("/app/logout", data={"csrf_token": csrf_token(web_client,
                                                                        "/app/x")})
    assert out.status_code == 303 and f"{COOKIE}=;" in cookie_header(out)
    replay = web_app.test_client()
    replay.set_cookie(COOKIE, token)  # the cookie as it was before sign-out
    assert replay.get("/app/").headers["Location"] == "/app/login?next=/app/"


@pytest.fixture
def real_clock_app(database_url, engine) -> Iterator[Flask]:
    """The app on the wall clock, which freezegun moves."""
    app = build_app(Settings(database_url=database_url, testing=True, log_level="WARNING",
                             web_plain_http=True, session_idle_minutes=30,
                             session_absolute_hours=12))
    yield app
    app.extensions["cadence"].engine.dispose()


def test_a_session_ends_after_30_minutes_idle(real_clock_app, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    client = real_clock_app.test_client()
    with freeze_time(T0) as frozen:
        sign_in(client, user.email)
        frozen.tick(timedelta(minutes=29))
        assert signed_in(client)  # used at 29 min: the idle clock starts again
        frozen.tick(timedelta(minutes=29, seconds=50))
        assert signed_in(client)
        frozen.tick(timedelta(minutes=30))
        assert not signed_in(client)


def test_a_session_ends_12_hours_after_sign_in_however_busy(real_clock_app, clinic,
                                                            make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    client = real_clock_app.test_client()
    with freeze_time(T0) as frozen:
        sign_in(client, user.email)
        for _ in range(35):  # every 20 minutes for 11 h 40 min
            frozen.tick(timedelta(minutes=20))
            assert signed_in(client)
        frozen.tick(timedelta(minutes=20))  # 12 h
        assert not signed_in(client)


def test_disabling_or_changing_the_role_of_a_user_ends_their_sessions(
        web_app, clinic, make_staff, uow_factory, now) -> None:
    first, second = make_staff("front_desk", clinic.id), make_staff("front_desk", clinic.id)
    one, two = web_app.test_client(), web_app.test_client()
    sign_in(one, first.email)
    sign_in(two, second.email)
    assert signed_in(one) and signed_in(two)
    staff_service.update_staff(uow_factory(), first.id, disabled=True, actor=ACTOR, now=now)
    staff_service.update_staff(uow_factory(), second.id, role="physiotherapist", actor=ACTOR,
                               now=now)
    assert not signed_in(one) and not signed_in(two)


def test_a_malformed_cookie_is_no_session(web_app) -> None:
    client = web_app.test_client()
    for value in ("x", "\u00e9" * 10, "a" * 500):
        client.set_cookie(COOKIE, value)
        assert client.get("/app/").headers["Location"].startswith("/app/login")
