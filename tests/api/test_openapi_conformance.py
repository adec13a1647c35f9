"""Schemathesis, in process, against our own /openapi.json, with all of its checks: no 5xx,
every response matches its documented status, content type, headers and schema, invalid
data is rejected, valid data accepted (see POSITIVE_ANSWERS), no ignored auth, no resource
used after its deletion; per operation, then as stateful sequences of linked operations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.generation import GenerationMode

from api import create_app
from config import Settings
from scheduler.services import rulesets
from tests import builders

# positive_data_acceptance: a request of the documented shape may still be refused by the
# contract (api.md) for what it says: an unknown clinic or patient, a tampered cursor, a time
# in the future (422), a stale or missing If-Match (412 / 428). Schemathesis' default list
# (2xx, 3xx, 401, 403, 404, 409, 429, 5xx; 5xx is caught by not_a_server_error) lacks those.
POSITIVE_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "428", "429"]


def load_schema(app: Any) -> Any:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.config.checks.positive_data_acceptance.expected_statuses = POSITIVE_ANSWERS
    return schema


@pytest.fixture(name="settings")
def unlocked_settings(database_url: str) -> Settings:
    """ignored_auth probes every operation without a key: that many failed authentications
    would lock the test client's address out (429) and hide the rest of the run."""
    return Settings(database_url=database_url, testing=True, log_level="WARNING",
                    auth_failure_limit="1000000/minute", webhook_allow_private_networks=True)


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
    operation = load_schema(app)[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def call(case: Any) -> None:
        for name, value in seeded["ids"].items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        case.call_and_validate(headers=seeded["headers"])  # every check

    call()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["booking_system", "admin"])
def test_stateful_sequences_conform(app: Any, seeded: dict, make_headers: Any, clinic: Any,
                                    engine: Any, _migrated_tables: list, role: str) -> None:
    """Schemathesis' stateful phase: chains of calls along the links it infers (a created
    plan's id into its reports, visits and actions ...), every check on every step.

    Each sequence starts from the same rows (the seeded ones), restored before it: Hypothesis
    replays a prefix of choices expecting the same answers, and a plan the previous sequence
    created or discharged would change which links can be followed (FlakyStrategyDefinition,
    "a bundle that was unexpectedly empty")."""
    headers = seeded["headers"] if role == "booking_system" else make_headers("admin")
    schema = load_schema(app)
    # Valid calls only here: invalid data is the per-operation test's, with every check. In
    # sequences, schemathesis 4.32 marked a call invalid for a query parameter it then did not
    # send and for the Authorization header we add, and read its 200 as "invalid data accepted"
    # (seed 12: GET /patients?clinic_id=0&limit=1, a valid call).
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    machine = schema.as_state_machine()
    with engine.connect() as connection:  # children first: insert in reverse
        initial = [(table, [row._asdict() for row in connection.execute(table.select())])
                   for table in _migrated_tables]

    def restore() -> None:
        with engine.begin() as connection:
            for table, _ in initial:
                connection.execute(table.delete())
            for table, rows in reversed(initial):
                if rows:
                    connection.execute(table.insert(), rows)
        rulesets.forget_stored()

    class Stateful(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            restore()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            # As the state machine's own, plus `headers`: the checks must know our key was
            # given explicitly, or ignored_auth reads its 200 as a made-up key accepted.
            case.validate_response(response, headers=headers, additional_checks=additional_checks,
                                   transport_kwargs=kwargs or None, recorder=self.recorder)

    run_state_machine_as_test(Stateful, settings=settings(
        max_examples=40, stateful_step_count=8, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
