"""Idempotency records: claim a key, store the first response, replay it within the TTL.

Within an API request the claim, the request's change and `complete()` are one transaction
(api/context.py's atomic request), so a claim is never seen committed without its response:
after a crash the key is either free or answered. An IN_FLIGHT row committed on its own (by a
unit of work outside a request, or by versions before that) still reads as in flight.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from scheduler import metrics
from scheduler.db import UnitOfWork
from scheduler.errors import IdempotencyInFlight, IdempotencyMismatch
from scheduler.models import IdempotencyRecord

IN_FLIGHT = "in_flight"
DONE = "done"
# A claim older than this is taken to belong to a crashed worker and may be re-claimed.
ABANDONED_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _get(uow: UnitOfWork, client: str, key: str) -> IdempotencyRecord | None:
    return uow.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client == client, IdempotencyRecord.key == key
        )
    )


def _lock(uow: UnitOfWork, client: str, key: str) -> bool:
    """PostgreSQL: take the key's advisory lock until the transaction ends, or say it is held.

    A second request with the key while the first's transaction is open is told at once (409)
    instead of waiting on the unique index; a killed worker's lock goes with its connection.
    SQLite has one writer at a time anyway: the second request waits for the first's commit
    (up to the busy timeout) and replays its response.
    """
    if uow.session.get_bind().dialect.name != "postgresql":
        return True
    digest = hashlib.sha256(f"{client}\x00{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    return bool(uow.session.scalar(select(func.pg_try_advisory_xact_lock(number))))


def claim(
    uow: UnitOfWork, *, client: str, key: str, fingerprint: str, now: datetime, ttl: timedelta
) -> StoredResponse | None:
    """None when the caller now owns the key; the stored response when it is a replay.

    Raises IdempotencyMismatch (same key, other request) or IdempotencyInFlight.
    """
    for _attempt in range(2):
        with uow:
            if not _lock(uow, client, key):
                metrics.IDEMPOTENCY.labels("in_flight").inc()
                raise IdempotencyInFlight(
                    "A request with this Idempotency-Key is still in progress."
                )
            row = _get(uow, client, key)
            if row is not None:
                expired = row.created_at <= now - ttl
                abandoned = row.status == IN_FLIGHT and row.created_at <= now - ABANDONED_AFTER
                if not (expired or abandoned):
                    if row.fingerprint != fingerprint:
                        metrics.IDEMPOTENCY.labels("mismatch").inc()
                        raise IdempotencyMismatch(
                            "This Idempotency-Key was used with a different request."
                        )
                    if row.status == IN_FLIGHT:
                        metrics.IDEMPOTENCY.labels("in_flight").inc()
                        raise IdempotencyInFlight(
                            "A request with this Idempotency-Key is still in progress."
                        )
                    metrics.IDEMPOTENCY.labels("replay").inc()
                    return StoredResponse(row.response_status or 0, row.response_body or "",
                                          dict(row.response_headers or {}))
                uow.session.delete(row)
                uow.flush()
            uow.session.add(IdempotencyRecord(client=client, key=key, fingerprint=fingerprint,
                                              status=IN_FLIGHT, created_at=now))
            try:
                uow.commit()
                return None
            except IntegrityError:
                continue  # another worker claimed it between our read and insert: re-read
    metrics.IDEMPOTENCY.labels("in_flight").inc()
    raise IdempotencyInFlight("A request with this Idempotency-Key is still in progress.")


def complete(uow: UnitOfWork, *, client: str, key: str, response: StoredResponse) -> None:
    """Store the response of a claimed key for later replays."""
    with uow:
        row = _get(uow, client, key)
        if row is None:  # pragma: no cover - purged while in flight
            return
        row.status = DONE
        row.response_status = response.status
        row.response_body = response.body
        row.response_headers = dict(response.headers)
        uow.commit()


def release(uow: UnitOfWork, *, client: str, key: str) -> None:
    """Forget a claim whose request failed, so that the client may retry with the same key."""
    with uow:
        uow.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.client == client,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status == IN_FLIGHT,
            )
        )
        uow.commit()


def purge_expired(uow: UnitOfWork, *, now: datetime, ttl: timedelta) -> int:
    """Delete records older than `ttl`; returns how many (a periodic job can call this)."""
    with uow:
        result = uow.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - ttl)
        )
        uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)
