"""Failed sign-ins through the page: the lockout's message is a wrong password's, every
failure is audited, and no email or password reaches any log line (at DEBUG)."""

from __future__ import annotations

from sqlalchemy import select

from app_factory import build_app
from config import Settings
from scheduler.models import AuditEntry
from tests.web.conftest import PASSWORD, csrf_token, sign_in

MESSAGE = "The email or password is incorrect."


def test_the_sixth_try_after_five_wrong_passwords_is_refused_with_the_same_message(
        web_client, clinic, make_staff, clock, uow_factory) -> None:
    user = make_staff("front_desk", clinic.id)
    for _ in range(5):
        wrong = sign_in(web_client, user.email, "wrong password!!")
        assert wrong.status_code == 401 and MESSAGE in wrong.get_data(as_text=True)
    locked = sign_in(web_client, user.email)  # the right password, while locked
    assert locked.status_code == 401 and MESSAGE in locked.get_data(as_text=True)
    # the whole page is a wrong password's, but for the form's fresh CSRF token
    assert locked.get_data(as_text=True) == wrong.get_data(as_text=True).replace(
        csrf_token_of(wrong), csrf_token_of(locked))
    clock.advance(minutes=15)
    assert sign_in(web_client, user.email).status_code == 303
    with uow_factory() as uow:
        failed = uow.session.scalars(select(AuditEntry.after).where(
            AuditEntry.action == "staff.sign_in_failed")).all()
    assert len(failed) == 6


def csrf_token_of(response) -> str:
    html = response.get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_no_email_or_password_reaches_the_logs(database_url, engine, clock, clinic, make_staff,
                                               json_logs) -> None:
    app = build_app(Settings(database_url=database_url, testing=True, log_level="DEBUG",
                             web_plain_http=True), clock=clock)
    try:
        client = app.test_client()
        user = make_staff("front_desk", clinic.id, email="SENTINEL-EMAIL@clinic.example")
        sign_in(client, "SENTINEL-UNKNOWN@clinic.example", "SENTINEL-PASSWORD-1")
        sign_in(client, user.email, "SENTINEL-PASSWORD-2")
        sign_in(client, user.email, PASSWORD)
        client.get("/app/login?next=/app/SENTINEL-NEXT")
        client.post("/app/logout", data={"csrf_token": csrf_token(client, "/app/x")})
        assert json_logs.events("request"), "the access lines were captured"
        text = json_logs.text()
        assert "SENTINEL" not in text and PASSWORD not in text and "@clinic.example" not in text
    finally:
        app.extensions["cadence"].engine.dispose()
