"""Signing in and out of the web app with a session cookie (Flask test client)."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests.web.conftest import csrf_token, sign_in


def test_the_login_page_has_the_email_and_password_fields_and_the_sign_in_button(
        web_client: FlaskClient) -> None:
    page = web_client.get("/app/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert '<button type="submit" class="button-primary">Sign in</button>' in html


def test_signing_in_lands_on_the_clinics_follow_ups(
        web_client: FlaskClient, clinic: ClinicView,
        make_staff: Callable[..., StaffUser]) -> None:
    user = make_staff("front_desk", clinic.id, email="Desk@Clinic.example")
    answer = sign_in(web_client, "desk@clinic.EXAMPLE")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/app/"
    landing = web_client.get("/app/")
    assert landing.status_code == 303
    assert landing.headers["Location"] == f"/app/clinics/{clinic.id}/followups"
    assert user.name in web_client.get("/app/no-such-page").get_data(as_text=True)


def test_a_page_without_a_session_redirects_to_sign_in_with_next(
        web_client: FlaskClient) -> None:
    answer = web_client.get("/app/")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/app/login?next=/app/"


def test_logout_ends_the_session(web_client: FlaskClient, clinic: ClinicView,
                                 make_staff: Callable[..., StaffUser]) -> None:
    user = make_staff("physiotherapist", clinic.id)
    sign_in(web_client, user.email)
    page = web_client.get("/app/no-such-page")  # any page: the header has the sign-out form
    assert page.status_code == 404 and user.name in page.get_data(as_text=True)
    token = csrf_token(web_client, "/app/no-such-page")
    answer = web_client.post("/app/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/app/login"
    assert web_client.get("/app/").headers["Location"] == "/app/login?next=/app/"
