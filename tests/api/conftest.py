"""API fixtures: clinics and bearer headers for each role, made by the shared builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from scheduler.services.clinics import ClinicView
from tests import builders
from tests.builders import UowFactory

Headers = dict[str, str]


@pytest.fixture
def make_clinic(uow_factory: UowFactory, now: datetime) -> Callable[..., ClinicView]:
    """make_clinic(**overrides): a new clinic (builders.clinic's defaults)."""

    def build(**overrides: Any) -> ClinicView:
        return builders.clinic(uow_factory, now, **overrides)

    return build


@pytest.fixture
def make_headers(uow_factory: UowFactory, now: datetime) -> Callable[..., Headers]:
    """make_headers(role, *clinic_ids) -> {"Authorization": "Bearer <new key>"}."""

    def build(role: str, *clinic_ids: str) -> Headers:
        issued = builders.api_key(uow_factory, now, role, *clinic_ids)
        return {"Authorization": f"Bearer {issued.secret}"}

    return build


@pytest.fixture
def clinic(make_clinic: Callable[..., ClinicView]) -> ClinicView:
    return make_clinic()


@pytest.fixture
def other_clinic(make_clinic: Callable[..., ClinicView]) -> ClinicView:
    return make_clinic(name="Other Clinic", timezone="America/Toronto", holiday_region="CA-ON")


@pytest.fixture
def admin(make_headers: Callable[..., Headers]) -> Headers:
    return make_headers("admin")


@pytest.fixture
def booking(make_headers: Callable[..., Headers], clinic: ClinicView) -> Headers:
    return make_headers("booking_system", clinic.id)


@pytest.fixture
def physio(make_headers: Callable[..., Headers], clinic: ClinicView) -> Headers:
    return make_headers("physiotherapist", clinic.id)


@pytest.fixture
def front_desk(make_headers: Callable[..., Headers], clinic: ClinicView) -> Headers:
    return make_headers("front_desk", clinic.id)


@pytest.fixture
def other_booking(make_headers: Callable[..., Headers], other_clinic: ClinicView) -> Headers:
    return make_headers("booking_system", other_clinic.id)


def _assert_problem(response: Any, status: int,
                    extensions: tuple[str, ...] = ()) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    assert body["instance"] == f"urn:request:{response.headers['X-Request-Id']}"
    assert set(body) <= {"type", "title", "status", "detail", "errors", "instance",
                         "created_id", *extensions}
    del body["instance"]  # checked; callers compare the rest (two requests' ids differ)
    return body


@pytest.fixture
def problem() -> Callable[[Any, int], dict[str, Any]]:
    """problem(response, status[, extensions]): asserts an RFC 9457 body with that status,
    whose `instance` names the response's X-Request-Id, and returns it without `instance`."""
    return _assert_problem
