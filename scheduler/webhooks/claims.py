"""Delivery leases: claim due deliveries atomically, record an attempt's outcome under the claim.

Claiming picks due candidates (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so concurrent workers take
disjoint rows), then marks them in flight with an UPDATE whose WHERE re-checks due-ness (on
SQLite the UPDATE takes the database's write lock, so a racing claim finds them taken). Either
way one delivery is never held by two live claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, and_, exists, func, or_, select, update
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
    secrets: tuple[str, ...]  # the current secret, then a rotated-out one still in its 24 h
    body: bytes
    webhook_id: str = ""  # the subscription, for the delivery's log line
    request_id: str | None = None  # the API request that caused the event


def _due(pick: Any, now: datetime, max_attempts: int) -> Any:
    """Due: pending and its time has come, or in flight with a lease that ran out and attempts
    left; its subscription live and enabled, its endpoint's breaker closed; and no earlier
    event of the same plan to the same subscription still pending or in flight."""
    earlier = aliased(WebhookDelivery, name="prev")
    due = or_(and_(pick.status == "pending", pick.next_attempt_at <= now),
              and_(pick.status == "in_flight", pick.claimed_until < now,
                   pick.attempts < max_attempts))
    blocked = exists().where(earlier.webhook_id == pick.webhook_id,
                             earlier.plan_id == pick.plan_id, earlier.seq < pick.seq,
                             earlier.status.in_(UNFINISHED))
    open_endpoint = exists().where(
        Webhook.id == pick.webhook_id, Webhook.deleted_at.is_(None), Webhook.enabled.is_(True),
        or_(Webhook.breaker_until.is_(None), Webhook.breaker_until <= now))
    return and_(due, open_endpoint, ~blocked)


def due_endpoints(session: Session, *, now: datetime, max_attempts: int,
                  limit: int = 1000) -> list[str]:
    """Subscriptions with at least one delivery due at `now`, the longest waiting first."""
    pick = aliased(WebhookDelivery, name="pick")
    rows = session.execute(
        select(pick.webhook_id, func.min(pick.next_attempt_at).label("oldest"))
        .where(_due(pick, now, max_attempts)).group_by(pick.webhook_id)
        .order_by("oldest").limit(limit)).all()
    return [webhook_id for webhook_id, _ in rows]


def claim(session: Session, *, token: str, now: datetime, batch: int, lease: timedelta,
          max_attempts: int, webhook_id: str | None = None) -> list[Claimed]:
    """Claim up to `batch` due deliveries (of one subscription, if given) for `token` (the
    caller commits) and return them in the order to send. Claiming counts the attempt."""
    pick = aliased(WebhookDelivery, name="pick")
    condition = _due(pick, now, max_attempts)
    if webhook_id is not None:
        condition = and_(pick.webhook_id == webhook_id, condition)
    # Two statements, not `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`:
    # PostgreSQL may rescan such a sub-select while updating, and each rescan locks n more rows
    # (measured: batch 3 claimed 6). The UPDATE re-checks due-ness, so on SQLite, where the
    # SELECT takes no lock, a claim racing another for the same rows updates none of them.
    candidates = session.scalars(
        select(pick.id).where(condition)
        .order_by(pick.next_attempt_at, pick.seq, pick.id).limit(batch)
        .with_for_update(skip_locked=True)).all()
    if not candidates:
        return []
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(candidates), _due(WebhookDelivery, now, max_attempts))
        .values(status="in_flight", claim_token=token, claimed_until=now + lease,
                attempts=WebhookDelivery.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False))
    rows = session.execute(
        select(WebhookDelivery, Webhook.url, Webhook.secret, Webhook.previous_secret,
               Webhook.previous_secret_expires_at, OutboxEvent)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.seq, WebhookDelivery.id)
    ).all()
    return [Claimed(id=d.id, attempt=d.attempts, msg_id=event.id, url=url,
                    secrets=(secret, previous) if previous and expires and expires > now
                    else (secret,),
                    body=body_of(event), webhook_id=d.webhook_id, request_id=event.request_id)
            for d, url, secret, previous, expires, event in rows]


def release(session: Session, items: list[Claimed], *, token: str) -> int:
    """Hand claimed deliveries back unsent (the endpoint's breaker opened): pending again,
    the attempt their claim counted given back."""
    if not items:
        return 0
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_([item.id for item in items]),
               WebhookDelivery.claim_token == token)
        .values(status="pending", attempts=WebhookDelivery.attempts - 1, claim_token=None,
                claimed_until=None)
        .execution_options(synchronize_session=False))
    return rowcount(result)


def hand_back(session: Session, *, now: datetime, tokens: set[str] | None = None) -> int:
    """Make in-flight deliveries due again at `now`: those of the given claim tokens (claims
    whose outcome could not be stored), or with `tokens` None every one (a new leader: the
    previous leader's claims are orphaned). The attempt stays counted: it may have been sent."""
    condition = WebhookDelivery.status == "in_flight"
    if tokens is not None:
        if not tokens:
            return 0
        condition = and_(condition, WebhookDelivery.claim_token.in_(sorted(tokens)))
    result = session.execute(
        update(WebhookDelivery).where(condition)
        .values(status="pending", next_attempt_at=now, claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    return rowcount(result)


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
