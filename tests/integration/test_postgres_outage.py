"""A real PostgreSQL server of the test's own (bench/pgcluster.py), stopped and started under a
running app: every /api/v1 and /cds-services request answers 503 problem+json with
Retry-After while it is down (pooled connections dead, new ones refused), a statement or lock
timeout is a 503 too, and the same app serves again once the server is back (no restart).
Skipped where the PostgreSQL binaries are not installed (CI has them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from api import create_app
from config import Settings
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.services import api_keys
from scheduler.services.common import Actor
from tests import builders
from tests.integration.pg_support import migrated_cluster, needs_pg_binaries

pytestmark = [pytest.mark.slow, needs_pg_binaries]
NOW = datetime(2026, 11, 2, 17, 30, tzinfo=UTC)
SETUP = Actor(key_id=None, name="test-setup")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with migrated_cluster() as server:
        yield server


def app_on(cluster: Any, **settings: Any) -> Any:
    return create_app(Settings(database_url=cluster.url("cadence"), testing=True,
                               log_level="WARNING", **settings), clock=lambda: NOW)


def unavailable(response: Any) -> dict[str, Any]:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json(force=True)
    assert body["type"].endswith(":database-unavailable") and body["status"] == 503
    return body


@pytest.fixture
def seeded(cluster: Any) -> dict[str, str]:
    engine = make_engine(cluster.url("cadence"))
    sessions = make_session_factory(engine)

    def factory() -> UnitOfWork:
        return UnitOfWork(sessions)

    clinic = builders.clinic(factory, NOW)
    token = api_keys.create_api_key(factory(), name="b", role="booking_system",
                                    clinic_ids=[clinic.id], actor=SETUP, now=NOW).secret
    engine.dispose()
    return {"clinic": clinic.id, "token": token}


def requests(client: Any, seeded: dict[str, str]) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    return {
        "list": client.get(f"/api/v1/patients?clinic_id={seeded['clinic']}", headers=auth),
        "create": client.post("/api/v1/patients", headers={**auth, "Idempotency-Key": "p-1"},
                              json={"clinic_id": seeded["clinic"], "external_id": "MRN-77"}),
        "cds": client.get("/cds-services", headers=auth),
    }


def test_a_stopped_server_is_503_everywhere_and_the_app_recovers_by_itself(
        cluster, seeded) -> None:
    app = app_on(cluster)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    assert client.get(f"/api/v1/patients?clinic_id={seeded['clinic']}",
                      headers=auth).status_code == 200  # a pooled connection now exists
    cluster.pause()
    try:
        for name, response in requests(client, seeded).items():
            body = unavailable(response)
            assert "MRN-77" not in str(body), name
    finally:
        cluster.resume()
    again = requests(client, seeded)  # the same app: the dead connections are replaced
    assert again["list"].status_code == 200, again["list"].get_data(as_text=True)
    assert again["create"].status_code == 201, again["create"].get_data(as_text=True)
    assert again["cds"].status_code == 200
    assert "Idempotent-Replayed" not in again["create"].headers  # the 503 stored nothing
    app.extensions["cadence"].engine.dispose()


def test_a_killed_connection_is_replaced_without_an_error(cluster, seeded) -> None:
    app = app_on(cluster)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    assert client.get("/cds-services", headers=auth).status_code == 200
    killer = make_engine(cluster.url("cadence"))
    with killer.connect() as connection:  # a failover or an admin's pg_terminate_backend
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = 'cadence' AND pid <> pg_backend_pid()"))
    killer.dispose()
    assert client.get("/cds-services", headers=auth).status_code == 200  # pre-ping
    app.extensions["cadence"].engine.dispose()


@pytest.mark.parametrize("limits", [
    pytest.param({"statement_timeout_ms": 300, "lock_timeout_ms": 0}, id="statement-timeout"),
    pytest.param({"statement_timeout_ms": 0, "lock_timeout_ms": 300}, id="lock-timeout"),
])
def test_a_statement_or_lock_timeout_is_503(cluster, seeded, limits) -> None:
    app = app_on(cluster, **limits)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    blocker = make_engine(cluster.url("cadence"))
    with blocker.connect() as connection:
        connection.execute(text("LOCK TABLE patients IN ACCESS EXCLUSIVE MODE"))
        response = client.post("/api/v1/patients", headers=auth,
                               json={"clinic_id": seeded["clinic"], "external_id": "MRN-78"})
        unavailable(response)
        connection.rollback()
    blocker.dispose()
    created = client.post("/api/v1/patients", headers=auth,
                          json={"clinic_id": seeded["clinic"], "external_id": "MRN-78"})
    assert created.status_code == 201, created.get_data(as_text=True)  # nothing was left
    app.extensions["cadence"].engine.dispose()
