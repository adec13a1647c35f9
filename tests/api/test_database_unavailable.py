"""503 database-unavailable: the app-level handler (any route, the /app pages to come
included), what counts as an outage and what stays a 500, and SQLite locked past its busy
timeout. Real outages: tests/integration/test_postgres_outage.py and test_sqlite_outage.py."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc

from api import create_app
from scheduler import db
from tests.api.plan_support import API, iso, make_plan, report_body
from tests.builders import footprint

UNAVAILABLE = "urn:ims-cadence:problem:database-unavailable"


def dbapi(error: type[exc.DBAPIError], message: str,
          original: Exception | None = None) -> exc.DBAPIError:
    return error("SELECT 1", {}, original or Exception(message))


@pytest.mark.parametrize("error", [
    pytest.param(dbapi(exc.OperationalError, "server closed the connection unexpectedly"),
                 id="postgres-gone"),
    pytest.param(dbapi(exc.OperationalError, "", sqlite3.OperationalError("database is locked")),
                 id="sqlite-locked"),
    pytest.param(dbapi(exc.OperationalError, "",
                       sqlite3.OperationalError("database or disk is full")), id="disk-full"),
    pytest.param(dbapi(exc.InterfaceError, "the connection is closed"), id="closed"),
    pytest.param(exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
                 id="pool-exhausted"),
    pytest.param(sqlite3.OperationalError("attempt to write a readonly database"),
                 id="raw-sqlite-read-only"),
])
def test_an_outage_on_any_route_is_503_problem_json_with_retry_after(app, problem,
                                                                     error) -> None:
    @app.get("/app/outage-probe")  # a staff page of the web/ layer would be like this
    def probe() -> None:
        raise error

    body = problem(app.test_client().get("/app/outage-probe"), 503)
    assert body["type"] == UNAVAILABLE
    response = app.test_client().get("/app/outage-probe")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("error", [
    pytest.param(dbapi(exc.OperationalError, "",
                       sqlite3.OperationalError("no such table: clinics")), id="no-such-table"),
    pytest.param(dbapi(exc.IntegrityError, "duplicate key"), id="integrity"),
    pytest.param(dbapi(exc.ProgrammingError, "syntax error"), id="programming"),
])
def test_a_database_error_that_is_no_outage_stays_a_500(app, problem, error) -> None:
    @app.get("/app/bug-probe")
    def probe() -> None:
        raise error

    body = problem(app.test_client().get("/app/bug-probe"), 500)
    assert body["type"].endswith(":internal")


@pytest.fixture
def quick_busy_timeout(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's lock")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)


def test_a_database_locked_past_the_busy_timeout_is_503_and_stores_nothing(
        quick_busy_timeout, settings, engine, clock, booking, clinic, uow) -> None:
    app = create_app(settings, clock=clock)  # its engine has the short timeout
    client = app.test_client()
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"),
                             isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer (a shell, a stuck job) holds it
        for key in ({}, {"Idempotency-Key": "locked-1"}):
            response = client.post(f"{API}/plans/{plan['id']}/reports",
                                   headers={**booking, **key},
                                   json=report_body(iso(hours=-1), pain=5))
            assert response.status_code == 503, response.get_data(as_text=True)
            assert response.get_json()["type"] == UNAVAILABLE
            assert response.headers["Retry-After"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert footprint(uow, plan["id"]) == before
    retry = client.post(f"{API}/plans/{plan['id']}/reports",
                        headers={**booking, "Idempotency-Key": "locked-1"},
                        json=report_body(iso(hours=-1), pain=5))
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    app.extensions["cadence"].engine.dispose()
