"""Idempotency records: claim, replay, mismatch, overlap, expiry and release."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scheduler.db import UnitOfWork
from scheduler.errors import IdempotencyInFlight, IdempotencyMismatch
from scheduler.services import idempotency as store

TTL = timedelta(hours=24)
RESPONSE = store.StoredResponse(201, '{"id": "x"}', {"Content-Type": "application/json"})


def claim(uow: UnitOfWork, now: datetime, fingerprint: str = "f1", client: str = "key_a"):
    return store.claim(uow, client=client, key="k1", fingerprint=fingerprint, now=now, ttl=TTL)


def test_the_first_claim_owns_the_key_and_the_second_replays(
    uow: UnitOfWork, now: datetime
) -> None:
    assert claim(uow, now) is None
    store.complete(uow, client="key_a", key="k1", response=RESPONSE)
    assert claim(uow, now + timedelta(hours=23)) == RESPONSE


def test_the_same_key_with_another_request_is_a_mismatch(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    store.complete(uow, client="key_a", key="k1", response=RESPONSE)
    with pytest.raises(IdempotencyMismatch):
        claim(uow, now, fingerprint="f2")


def test_the_same_key_while_in_flight_is_a_conflict(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    with pytest.raises(IdempotencyInFlight):
        claim(uow, now + timedelta(seconds=1))


def test_keys_belong_to_one_client(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    assert claim(uow, now, client="key_b") is None


def test_after_the_ttl_the_key_may_be_used_again(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    store.complete(uow, client="key_a", key="k1", response=RESPONSE)
    assert claim(uow, now + TTL, fingerprint="f2") is None


def test_an_abandoned_claim_may_be_taken_over(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    assert claim(uow, now + store.ABANDONED_AFTER) is None


def test_a_released_claim_may_be_retried(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now)
    store.release(uow, client="key_a", key="k1")
    assert claim(uow, now) is None


def test_purge_removes_only_expired_records(uow: UnitOfWork, now: datetime) -> None:
    claim(uow, now - TTL)
    store.claim(uow, client="key_a", key="k2", fingerprint="f", now=now, ttl=TTL)
    assert store.purge_expired(uow, now=now, ttl=TTL) == 1
