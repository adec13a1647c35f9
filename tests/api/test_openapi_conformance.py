"""Schemathesis, in process, against our own /openapi.json: no 5xx, and every response
matches its documented status, content type and schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from config import Settings
from tests import builders

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def seeded(app: Any, uow_factory: Any, clinic: Any, make_headers: Any, now: Any) -> dict:
    """A clinic with a consented plan and a visit, so generated calls reach real objects."""
    plan = builders.plan(uow_factory, now, clinic.id, "MRN-9", condition="neck pain",
                         onset_date=now.date() - timedelta(days=100),
                         baseline={"pain": 7, "function": 4}, neuropathic_symptoms=True,
                         consent={"recorded_at": now, "recorded_by": "physio:1"})
    visit = builders.visit(uow_factory, plan.id, now, external_id="V-9",
                           starts_at=now + timedelta(days=3), status="booked")
    return {"headers": make_headers("booking_system", clinic.id),
            "ids": {"plan_id": plan.id, "patient_id": plan.patient_id, "visit_id": visit.id,
                    "clinic_id": clinic.id, "ruleset_id": "ims-default@1"}}


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation, read from the spec of an app that never connects."""
    app = create_app(Settings(database_url="sqlite:///unused-never-opened.db", testing=True))
    spec = app.test_client().get("/openapi.json").json
    return [(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in {"get", "post", "patch", "put", "delete"}]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_conforms_to_its_openapi_description(app: Any, seeded: dict,
                                                             method: str, path: str) -> None:
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def call(case: Any) -> None:
        for name, value in seeded["ids"].items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        case.call_and_validate(headers=seeded["headers"], checks=CHECKS)

    call()
