"""What GET /metrics reads from the database at scrape time: plans by status and phase, the
outbox backlog, deliveries and subscriptions, the leader's heartbeat, nightly passes per clinic.

Each is one aggregate query over an index (`ix_plans_status_phase`,
`ix_webhook_deliveries_status_created`, ...); the API caches the snapshot for a few seconds.
Only ids, states and counts: nothing about patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from scheduler.db import UnitOfWork
from scheduler.models import (
    Clinic,
    ClinicNightly,
    Plan,
    SchedulerHeartbeat,
    Webhook,
    WebhookDelivery,
)

NIGHTLY_DUE_BY = time(6, 0)  # a clinic's pass should be done by 06:00 local
UNFINISHED = ("pending", "in_flight")


@dataclass(frozen=True, slots=True)
class ClinicNight:
    clinic_id: str
    last_finished: datetime | None
    overdue: bool  # past 06:00 local and today's pass not recorded


@dataclass(frozen=True, slots=True)
class OpsSnapshot:
    plans: tuple[tuple[str, str, int], ...]  # (status, phase, count)
    deliveries: dict[str, int]  # webhook deliveries by status
    outbox_pending: int  # deliveries pending or in flight
    outbox_oldest_age_seconds: float | None  # of the oldest of those
    subscriptions: dict[str, int]  # active / deleted
    leader_heartbeat_age_seconds: float | None
    nightly: tuple[ClinicNight, ...]


def snapshot(uow: UnitOfWork, now: datetime) -> OpsSnapshot:
    """Read every scrape-time figure in one read-only unit of work."""
    with uow:
        run = uow.session.execute
        plans = tuple((s, p, int(n)) for s, p, n in run(
            select(Plan.status, Plan.phase, func.count()).group_by(Plan.status, Plan.phase)))
        deliveries: dict[str, int] = {}
        oldest: datetime | None = None
        for status, count, first in run(
                select(WebhookDelivery.status, func.count(), func.min(WebhookDelivery.created_at))
                .group_by(WebhookDelivery.status)):
            deliveries[status] = int(count)
            if status in UNFINISHED and first is not None:
                first = _aware(first)
                oldest = first if oldest is None else min(oldest, first)
        subscriptions = {"active": 0, "deleted": 0}
        for deleted, count in run(select(Webhook.deleted_at.is_not(None), func.count())
                                  .group_by(Webhook.deleted_at.is_not(None))):
            subscriptions["deleted" if deleted else "active"] += int(count)
        beat = run(select(func.max(SchedulerHeartbeat.beat_at))
                   .where(SchedulerHeartbeat.role == "leader")).scalar()
        done = {c: (d, f) for c, d, f in run(
            select(ClinicNightly.clinic_id, func.max(ClinicNightly.local_date),
                   func.max(ClinicNightly.finished_at)).group_by(ClinicNightly.clinic_id))}
        clinics = run(select(Clinic.id, Clinic.timezone)).all()
    nightly = []
    for clinic_id, zone in clinics:
        local = now.astimezone(ZoneInfo(zone))
        last_date, finished = done.get(clinic_id, (None, None))
        overdue = local.time() >= NIGHTLY_DUE_BY and (last_date is None
                                                      or last_date < local.date())
        nightly.append(ClinicNight(clinic_id, _aware(finished) if finished else None, overdue))
    return OpsSnapshot(
        plans=plans, deliveries=deliveries,
        outbox_pending=sum(deliveries.get(s, 0) for s in UNFINISHED),
        outbox_oldest_age_seconds=(now - oldest).total_seconds() if oldest else None,
        subscriptions=subscriptions,
        leader_heartbeat_age_seconds=(now - _aware(beat)).total_seconds() if beat else None,
        nightly=tuple(nightly))


def _aware(moment: datetime) -> datetime:
    """Stored times are UTC; a naive one (should a driver return it) is read as such."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def outbox_backlog(uow: UnitOfWork, now: datetime) -> tuple[int, float | None]:
    """(deliveries pending or in flight, age in seconds of the oldest of them)."""
    with uow:
        count, first = uow.session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at))
            .where(WebhookDelivery.status.in_(UNFINISHED))).one()
    return int(count), (now - _aware(first)).total_seconds() if first else None
