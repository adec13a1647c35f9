"""Plan writes put their webhook events in the outbox, in the same transaction as the change."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from scheduler.errors import PreconditionFailed
from scheduler.models import WebhookDelivery
from scheduler.services import plans
from scheduler.services import webhooks as service
from scheduler.webhooks.outbox import body_of, emit
from tests import builders
from tests.builders import ACTOR, AWAITING_CONSENT, UowFactory, act, outbox, subscribe

URL = "https://booking.example/hooks"


def delivery_rows(uow_factory: UowFactory) -> list[WebhookDelivery]:
    with uow_factory() as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery)
                                        .order_by(WebhookDelivery.seq)))
        uow.session.expunge_all()
        return rows


def test_creating_a_plan_writes_plan_created_and_a_delivery_per_subscriber(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    other = builders.clinic(uow_factory, now, name="Other").id
    everything = subscribe(uow_factory, clinic, URL, now)
    subscribe(uow_factory, clinic, URL + "/phase", now, events=("plan.phase_changed",))
    subscribe(uow_factory, other, URL + "/other", now)
    gone = subscribe(uow_factory, clinic, URL + "/gone", now)
    service.delete_webhook(uow_factory(), gone.webhook.id, actor=ACTOR, now=now)

    plan_id = builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT).id

    [event] = outbox(uow_factory, plan_id)
    assert (event.type, event.seq, event.clinic_id) == ("plan.created", 0, clinic)
    [delivery] = delivery_rows(uow_factory)
    assert (delivery.webhook_id, delivery.event_id) == (everything.webhook.id, event.id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("pending", 0, now)


def test_the_body_carries_ids_and_plan_state_but_no_patient_details(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    plan_id = builders.plan(uow_factory, now, clinic, "EXT-SECRET-42", **AWAITING_CONSENT).id
    [event] = outbox(uow_factory, plan_id)
    body = json.loads(body_of(event))
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "plan.created"
    assert datetime.fromisoformat(body["timestamp"]) == now
    assert {"plan_id", "patient_id", "clinic_id", "phase", "status", "frequency",
            "review"} <= set(body["data"])
    assert body["data"]["plan_id"] == plan_id
    assert "EXT-SECRET-42" not in body_of(event).decode()
    assert body_of(event) == body_of(event)  # byte-identical on every attempt


def test_plan_actions_emit_change_events_in_sequence(uow_factory: UowFactory,
                                                     now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    plan_id = builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT).id
    act(uow_factory, plan_id, "hold", now)
    act(uow_factory, plan_id, "resume", now)
    act(uow_factory, plan_id, "set_phase", now, phase="maintenance")
    events = outbox(uow_factory, plan_id)
    assert [(e.seq, e.type) for e in events][:3] == [
        (0, "plan.created"), (1, "plan.status_changed"), (2, "plan.status_changed")]
    assert "plan.phase_changed" in [e.type for e in events[3:]]
    assert events[1].payload["status"] == "on_hold"
    assert events[1].payload["previous"] == {"status": events[0].payload["status"]}
    assert events[1].payload["decision_id"].startswith("dec_")


def test_a_rejected_change_writes_no_event(uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    plan_id = builders.plan(uow_factory, now, clinic, "EXT-1", **AWAITING_CONSENT).id
    with pytest.raises(PreconditionFailed):
        plans.act(uow_factory(), plan_id, {"action": "hold", "reason": "x"},
                  expected_version=99, actor=ACTOR, now=now)
    assert [e.type for e in outbox(uow_factory, plan_id)] == ["plan.created"]


def test_an_event_rolled_back_with_its_transaction_is_gone(uow_factory: UowFactory,
                                                           now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    subscribe(uow_factory, clinic, URL, now)
    with uow_factory() as uow:
        emit(uow.session, clinic_id=clinic, plan_id=None, type="followup.due", data={}, now=now)
    assert delivery_rows(uow_factory) == []


def test_an_unknown_event_type_is_refused(uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now).id
    with uow_factory() as uow, pytest.raises(ValueError, match="unknown webhook event type"):
        emit(uow.session, clinic_id=clinic, plan_id=None, type="plan.exploded", data={}, now=now)
