"""The nightly pass, per clinic, after 03:30 clinic-local time (outside any DST change):
expire overrides through the engine, record each plan's window state (upcoming -> due ->
overdue -> lapsed) and emit followup events. Each batch claims its plans by stamping
`nightly_date` in the same transaction as their effects, so a pass killed half-way resumes
where it stopped and no plan is processed twice."""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import rules
from scheduler import metrics
from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.jobs.followups import NOTIFY, followup_data
from scheduler.log_setup import get_logger
from scheduler.models import Clinic, ClinicNightly
from scheduler.services.common import Actor
from scheduler.services.plan_core import apply, load
from scheduler.store import window_sql
from scheduler.store.plans import WindowColumns
from scheduler.webhooks.outbox import emit_many

log = get_logger("cadence.scheduler")
NIGHTLY_AT = time(3, 30)
SYSTEM = Actor(key_id=None, name="scheduler")


@dataclass
class NightlyStats:
    clinics: int = 0
    plans: int = 0
    overrides_expired: int = 0
    events: dict[str, int] = field(default_factory=dict)


def clinics_due(uow: UnitOfWork, now: datetime) -> list[tuple[str, date]]:
    """(clinic id, local date) for clinics past 03:30 local whose pass for today is not done."""
    with uow:
        recent = now.date() - timedelta(days=2)  # local dates are within a day of UTC's
        done = {(c, d) for c, d in uow.session.execute(
            select(ClinicNightly.clinic_id, ClinicNightly.local_date)
            .where(ClinicNightly.local_date >= recent))}
        due = []
        for clinic in uow.session.scalars(select(Clinic)).all():
            local = now.astimezone(calendar_of(clinic).zone)
            if local.time() >= NIGHTLY_AT and (clinic.id, local.date()) not in done:
                due.append((clinic.id, local.date()))
        return sorted(due)


def run_nightly(uow_factory: Callable[[], UnitOfWork], now: datetime, *,
                batch: int = 500) -> NightlyStats:
    """Run every clinic's pass that is due at `now`; safe to run twice or concurrently."""
    stats = NightlyStats()
    for clinic_id, today in clinics_due(uow_factory(), now):
        stats.clinics += 1
        run_clinic(uow_factory, clinic_id, today, now, batch=batch, stats=stats)
    return stats


def run_clinic(uow_factory: Callable[[], UnitOfWork], clinic_id: str, today: date,
               now: datetime, *, batch: int = 500, stats: NightlyStats | None = None) -> int:
    """Process the clinic's open plans not yet stamped for `today`, batch by batch."""
    stats = stats or NightlyStats()
    processed, batches, started = 0, 0, clock.perf_counter()
    while True:
        uow = uow_factory()
        with uow:
            count = _batch(uow, clinic_id, today, now, batch, stats)
            processed += count
            batches += 1
            log.debug("nightly batch", clinic_id=clinic_id, batch=batches, plans=count)
            if count < batch:  # the last batch: the pass is recorded with it
                _record_done(uow.session, clinic_id, today, processed, now)
            uow.commit()
        if count < batch:
            break
    seconds = clock.perf_counter() - started
    metrics.nightly_pass_done(clinic_id, seconds)
    log.info("nightly pass done", clinic_id=clinic_id, local_date=today.isoformat(),
             plans=processed, batches=batches, duration_ms=round(seconds * 1000, 1))
    return processed


def _record_done(session: Session, clinic_id: str, today: date, plans: int,
                 now: datetime) -> None:
    """Insert the clinic's ClinicNightly row unless a concurrent run already did."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(ClinicNightly).values(clinic_id=clinic_id, local_date=today,
                                                 plans=plans, finished_at=now)
                    .on_conflict_do_nothing())


def _batch(uow: UnitOfWork, clinic_id: str, today: date, now: datetime, size: int,
           stats: NightlyStats) -> int:
    session = uow.session
    connection = session.connection()
    claimed = window_sql.nightly_claim(connection, clinic_id, today, size,
                                       skip_locked=connection.dialect.name == "postgresql")
    if not claimed:
        return 0
    seen: list[dict[str, str]] = []
    events: list[tuple[str, str | None, str, dict[str, Any]]] = []
    for plan in claimed:
        row = plan
        override_ended = plan.override_until is not None and plan.override_until < today
        if override_ended or (plan.authorization_check_on is not None
                              and plan.authorization_check_on <= today):
            row = _time_passes(session, plan.id, now)
            stats.overrides_expired += override_ended
        state = row.state_on(today)
        if state != plan.window_state:
            seen.append({"pid": plan.id, "ws": str(state)})
            if state in NOTIFY:
                events.append((plan.clinic_id, plan.id, NOTIFY[state],
                               followup_data(row, str(state), today)))
                stats.events[NOTIFY[state]] = stats.events.get(NOTIFY[state], 0) + 1
    emit_many(session, events, now=now)
    window_sql.set_window_states(connection, seen)
    stats.plans += len(claimed)
    return len(claimed)


def _time_passes(session: Session, plan_id: str, now: datetime) -> WindowColumns:
    """Fold a `time passes` event: the engine ends an override, or flags an authorization
    that the date alone made low or exhausted (rule 21), and explains it. Returns the plan's
    window as written."""
    loaded = load(session, plan_id, None)  # claimed above: this transaction holds its lock
    apply(session, loaded, rules.TimePassed(now), now=now, actor=SYSTEM,
          action="plan.time_passed")
    return loaded.row.window()
