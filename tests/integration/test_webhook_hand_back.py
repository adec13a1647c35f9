"""Webhook claims cut off by a database outage, or left by a leader that died, are due again
at the next run or election, not ten minutes later when their lease runs out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from scheduler.db import UnitOfWork
from scheduler.jobs import tasks
from scheduler.webhooks.delivery import LEASE, RunReport
from scheduler.webhooks.transport import http_send
from tests import builders
from tests.builders import AWAITING_CONSENT, UowFactory, deliveries, subscribe
from tests.integration.webhook_support import deliver, receiver


class Outage:
    """A unit-of-work factory whose database goes away once `down` is set."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory, self.down = uow_factory, False

    def __call__(self) -> UnitOfWork:
        if self.down:
            raise OperationalError("connect", {}, ConnectionRefusedError("server stopped"))
        return self.uow_factory()


def sending_then(outage: Outage, send: Callable[..., Any]) -> Callable[..., Any]:
    def sender(url: str, headers: Any, body: bytes) -> Any:
        answer = send(url, headers, body)
        outage.down = True  # the answer came back; the outcome cannot be stored
        return answer

    return sender


def test_a_claim_broken_off_by_an_outage_is_sent_again_at_the_next_run(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    outage = Outage(uow_factory)
    with receiver() as server:
        hook = subscribe(uow_factory, clinic, server.url, now)
        builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
        with pytest.raises(OperationalError):
            deliver(outage, now=now, send=sending_then(outage, http_send))
        [row] = deliveries(uow_factory, hook.webhook.id)
        assert row.status == "in_flight"
        outage.down = False  # the database is back; the lease has most of its time left
        assert deliver(outage, now=now + timedelta(seconds=5)) == RunReport(succeeded=1)
    assert len(server.received) == 2  # at least once: the same webhook-id twice
    assert server.received[0].headers["webhook-id"] == server.received[1].headers["webhook-id"]
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.attempts) == ("succeeded", 2)


def test_a_new_leader_hands_back_the_previous_leaders_claims_at_once(
        uow_factory: UowFactory, now: datetime) -> None:
    class Killed(BaseException):
        """The leader is SIGKILLed after claiming: nothing of it is left in memory."""

    def killed(url: str, headers: Any, body: bytes) -> int:
        raise Killed

    clinic = builders.clinic(uow_factory, now).id
    with receiver() as server:
        hook = subscribe(uow_factory, clinic, server.url, now)
        builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT)
        with pytest.raises(Killed):
            deliver(uow_factory, now=now, send=killed)
        assert deliver(uow_factory, now=now + LEASE / 2).attempted == 0  # the lease holds
        tasks.configure(tasks.Runtime(uow_factory, lambda: now + LEASE / 2, "new-leader", now))
        try:
            tasks.on_elected()
        finally:
            tasks.configure(None)  # type: ignore[arg-type]
        assert deliver(uow_factory, now=now + LEASE / 2) == RunReport(succeeded=1)
    assert len(server.received) == 1
    [row] = deliveries(uow_factory, hook.webhook.id)
    assert (row.status, row.attempts) == ("succeeded", 2)
