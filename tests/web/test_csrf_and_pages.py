"""CSRF on every form (a POST without a valid token is a 400 page that changes nothing, and
/api/v1 is not affected); roles and tenancy for pages; the HTML error pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import func, select

from app_factory import build_app
from scheduler.models import AuditEntry, WebSession
from tests import builders
from tests.api.plan_support import API
from tests.web.conftest import PASSWORD, csrf_token, sign_in
from web import auth
from web.csrf import protect_blueprint
from web.errors import register as register_error_pages


def count(uow_factory, model) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_sign_in_without_a_csrf_token_is_refused_and_changes_nothing(
        web_client, clinic, make_staff, uow_factory) -> None:
    user = make_staff("front_desk", clinic.id)
    audit_before, sessions_before = count(uow_factory, AuditEntry), count(uow_factory, WebSession)
    for token in (None, "forged-token"):
        data = {"email": user.email, "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        answer = web_client.post("/app/login", data=data)
        assert answer.status_code == 400 and answer.mimetype == "text/html"
        assert "Request refused" in answer.get_data(as_text=True)
    assert count(uow_factory, AuditEntry) == audit_before  # not even a failed sign-in
    assert count(uow_factory, WebSession) == sessions_before
    assert web_client.get("/app/").headers["Location"].startswith("/app/login")


def test_a_sign_out_without_a_token_is_refused_and_the_session_lives_on(
        web_client, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    sign_in(web_client, user.email)
    assert web_client.post("/app/logout").status_code == 400
    assert web_client.get("/app/").headers["Location"] == f"/app/clinics/{clinic.id}/followups"


def test_a_token_of_another_session_is_refused(web_app, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    mine, theirs = web_app.test_client(), web_app.test_client()
    sign_in(mine, user.email)
    stolen = csrf_token(theirs)
    assert mine.post("/app/logout", data={"csrf_token": stolen}).status_code == 400


def test_the_api_takes_no_csrf_token(web_client, uow_factory, now) -> None:
    issued = builders.api_key(uow_factory, now, "admin")
    admin = {"Authorization": f"Bearer {issued.secret}"}
    answer = web_client.post(f"{API}/clinics", headers=admin, json={
        "name": "K", "timezone": "UTC", "open_weekdays": [0]})
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_a_failed_sign_in_says_the_same_for_a_wrong_password_and_an_unknown_email(
        web_client, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    wrong = sign_in(web_client, user.email, "wrong password!!")
    unknown = sign_in(web_client, "nobody@clinic.example")
    assert wrong.status_code == unknown.status_code == 401
    message = "The email or password is incorrect."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_sign_in_follows_next_only_within_the_app(web_client, clinic, make_staff) -> None:
    user = make_staff("front_desk", clinic.id)
    for target, landing in (("/app/patients?q=x", "/app/patients?q=x"),
                            ("https://evil.example/", "/app/"), ("//evil.example", "/app/")):
        token = csrf_token(web_client)
        answer = web_client.post("/app/login", data={"email": user.email, "password": PASSWORD,
                                                     "csrf_token": token, "next": target})
        assert answer.headers["Location"] == landing
        web_client.post("/app/logout", data={"csrf_token": csrf_token(web_client, "/app/x")})


def _app_with_a_page(web_settings, clock) -> Any:
    """build_app plus a page blueprint that uses the helpers as the page engineers will."""
    app = build_app(web_settings, clock=clock)
    pages = Blueprint("test_pages", __name__, url_prefix="/app/test")
    protect_blueprint(pages)
    register_error_pages(pages)

    @pages.get("/clinics/<clinic_id>")
    @auth.staff_required()
    def clinic_page(clinic_id: str) -> str:
        auth.ensure_visible(clinic_id, "clinic", clinic_id)
        return f"clinic {clinic_id}"

    @pages.post("/clinical")
    @auth.staff_required("physiotherapist")
    def clinical() -> str:
        return auth.staff_actor().name or ""

    app.register_blueprint(pages)
    return app


def test_another_clinics_object_is_a_404_page_and_a_wrong_role_a_403_page(
        web_settings, engine, clock, clinic, make_clinic_id, make_staff) -> None:
    app = _app_with_a_page(web_settings, clock)
    try:
        client = app.test_client()
        desk = make_staff("front_desk", clinic.id)
        sign_in(client, desk.email)
        assert client.get(f"/app/test/clinics/{clinic.id}").status_code == 200
        other = client.get(f"/app/test/clinics/{make_clinic_id}")
        assert other.status_code == 404 and other.mimetype == "text/html"
        assert "Not found" in other.get_data(as_text=True)
        token = csrf_token(client, "/app/x")
        refused = client.post("/app/test/clinical", data={"csrf_token": token})
        assert refused.status_code == 403 and "Not allowed" in refused.get_data(as_text=True)
        assert client.post("/app/test/clinical").status_code == 400  # no token: CSRF first
        physio = make_staff("physiotherapist", clinic.id)
        client.post("/app/logout", data={"csrf_token": token})
        sign_in(client, physio.email)
        token = csrf_token(client, "/app/x")
        done = client.post("/app/test/clinical", data={"csrf_token": token})
        assert done.get_data(as_text=True) == f"staff:{physio.id}"
    finally:
        app.extensions["cadence"].engine.dispose()


def test_an_admin_sees_every_clinic(web_settings, engine, clock, clinic, make_clinic_id,
                                    make_staff) -> None:
    app = _app_with_a_page(web_settings, clock)
    try:
        client = app.test_client()
        sign_in(client, make_staff("admin").email)
        assert client.get(f"/app/test/clinics/{make_clinic_id}").status_code == 200
    finally:
        app.extensions["cadence"].engine.dispose()


def test_unknown_app_paths_are_html_404_pages_and_pages_are_not_cached(web_client) -> None:
    answer = web_client.get("/app/nothing/here")
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    login = web_client.get("/app/login")
    assert login.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]
    assert web_client.get(f"{API}/nothing").mimetype == "application/problem+json"


def test_the_landing_page_without_a_clinic(web_client, make_staff) -> None:
    sign_in(web_client, make_staff("admin").email)
    page = web_client.get("/app/")
    assert page.status_code == 200 and "no clinic" in page.get_data(as_text=True)
