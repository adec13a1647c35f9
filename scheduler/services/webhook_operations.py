"""Webhook operations: enable or disable a subscription, rotate its secret, replay failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from scheduler.db import UnitOfWork
from scheduler.models import WebhookDelivery
from scheduler.services import audit
from scheduler.services.common import Actor, Scope
from scheduler.services.webhooks import WebhookView, view_of, visible
from scheduler.webhooks.claims import rowcount
from scheduler.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)  # the replaced secret keeps signing this long


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    """A subscription's new signing secret (shown only here) and until when the old one
    still signs beside it."""

    webhook: WebhookView
    secret: str
    previous_expires_at: datetime


def set_enabled(uow: UnitOfWork, webhook_id: str, *, enabled: bool, actor: Actor,
                now: datetime, scope: Scope = None) -> WebhookView:
    """Enable or disable a subscription. Enabling forgets its failures and breaker, so its
    waiting deliveries (the backlog kept while disabled) resume at once, in order."""
    with uow:
        row = visible(uow, webhook_id, scope, for_update=True)
        before = {"enabled": row.enabled, "disabled_reason": row.disabled_reason}
        if enabled:
            row.enabled, row.disabled_at, row.disabled_reason = True, None, None
            row.failing_since, row.consecutive_failures, row.breaker_until = None, 0, None
        elif row.enabled:
            row.enabled, row.disabled_at, row.disabled_reason = False, now, "Disabled by hand."
        audit.record(uow.session, at=now, actor=actor, action="webhook.updated",
                     clinic_id=row.clinic_id, before=before,
                     after={"enabled": row.enabled, "disabled_reason": row.disabled_reason})
        uow.commit()
        return view_of(row)


def rotate_secret(uow: UnitOfWork, webhook_id: str, *, actor: Actor, now: datetime,
                  scope: Scope = None) -> RotatedSecret:
    """Issue a new signing secret. For ROTATION_OVERLAP both sign every message (two `v1,`
    signatures), so the receiver can switch without an outage; rotating again in that time
    drops the oldest."""
    with uow:
        row = visible(uow, webhook_id, scope, for_update=True)
        expires = now + ROTATION_OVERLAP
        row.previous_secret, row.previous_secret_expires_at = row.secret, expires
        row.secret = new_secret()
        audit.record(uow.session, at=now, actor=actor, action="webhook.secret_rotated",
                     clinic_id=row.clinic_id, after={"id": row.id,
                                                     "previous_expires_at": expires.isoformat()})
        uow.commit()
        return RotatedSecret(view_of(row), row.secret, expires)


def replay_failed(uow: UnitOfWork, webhook_id: str, *, since: datetime, actor: Actor,
                  now: datetime, scope: Scope = None) -> int:
    """Send again every finally failed delivery of the subscription created at or after
    `since` (Svix's "recover"): pending now, with a fresh retry schedule, in plan order with
    whatever else waits. Returns how many."""
    with uow:
        row = visible(uow, webhook_id, scope)
        result = uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "failed",
                   WebhookDelivery.created_at >= since)
            .values(status="pending", attempts=0, next_attempt_at=now, claim_token=None,
                    claimed_until=None)
            .execution_options(synchronize_session=False))
        count = rowcount(result)
        audit.record(uow.session, at=now, actor=actor, action="webhook.replayed",
                     clinic_id=row.clinic_id, after={"id": row.id, "since": since.isoformat(),
                                                     "deliveries": count})
        uow.commit()
        return count
