"""Webhook services: subscribe (secret shown once, URL vetted against SSRF), list, delete,
and the deliveries log. Enabling, rotation and replay: scheduler/services/webhook_operations.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic, OutboxEvent, Webhook, WebhookDelivery
from scheduler.services import audit
from scheduler.services.common import Actor, Page, Scope, in_scope, paginate
from scheduler.webhooks.addresses import Refused, Resolver, system_resolve, url_problem, vet
from scheduler.webhooks.outbox import EVENT_TYPES
from scheduler.webhooks.signing import new_secret

DELIVERY_STATUSES = ("pending", "in_flight", "succeeded", "failed")


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: str
    clinic_id: str
    url: str
    events: tuple[str, ...]
    created_at: datetime
    enabled: bool = True
    disabled_at: datetime | None = None
    disabled_reason: str | None = None  # 410 Gone, failing too long, or by hand
    failing_since: datetime | None = None  # first failed attempt since the last success


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new subscription and its signing secret: the only time the secret is returned."""

    webhook: WebhookView
    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: str
    event_id: str
    event_type: str
    plan_id: str | None
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


def view_of(row: Webhook) -> WebhookView:
    """The subscription as shown (never its secrets)."""
    return WebhookView(id=row.id, clinic_id=row.clinic_id, url=row.url,
                       events=tuple(row.events), created_at=row.created_at,
                       enabled=row.enabled is not False, disabled_at=row.disabled_at,
                       disabled_reason=row.disabled_reason, failing_since=row.failing_since)



def _validate(url: str, events: list[str], allow_private: bool, resolve: Resolver) -> None:
    errors: dict[str, list[str]] = {}
    problem = url_problem(url, allow_private=allow_private)
    if problem is None and not allow_private:
        try:  # resolved now, and again before every attempt (DNS rebinding)
            vet(url, allow_private=False, resolve=resolve)
        except Refused as refused:
            problem = str(refused)
    if problem:
        errors["url"] = [problem]
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        errors["events"] = [f"Unknown event type(s): {', '.join(unknown)}."]
    elif not events:
        errors["events"] = ["Name at least one event type."]
    if errors:
        raise ValidationFailed(errors)


def create_webhook(uow: UnitOfWork, *, clinic_id: str, url: str, events: list[str],
                   actor: Actor, now: datetime, scope: Scope = None,
                   allow_private: bool = False,
                   resolve: Resolver = system_resolve) -> CreatedWebhook:
    """Subscribe `url` to a clinic's `events`; the result holds the secret, shown only here.

    The URL must be https and its host resolve to public addresses only, unless
    `allow_private` (WEBHOOK_ALLOW_PRIVATE_NETWORKS); otherwise ValidationFailed on `url`.
    """
    _validate(url, events, allow_private, resolve)
    ordered = [e for e in EVENT_TYPES if e in set(events)]
    with uow:
        if not in_scope(scope, clinic_id) or uow.session.get(Clinic, clinic_id) is None:
            raise ValidationFailed.single("clinic_id", "Unknown clinic.")
        row = Webhook(id=new_id("whk"), clinic_id=clinic_id, url=url, events=ordered,
                      secret=new_secret(), created_at=now, enabled=True)
        uow.session.add(row)
        audit.record(uow.session, at=now, actor=actor, action="webhook.created",
                     clinic_id=clinic_id, after={"id": row.id, "url": url, "events": ordered})
        uow.commit()
        return CreatedWebhook(view_of(row), row.secret)


def visible(uow: UnitOfWork, webhook_id: str, scope: Scope, *,
            for_update: bool = False) -> Webhook:
    """The caller's live subscription, or NotFound (another clinic's does not exist)."""
    row = uow.session.get(Webhook, webhook_id, with_for_update=for_update)
    if row is None or row.deleted_at is not None or not in_scope(scope, row.clinic_id):
        raise NotFound("webhook", webhook_id)
    return row


def list_webhooks(uow: UnitOfWork, *, scope: Scope = None, clinic_id: str | None = None,
                  limit: int = 50, cursor: str | None = None) -> Page[WebhookView]:
    """Active subscriptions of the caller's clinics, oldest first (never their secrets)."""
    query = select(Webhook).where(Webhook.deleted_at.is_(None))
    if scope is not None:
        query = query.where(Webhook.clinic_id.in_(sorted(scope)))
    if clinic_id is not None:
        query = query.where(Webhook.clinic_id == clinic_id)
    with uow:
        return paginate(uow.session, query, Webhook, limit=limit, cursor=cursor, convert=view_of)


def delete_webhook(uow: UnitOfWork, webhook_id: str, *, actor: Actor, now: datetime,
                   scope: Scope = None) -> None:
    """Unsubscribe at once: deliveries still waiting are marked failed (in-flight ones end)."""
    with uow:
        row = visible(uow, webhook_id, scope)
        row.deleted_at = now
        uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
            .values(status="failed", next_attempt_at=None,
                    last_error="The webhook was deleted.")
            .execution_options(synchronize_session=False))
        audit.record(uow.session, at=now, actor=actor, action="webhook.deleted",
                     clinic_id=row.clinic_id, before={"id": row.id, "url": row.url,
                                                      "events": list(row.events)})
        uow.commit()


def list_deliveries(uow: UnitOfWork, webhook_id: str, *, scope: Scope = None,
                    status: str | None = None, limit: int = 50,
                    cursor: str | None = None) -> Page[DeliveryView]:
    """A subscription's deliveries, oldest first: attempts, last status code, next retry."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValidationFailed.single("status", f"One of {', '.join(DELIVERY_STATUSES)}.")
    with uow:
        session = uow.session
        visible(uow, webhook_id, scope)
        query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)

        def convert(row: WebhookDelivery) -> DeliveryView:
            event = session.get(OutboxEvent, row.event_id)
            assert event is not None  # foreign key
            return DeliveryView(
                id=row.id, event_id=row.event_id, event_type=event.type, plan_id=row.plan_id,
                status=row.status, attempts=row.attempts, last_attempt_at=row.last_attempt_at,
                last_status_code=row.last_status_code, last_error=row.last_error,
                next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at,
                created_at=row.created_at)

        return paginate(session, query, WebhookDelivery, limit=limit, cursor=cursor,
                        convert=convert)
