"""Webhook delivery order per plan, restarts mid-delivery and concurrent workers, for real.

At-least-once: a worker that dies after the receiver answered 2xx but before it committed the
outcome leaves a lease that runs out; the next run sends the same message again, with the same
`webhook-id` and body, and the receiver dedupes on that id. Once a 2xx is committed, never again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.models import WebhookDelivery
from scheduler.webhooks import claims
from scheduler.webhooks.delivery import LEASE, MAX_ATTEMPTS, RunReport
from scheduler.webhooks.outbox import emit
from scheduler.webhooks.transport import Sender, http_send
from tests import builders
from tests.builders import AWAITING_CONSENT, UowFactory, act, deliveries, subscribe
from tests.integration.webhook_support import Received, Reply, deliver, receiver


class Crash(BaseException):
    """The worker process dies here."""


def crash_before_sending(url: str, headers: Any, body: bytes) -> int:
    raise Crash


def crash_after_the_response(send: Sender) -> Sender:
    def sender(url: str, headers: Any, body: bytes) -> int:
        send(url, headers, body)
        raise Crash  # the 2xx came back, the outcome is never committed

    return sender


def plan_of(got: Received) -> str | None:
    return json.loads(got.body)["data"].get("plan_id")


def test_a_plans_events_arrive_in_order_and_a_failing_head_blocks_only_its_plan(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    failed = []

    def script(got: Received) -> Reply:  # plan A's very first request fails
        if plan_of(got) == plan_a and not failed:
            failed.append(got)
            return Reply(500)
        return Reply(200)

    with receiver(script) as server:
        subscribe(uow_factory, clinic, server.url, now)
        plan_a = builders.plan(uow_factory, now, clinic, "EXT-A", **AWAITING_CONSENT).id
        act(uow_factory, plan_a, "hold", now)
        act(uow_factory, plan_a, "resume", now)
        plan_b = builders.plan(uow_factory, now, clinic, "EXT-B", **AWAITING_CONSENT).id
        assert deliver(uow_factory, now=now) == RunReport(succeeded=1, retrying=1)
        assert sorted(map(plan_of, server.received)) == sorted([plan_a, plan_b])
        assert deliver(uow_factory, now=now + timedelta(seconds=40)) == RunReport(
            succeeded=3)  # after the retry's 30 s and its jitter
    of_a = [json.loads(r.body) for r in server.received if plan_of(r) == plan_a]
    assert [(b["type"], b["data"]["status"]) for b in of_a] == [
        ("plan.created", "assessment_pending"), ("plan.created", "assessment_pending"),
        ("plan.status_changed", "on_hold"), ("plan.status_changed", "assessment_pending")]


def test_a_worker_that_died_after_claiming_is_replaced_once_its_lease_runs_out(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    with receiver() as server:
        hook = subscribe(uow_factory, clinic, server.url, now)
        builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
        with pytest.raises(Crash):
            deliver(uow_factory, now=now, send=crash_before_sending)
        [row] = deliveries(uow_factory, hook.webhook.id)
        assert (row.status, row.attempts) == ("in_flight", 1)
        assert deliver(uow_factory, now=now + LEASE / 2).attempted == 0  # lease held
        assert deliver(uow_factory, now=now + LEASE + timedelta(seconds=1)) == RunReport(
            succeeded=1)
    assert len(server.received) == 1
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.attempts) == ("succeeded", 2)


def test_a_crash_after_the_2xx_means_one_redelivery_with_the_same_webhook_id(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    with receiver() as server:
        hook = subscribe(uow_factory, clinic, server.url, now)
        builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
        with pytest.raises(Crash):
            deliver(uow_factory, now=now, send=crash_after_the_response(http_send))
        later = now + LEASE + timedelta(seconds=1)
        assert deliver(uow_factory, now=later) == RunReport(succeeded=1)
        for days in (1, 2, 7):
            assert deliver(uow_factory, now=later + timedelta(days=days)).attempted == 0
    first, again = server.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    assert len(set(server.ids())) == 1  # what a receiver deduping on webhook-id processes
    assert deliveries(uow_factory, hook.webhook.id)[0].status == "succeeded"


def test_a_worker_dying_on_the_last_attempt_leaves_the_delivery_failed(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    hook = subscribe(uow_factory, clinic, "http://127.0.0.1:9/hooks", now)
    builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
    with uow_factory() as uow:
        uow.session.execute(update(WebhookDelivery).values(attempts=MAX_ATTEMPTS - 1))
        uow.commit()
    with pytest.raises(Crash):
        deliver(uow_factory, now=now, send=crash_before_sending)
    deliver(uow_factory, now=now + LEASE + timedelta(seconds=1))
    [row] = deliveries(uow_factory, hook.webhook.id, status="failed")
    assert row.attempts == MAX_ATTEMPTS and "stopped" in (row.last_error or "")


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite-file"),
                        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)])
def shared_factory(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[UowFactory]:
    """Units of work on a database many threads share: an own SQLite file, or PostgreSQL."""
    if request.param == "postgres":
        yield request.getfixturevalue("uow_factory")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'concurrent.db'}")
    schema.upgrade(engine)
    factory = make_session_factory(engine)
    yield lambda: UnitOfWork(factory)
    engine.dispose()


def test_concurrent_runs_never_send_a_delivery_twice_and_keep_plan_order(
        shared_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(shared_factory, now).id
    with receiver(lambda _: Reply(200, delay=0.01)) as server:
        subscribe(shared_factory, clinic, server.url, now)
        plan_ids = [builders.plan(shared_factory, now, clinic, f"EXT-{n}", **AWAITING_CONSENT).id
                    for n in range(3)]
        for plan_id in plan_ids:
            act(shared_factory, plan_id, "hold", now)
            act(shared_factory, plan_id, "resume", now)
        with shared_factory() as uow:
            for _ in range(6):
                emit(uow.session, clinic_id=clinic, plan_id=None, type="followup.due",
                     data={}, now=now)
            uow.commit()
        start, reports, errors = threading.Barrier(4), [], []

        def run() -> None:
            start.wait()
            try:
                reports.append(deliver(shared_factory, now=now, batch=2))
            except Exception as exc:  # pragma: no cover - surfaced by the assert below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    assert sum(r.succeeded for r in reports) == 15 and sum(r.attempted for r in reports) == 15
    assert len(server.ids()) == len(set(server.ids())) == 15
    for plan_id in plan_ids:
        statuses = [json.loads(r.body)["data"]["status"] for r in server.received
                    if plan_of(r) == plan_id]
        assert statuses == ["assessment_pending", "on_hold", "assessment_pending"]


@pytest.mark.postgres
def test_on_postgres_a_claim_skips_rows_another_open_claim_holds(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    hook = subscribe(uow_factory, clinic, "http://127.0.0.1:9/hooks", now)
    for n in range(6):
        builders.plan(uow_factory, now, clinic, f"EXT-{n}", **AWAITING_CONSENT)
    kwargs: dict[str, Any] = {"now": now, "batch": 3, "lease": LEASE,
                              "max_attempts": MAX_ATTEMPTS}
    with uow_factory() as first, uow_factory() as second:
        taken = claims.claim(first.session, token="a" * 32, **kwargs)  # not committed yet
        second.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # never wait on `first`
        other = claims.claim(second.session, token="b" * 32, **kwargs)
        first.commit()
        second.commit()
    assert len(taken) == len(other) == 3
    assert not {c.id for c in taken} & {c.id for c in other}
    assert {d.status for d in deliveries(uow_factory, hook.webhook.id)} == {"in_flight"}


def test_the_outcome_of_a_lease_another_worker_took_over_is_not_stored(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    hook = subscribe(uow_factory, clinic, "http://127.0.0.1:9/hooks", now)
    builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
    kwargs: dict[str, Any] = {"batch": 5, "lease": LEASE, "max_attempts": MAX_ATTEMPTS}
    with uow_factory() as uow:
        [slow] = claims.claim(uow.session, token="a" * 32, now=now, **kwargs)
        uow.commit()
    with uow_factory() as uow:
        [taken] = claims.claim(uow.session, token="b" * 32, now=now + LEASE * 2, **kwargs)
        uow.commit()
    assert taken.id == slow.id and taken.attempt == 2
    with uow_factory() as uow:
        assert not claims.record(uow.session, slow, token="a" * 32, now=now, ok=True,
                                 status_code=200, note=None, retry_at=None)
        uow.commit()
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.delivered_at) == ("in_flight", None)
