"""One pooled connection per request: authentication and the view share the request's
session, units of work run one after the other, and the connection goes back to the pool
whatever the outcome."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

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
