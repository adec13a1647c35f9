"""Delivery leases: claim due deliveries atomically, record an attempt's outcome under the claim.

Claiming is a single UPDATE whose WHERE re-checks due-ness: on PostgreSQL the candidate rows
are picked `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows; on SQLite the
UPDATE takes the database's write lock first, so claims serialise. Either way one delivery is
never held by two live claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from scheduler.models import OutboxEvent, Webhook, WebhookDelivery
from scheduler.webhooks.outbox import body_of

UNFINISHED = ("pending", "in_flight")
MAX_NOTE = 200


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed delivery with what sending it needs."""

    id: str
    attempt: int
    msg_id: str
    url: str
    secret: str
    body: bytes
    webhook_id: str = ""  # the subscription, for the delivery's log line
    request_id: str | None = None  # the API request that caused the event


def claim(session: Session, *, token: str, now: datetime, batch: int, lease: timedelta,
          max_attempts: int) -> list[Claimed]:
    """Claim up to `batch` due deliveries for `token` (the caller commits) and return them.

    Due: pending with next_attempt_at <= now, or in flight with a lease that ran out and
    attempts left; its subscription not deleted; no earlier event of the same plan to the same
    subscription still pending or in flight. Claiming counts the attempt.
    """
    pick, earlier = aliased(WebhookDelivery, name="pick"), aliased(WebhookDelivery, name="prev")
    due = or_(and_(pick.status == "pending", pick.next_attempt_at <= now),
              and_(pick.status == "in_flight", pick.claimed_until < now,
                   pick.attempts < max_attempts))
    blocked = exists().where(earlier.webhook_id == pick.webhook_id,
                             earlier.plan_id == pick.plan_id, earlier.seq < pick.seq,
                             earlier.status.in_(UNFINISHED))
    active = exists().where(Webhook.id == pick.webhook_id, Webhook.deleted_at.is_(None))
    candidates = (select(pick.id).where(due, active, ~blocked)
                  .order_by(pick.next_attempt_at, pick.seq, pick.id).limit(batch)
                  .with_for_update(skip_locked=True))
    session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(candidates))
        .values(status="in_flight", claim_token=token, claimed_until=now + lease,
                attempts=WebhookDelivery.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False))
    rows = session.execute(
        select(WebhookDelivery, Webhook.url, Webhook.secret, OutboxEvent)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.seq, WebhookDelivery.id)
    ).all()
    return [Claimed(id=d.id, attempt=d.attempts, msg_id=event.id, url=url, secret=secret,
                    body=body_of(event), webhook_id=d.webhook_id, request_id=event.request_id)
            for d, url, secret, event in rows]


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (its result is a CursorResult; Session.execute types it wider)."""
    return cast(CursorResult[Any], result).rowcount


def fail_abandoned(session: Session, *, now: datetime, max_attempts: int) -> int:
    """Fail in-flight deliveries whose lease ran out on their last attempt (a worker died)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == "in_flight", WebhookDelivery.claimed_until < now,
               WebhookDelivery.attempts >= max_attempts)
        .values(status="failed", next_attempt_at=None, claim_token=None, claimed_until=None,
                last_error="The worker stopped during the last attempt.")
        .execution_options(synchronize_session=False))
    return rowcount(result)


def record(session: Session, item: Claimed, *, token: str, now: datetime, ok: bool,
           status_code: int | None, note: str | None, retry_at: datetime | None) -> bool:
    """Store one attempt's outcome if the claim is still ours; False if the lease was lost.

    ok: succeeded. Not ok with `retry_at`: pending again until then. Otherwise failed.
    """
    status = "succeeded" if ok else ("pending" if retry_at is not None else "failed")
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == item.id, WebhookDelivery.claim_token == token)
        .values(status=status, last_status_code=status_code,
                last_error=note[:MAX_NOTE] if note else None,
                next_attempt_at=None if ok else retry_at, delivered_at=now if ok else None,
                claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))
