"""The outbox: events written in the caller's transaction, one pending delivery per subscriber."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

import rules
from scheduler.ids import new_id
from scheduler.models import OutboxEvent, Webhook, WebhookDelivery, table
from scheduler.store.plans import PlanRecord
from scheduler.tracing import current_request_id

EVENT_TYPES = ("plan.created", "plan.phase_changed", "plan.frequency_changed",
               "plan.status_changed", "plan.review_required", "followup.due", "followup.overdue",
               "plan.authorization_low", "checkin.suggested")


# Built once (plan writes run these on every call).
_LAST_SEQ = (select(OutboxEvent.plan_id, func.max(OutboxEvent.seq))
             .where(OutboxEvent.plan_id.in_(bindparam("plan_ids", expanding=True)))
             .group_by(OutboxEvent.plan_id))
_SUBSCRIPTIONS = select(Webhook.id, Webhook.events).where(
    Webhook.clinic_id == bindparam("clinic_id"), Webhook.deleted_at.is_(None))
_INSERT_EVENT = insert(table(OutboxEvent))
_INSERT_DELIVERY = insert(table(WebhookDelivery))
_CACHE = "webhook_subscriptions"


def emit(session: Session, *, clinic_id: str, plan_id: str | None, type: str,
         data: dict[str, Any], now: datetime) -> str:
    """Write event `type` to the outbox and a pending delivery for every active subscription
    of the clinic to `type`; nothing is committed here (the caller's transaction decides).
    Returns the event id, which is the `webhook-id` of every delivery of it."""
    return emit_many(session, [(clinic_id, plan_id, type, data)], now=now)[0]


def emit_many(session: Session, events: Sequence[tuple[str, str | None, str, dict[str, Any]]], *,
              now: datetime) -> list[str]:
    """`emit` for (clinic_id, plan_id, type, data) tuples at once, in list order.

    A plan's events get consecutive `seq` numbers: plan writes hold the plan's row lock, so
    the max + 1 below never races (and the (plan_id, seq) unique constraint would catch it).
    Rows go in as two multi-row Core inserts (the nightly pass emits thousands per run), and
    a clinic's subscriptions are read once per transaction.
    """
    for _, _, type_, _ in events:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event type {type_!r}")
    plan_ids = {plan_id for _, plan_id, _, _ in events if plan_id is not None}
    connection = session.connection()  # plain rows: no ORM result handling
    last: dict[str | None, int] = dict(connection.execute(
        _LAST_SEQ, {"plan_ids": list(plan_ids)}).all()) if plan_ids else {}
    rows: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    request_id = current_request_id()
    for clinic_id, plan_id, type_, data in events:
        seq = last.get(plan_id, -1) + 1 if plan_id is not None else 0
        if plan_id is not None:
            last[plan_id] = seq
        event_id = new_id("msg")
        rows.append({"id": event_id, "clinic_id": clinic_id, "plan_id": plan_id, "seq": seq,
                     "type": type_, "payload": data, "created_at": now,
                     "request_id": request_id})
        deliveries += [{"id": new_id("dlv"), "event_id": event_id, "webhook_id": hook_id,
                        "plan_id": plan_id, "seq": seq, "status": "pending", "attempts": 0,
                        "next_attempt_at": now, "created_at": now}
                       for hook_id, types in _subscriptions(session, clinic_id)
                       if type_ in types]
    if rows:
        connection.execute(_INSERT_EVENT, rows)
    if deliveries:
        connection.execute(_INSERT_DELIVERY, deliveries)
    return [row["id"] for row in rows]


def _subscriptions(session: Session, clinic_id: str) -> list[tuple[str, list[str]]]:
    """(webhook id, event types) of the clinic's active webhooks, cached for the transaction:
    the cache is keyed by the session's transaction object, so the next transaction (which
    may see a new subscription) reads them afresh."""
    transaction = session.get_transaction()
    held = session.info.get(_CACHE)
    if held is None or held[0] is not transaction:
        held = session.info[_CACHE] = (transaction, {})
    cache: dict[str, list[tuple[str, list[str]]]] = held[1]
    if clinic_id not in cache:
        cache[clinic_id] = [(hook_id, list(types)) for hook_id, types in session.connection()
                            .execute(_SUBSCRIPTIONS, {"clinic_id": clinic_id})]
    return cache[clinic_id]


def body_of(event: OutboxEvent) -> bytes:
    """The delivered body `{"type", "timestamp", "data"}`, byte-identical on every attempt."""
    body = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": event.payload}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


PATIENT_REPORTED_WORSE = "patient_reported_worse"


def _state(snapshot: rules.Snapshot) -> dict[str, Any]:
    return {"phase": snapshot.phase, "status": snapshot.status,
            "frequency": snapshot.frequency.to_dict(),
            "review": {"required": bool(snapshot.review_reasons),
                       "reasons": list(snapshot.review_reasons)}}


def plan_change_events(before: rules.Snapshot | None,
                       after: rules.Snapshot) -> list[tuple[str, dict[str, Any]]]:
    """The webhook events a decision's before/after snapshots call for, in a fixed order.

    Every `data` carries the plan's state after the change; a change event adds `previous`
    with the changed field's old value. The frequency compared is the one in force.
    """
    state = _state(after)
    new_reasons = [r for r in after.review_reasons
                   if before is None or r not in before.review_reasons]
    new_flags = {f for f in after.flags if before is None or f not in before.flags}
    if rules.Flag.REVIEW_SUGGESTED in new_flags:  # rule 22: the patient says it is worse
        new_reasons.append(PATIENT_REPORTED_WORSE)
    if before is None:
        found = [("plan.created", state)]
    else:
        found = [(f"plan.{name}_changed", {**state, "previous": {name: old}})
                 for name, old, new in (
                     ("phase", before.phase, after.phase),
                     ("frequency", before.frequency.to_dict(), after.frequency.to_dict()),
                     ("status", before.status, after.status))
                 if old != new]
    if new_reasons:
        found.append(("plan.review_required", {**state, "new_reasons": new_reasons}))
    if rules.Flag.AUTHORIZATION_LOW in new_flags:  # rule 21: once per crossing into low
        found.append(("plan.authorization_low", {
            **state, "exhausted": rules.Flag.AUTHORIZATION_EXHAUSTED in after.flags}))
    return found


def emit_plan_changes(session: Session, plan: PlanRecord, before: rules.Snapshot | None,
                      after: rules.Snapshot, *, now: datetime,
                      decision_id: str | None = None) -> list[str]:
    """Emit plan_change_events for one plan write; ids only, never patient details."""
    ids: dict[str, Any] = {"plan_id": plan.id, "patient_id": plan.patient_id,
                           "clinic_id": plan.clinic_id}
    if decision_id is not None:
        ids["decision_id"] = decision_id
    events = [(plan.clinic_id, plan.id, kind, {**ids, **data})
              for kind, data in plan_change_events(before, after)]
    return emit_many(session, events, now=now) if events else []


