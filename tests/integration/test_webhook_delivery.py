"""Webhook delivery against a real local HTTP server: success, failures, retries, the schedule."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta
from functools import partial

import pytest
from freezegun import freeze_time
from standardwebhooks import Webhook

from scheduler.services import webhooks as service
from scheduler.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS, RunReport
from scheduler.webhooks.health import BREAKER_MAX, JITTER, Policy
from scheduler.webhooks.transport import http_send
from tests import builders
from tests.builders import ACTOR, AWAITING_CONSENT, UowFactory, act, deliveries, subscribe
from tests.conftest import FakeClock
from tests.integration.webhook_support import LOCAL, Received, Reply, deliver, receiver


@pytest.fixture
def clinic_id(uow_factory: UowFactory, now: datetime) -> str:
    return builders.clinic(uow_factory, now).id


def test_a_delivery_is_signed_verifiable_and_marked_succeeded(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    with receiver() as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        plan_id = builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT).id
        report = deliver(uow_factory, now=now)
    assert report == RunReport(succeeded=1)
    [got] = server.received
    assert got.path == "/hooks" and got.headers["content-type"] == "application/json"
    with freeze_time(now):  # the reference library checks the timestamp against its clock
        body = Webhook(hook.secret).verify(got.body, got.headers)
    assert body["type"] == "plan.created" and body["data"]["plan_id"] == plan_id
    assert 0 <= int(got.headers["webhook-timestamp"]) - int(now.timestamp()) <= 5
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 1, 200)
    assert (row.event_id, row.next_attempt_at) == (got.headers["webhook-id"], None)
    assert now <= row.delivered_at <= now + timedelta(seconds=5)  # the run's time, moving on


def test_a_500_is_retried_after_the_back_off_then_succeeds(
        uow_factory: UowFactory, clinic_id: str, clock: FakeClock) -> None:
    answers = iter([500, 200])
    with receiver(lambda _: Reply(next(answers))) as server:
        hook = subscribe(uow_factory, clinic_id, server.url, clock.now)
        builders.plan(uow_factory, clock.now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        first = clock.now
        assert deliver(uow_factory, now=first) == RunReport(retrying=1)
        [row] = deliveries(uow_factory, hook.webhook.id)
        assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
            "pending", 1, 500, "HTTP 500")
        wait = row.next_attempt_at - first  # the back-off, stretched by up to JITTER
        assert RETRY_DELAYS[0] <= wait <= RETRY_DELAYS[0] * (1 + JITTER) + timedelta(seconds=5)
        clock.now = row.next_attempt_at - timedelta(seconds=1)
        assert deliver(uow_factory, now=clock.now).attempted == 0
        assert deliver(uow_factory, now=clock.advance(seconds=1)) == RunReport(succeeded=1)
    assert [r.headers["webhook-id"] for r in server.received] == [row.event_id] * 2
    assert server.received[0].body == server.received[1].body
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "succeeded", 2, 200, None)


def test_a_receiver_slower_than_the_read_timeout_is_a_retry(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    with receiver(lambda _: Reply(200, delay=1.5)) as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        report = deliver(uow_factory, now=now, send=partial(http_send, read_timeout=0.2))
    assert report == RunReport(retrying=1)
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert row.status == "pending" and row.last_status_code is None
    assert row.last_error is not None and row.last_error.startswith("Timed out")


def test_the_policys_read_timeout_bounds_the_real_sender(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    # WEBHOOK_READ_TIMEOUT_MS reaches http_send through the scheduler's Policy: with 0.2 s a
    # receiver answering after 1.5 s is a timeout; with the default 10 s the same one succeeds
    with receiver(lambda _: Reply(200, delay=1.5)) as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        short = Policy(allow_private=True, read_timeout=0.2)
        assert deliver(uow_factory, now=now, policy=short) == RunReport(retrying=1)
        [row] = deliveries(uow_factory, hook.webhook.id)
        assert row.last_error is not None and row.last_error.startswith("Timed out")
        later = row.next_attempt_at
        assert deliver(uow_factory, now=later, policy=LOCAL) == RunReport(succeeded=1)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    with receiver(lambda got: Reply(302, location="/elsewhere")
                  if got.path == "/hooks" else Reply(200)) as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        assert deliver(uow_factory, now=now) == RunReport(retrying=1)
    assert [r.path for r in server.received] == ["/hooks"]
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.last_status_code) == ("pending", 302)
    assert "redirects are not followed" in (row.last_error or "")


def test_a_refused_connection_is_a_retry(uow_factory: UowFactory, clinic_id: str,
                                         now: datetime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = subscribe(uow_factory, clinic_id, f"http://127.0.0.1:{port}/hooks", now)
    builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
    assert deliver(uow_factory, now=now) == RunReport(retrying=1)
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert row.last_error is not None and "ConnectionRefused" in row.last_error


def test_a_malformed_status_line_with_a_nul_is_a_retry_with_a_printable_note(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    """The receiver writes what our error note quotes; PostgreSQL refuses U+0000 in text."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def reply_badly() -> None:
            client, _ = server.accept()
            with client:
                client.recv(65536)
                client.sendall(b"HTTP/1.1 2\x0000 OK\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=reply_badly, daemon=True)
        thread.start()
        hook = subscribe(uow_factory, clinic_id, f"http://127.0.0.1:{port}/hooks", now)
        builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        assert deliver(uow_factory, now=now) == RunReport(retrying=1)
        thread.join(5)
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert "BadStatusLine" in row.last_error and "\\x00" in row.last_error
    assert row.last_error.isprintable()


def test_the_retry_schedule_spans_over_24_hours_then_fails_and_releases_the_next_event(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    assert sum(RETRY_DELAYS, timedelta()) >= timedelta(hours=24)
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)

    def script(got: Received) -> Reply:
        return Reply(503 if json.loads(got.body)["type"] == "plan.created" else 200)

    with receiver(script) as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        plan_id = builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT).id
        act(uow_factory, plan_id, "hold", now)
        at, waits = now, []
        for _ in range(MAX_ATTEMPTS):
            deliver(uow_factory, now=at)
            [head] = [d for d in deliveries(uow_factory, hook.webhook.id)
                      if d.event_type == "plan.created"]
            if head.next_attempt_at is None:
                break
            waits.append(head.next_attempt_at - at)
            assert server.types() == ["plan.created"] * len(server.received)  # hold waits
            at = head.next_attempt_at
        # the endpoint's breaker opened on the 5th failure in a row: the held event waits
        # for it to close (at most BREAKER_MAX), not for its own retry schedule
        deliver(uow_factory, now=at + BREAKER_MAX * (1 + JITTER))
    slack = timedelta(seconds=5)
    assert len(waits) == len(RETRY_DELAYS)
    for wait, delay in zip(waits, RETRY_DELAYS, strict=True):
        assert delay <= wait <= delay * (1 + JITTER) + slack
    created, held = sorted(deliveries(uow_factory, hook.webhook.id), key=lambda d: d.event_type)
    assert (created.status, created.attempts, created.last_status_code) == (
        "failed", MAX_ATTEMPTS, 503)
    assert created.last_attempt_at - now >= timedelta(hours=24)
    assert created.next_attempt_at is None
    assert deliveries(uow_factory, hook.webhook.id, status="failed") == [created]
    assert held.status == "succeeded"  # a finally failed event no longer holds the next back
    assert server.types() == ["plan.created"] * MAX_ATTEMPTS + ["plan.status_changed"]


def test_nothing_is_sent_again_after_a_committed_2xx(
        uow_factory: UowFactory, clinic_id: str, clock: FakeClock) -> None:
    with receiver() as server:
        subscribe(uow_factory, clinic_id, server.url, clock.now)
        builders.plan(uow_factory, clock.now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        deliver(uow_factory, now=clock.now)
        for hours in (0, 1, 25, 24 * 7):
            assert deliver(uow_factory, now=clock.advance(hours=hours)).attempted == 0
    assert len(server.received) == 1


def test_a_deleted_subscription_gets_nothing_more(
        uow_factory: UowFactory, clinic_id: str, now: datetime) -> None:
    with receiver() as server:
        hook = subscribe(uow_factory, clinic_id, server.url, now)
        builders.plan(uow_factory, now, clinic_id, "EXT-1", **AWAITING_CONSENT)
        service.delete_webhook(uow_factory(), hook.webhook.id, actor=ACTOR, now=now)
        assert deliver(uow_factory, now=now).attempted == 0
    assert server.received == []
