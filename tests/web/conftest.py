"""Page fixtures: the whole app (build_app) on the test database, staff users, a signed-in
client and the CSRF token of a page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from app_factory import build_app
from config import Settings
from scheduler.services import staff as staff_service
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders
from tests.builders import UowFactory

PASSWORD = "correct horse battery"  # 21 characters
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_settings(database_url: str) -> Settings:
    # Plain http on localhost, as `make run`: the test client speaks http to "localhost".
    return Settings(database_url=database_url, testing=True, log_level="WARNING",
                    web_plain_http=True)


@pytest.fixture
def web_app(web_settings: Settings, engine: Engine, clock: Any) -> Iterator[Flask]:
    """The API and the pages (app_factory.build_app) with the fake clock."""
    application = build_app(web_settings, clock=clock)
    yield application
    application.extensions["cadence"].engine.dispose()


@pytest.fixture
def web_client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


@pytest.fixture
def clinic(uow_factory: UowFactory, now: datetime) -> ClinicView:
    return builders.clinic(uow_factory, now)


@pytest.fixture
def make_staff(uow_factory: UowFactory, now: datetime) -> Callable[..., StaffUser]:
    """make_staff(role, *clinic_ids, email=..., password=PASSWORD): a new staff user."""
    counter = iter(range(1, 10_000))

    def build(role: str, *clinic_ids: str, email: str | None = None,
              password: str | None = PASSWORD, name: str = "Sam Staff") -> StaffUser:
        return staff_service.create_staff(
            uow_factory(), email=email or f"staff{next(counter)}@clinic.example", name=name,
            role=role, clinic_ids=clinic_ids, password=password, actor=builders.ACTOR, now=now)

    return build


def csrf_token(client: FlaskClient, path: str = "/app/login") -> str:
    """The CSRF token a GET of `path` puts in its forms."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Post the sign-in form as a browser would (token from the page)."""
    token = csrf_token(client)
    return client.post("/app/login", data={"email": email, "password": password,
                                           "csrf_token": token})
