"""The daytime sweep: every few minutes, emit followup.due / .overdue for plans whose window
state on the clinic's today changed since jobs last looked (a new session, a report...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.jobs.followups import observe
from scheduler.models import Clinic
from scheduler.store import window_sql


def run_sweep(uow_factory: Callable[[], UnitOfWork], now: datetime, *,
              batch: int = 500) -> dict[str, int]:
    """Returns the number of events emitted per type. Safe to run twice or concurrently: the
    guarded update in `observe` is the claim."""
    emitted: dict[str, int] = {}
    with uow_factory() as uow:
        clinics = uow.session.scalars(select(Clinic)).all()
        todays = [(c.id, calendar_of(c).local_date(now)) for c in clinics]
    for clinic_id, today in todays:
        while True:
            uow = uow_factory()
            with uow:
                rows = window_sql.sweep_page(uow.session.connection(), clinic_id, today, batch)
                for row in rows:
                    kind = observe(uow.session, row, today, now)
                    if kind:
                        emitted[kind] = emitted.get(kind, 0) + 1
                uow.commit()
            if len(rows) < batch:
                break
    return emitted
