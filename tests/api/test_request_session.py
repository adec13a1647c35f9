"""One pooled connection per request: authentication and the view share the request's
session, units of work run one after the other, and the connection goes back to the pool
whatever the outcome."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from werkzeug.test import create_environ, run_wsgi_app

from api.context import cadence
from tests.api.plan_support import API, iso, make_plan, ok, report_body


@pytest.fixture
def checkouts(app) -> Iterator[list[Any]]:
    """The pool checkouts of the app's engine while the test runs."""
    seen: list[Any] = []
    engine = app.extensions["cadence"].engine

    def on_checkout(*args: Any) -> None:
        seen.append(args)

    event.listen(engine, "checkout", on_checkout)
    yield seen
    event.remove(engine, "checkout", on_checkout)


def checked_out(app) -> int:
    return app.extensions["cadence"].engine.pool.checkedout()


def test_a_read_and_a_write_each_check_out_one_connection(app, client, booking, clinic,
                                                          checkouts) -> None:
    plan = make_plan(client, booking, clinic.id)
    checkouts.clear()
    ok(client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking))
    assert len(checkouts) == 1
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                   json=report_body(iso(hours=-0.5), pain=5)), 201)
    assert len(checkouts) == 2
    assert checked_out(app) == 0


def test_an_idempotent_post_runs_its_units_of_work_on_the_one_connection(
        app, client, booking, clinic, checkouts) -> None:
    plan = make_plan(client, booking, clinic.id)
    checkouts.clear()
    headers = {**booking, "Idempotency-Key": "rpt-1"}
    first = ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=headers,
                           json=report_body(iso(hours=-0.5), pain=5)), 201)
    again = client.post(f"{API}/plans/{plan['id']}/reports", headers=headers,
                        json=report_body(iso(hours=-0.5), pain=5))
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first
    assert len(checkouts) == 2 and checked_out(app) == 0


def test_rejected_requests_give_the_connection_back(app, client, booking, clinic,
                                                    problem) -> None:
    plan = make_plan(client, booking, clinic.id)
    problem(client.get(f"{API}/plans/{plan['id']}/next-visit",
                       headers={"Authorization": "Bearer ims_nope_nope"}), 401)
    problem(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                        json=report_body(iso(hours=-0.5), pain=11)), 422)
    problem(client.get(f"{API}/plans/pln_missing/next-visit", headers=booking), 404)
    assert checked_out(app) == 0


def test_units_of_work_never_nest_within_a_request(app) -> None:
    with app.test_request_context():
        with cadence().uow():
            with pytest.raises(RuntimeError, match="already open"):
                with cadence().uow():
                    pass
        with cadence().uow() as second:  # one after the other is fine
            assert second.session is cadence().request_session()


def test_a_unit_of_work_refuses_a_connection_left_in_a_transaction(app) -> None:
    """A session joining a transaction it did not begin would commit nothing, silently."""
    with app.test_request_context():
        connection = cadence().request_connection()
        connection.execute(text("SELECT 1"))  # begins a transaction outside the session
        with pytest.raises(RuntimeError, match="transaction of its own"):
            with cadence().uow():
                pass
        connection.rollback()
        with cadence().uow():  # and the refusal did not leave the request stuck
            pass


class SlowBody(io.RawIOBase):
    """A request body that arrives `delay` seconds after the headers."""

    def __init__(self, data: bytes, delay: float) -> None:
        self.data, self.delay, self.started = data, delay, threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.started.is_set():
            self.started.set()
            time.sleep(self.delay)
        size = min(len(buffer), len(self.data))
        buffer[:size], self.data = self.data[:size], self.data[size:]
        return size


@pytest.mark.postgres
def test_no_transaction_is_open_while_a_slow_body_arrives(app, booking, clinic, engine) -> None:
    """Authentication runs before the body is read: it must not leave the PostgreSQL session
    "idle in transaction" (holding locks, blocking migrations) for as long as a client takes."""
    body = json.dumps({"clinic_id": clinic.id, "external_id": "MRN-9"}).encode()
    stream, idle = SlowBody(body, 1.0), []

    def watch() -> None:
        stream.started.wait(5)
        time.sleep(0.3)
        with engine.connect() as connection:
            idle.extend(connection.execute(text(
                "SELECT left(query, 60) FROM pg_stat_activity WHERE datname = "
                "current_database() AND state LIKE 'idle in transaction%'")).all())

    watcher = threading.Thread(target=watch)
    watcher.start()
    environ = create_environ(f"{API}/patients", method="POST", headers=booking,
                             content_type="application/json", content_length=len(body))
    environ["wsgi.input"] = io.BufferedReader(stream)
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    watcher.join()
    assert status.startswith("201") and idle == []


def test_a_read_only_unit_of_work_runs_outside_a_transaction_and_refuses_commit(
        app, engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with app.test_request_context():
        connection = cadence().request_connection()
        dbapi = connection.connection.dbapi_connection
        with cadence().uow(read_only=True) as uow:
            assert uow.session.execute(text("SELECT 1")).scalar() == 1
            assert not postgres or dbapi.autocommit  # no BEGIN / ROLLBACK round trips
            with pytest.raises(RuntimeError, match="read-only"):
                uow.commit()
        assert not connection.in_transaction()
        with cadence().uow() as uow:  # the next unit of work is a transaction again
            uow.session.execute(text("SELECT 1"))
            assert not postgres or not dbapi.autocommit
