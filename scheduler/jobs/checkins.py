"""Rule 24, `checkin.suggested`: an active plan whose last attended needling session is at
least `checkin_after_hours` old (its ruleset's), with no report since, is suggested a check-in
once for that session. The booking system may then create a link and send it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from scheduler.db import UnitOfWork
from scheduler.services.rulesets import resolve
from scheduler.store import checkins as store
from scheduler.store import plans as plan_store
from scheduler.webhooks.outbox import emit

EVENT = "checkin.suggested"


def run_checkin_suggestions(uow_factory: Callable[[], UnitOfWork], now: datetime, *,
                            batch: int = 500) -> int:
    """Emit `checkin.suggested` for every plan rule 24 names; returns how many. Safe to run
    twice or concurrently: each plan is re-read under its lock before its one event, and the
    (plan, session) key of `checkin_suggestions` is never written twice."""
    with uow_factory() as uow:
        session = uow.session
        hours = {ruleset: resolve(session, ruleset).checkin_after_hours
                 for ruleset in store.active_rulesets(session.connection())}
    emitted = 0
    for ruleset, after_hours in sorted(hours.items()):
        cutoff, after = now - timedelta(hours=after_hours), ""
        while True:
            with uow_factory() as uow:
                connection = uow.session.connection()
                found = store.candidates(connection, ruleset, cutoff, batch, after)
                for plan_id, _ in found:
                    row, _ = plan_store.load(connection, plan_id, None, lock=True)
                    session_at = store.still_candidate(connection, plan_id, cutoff)
                    if session_at is None:
                        continue
                    event_id = emit(uow.session, clinic_id=row.clinic_id, plan_id=plan_id,
                                    type=EVENT, now=now, data={
                                        "plan_id": plan_id, "patient_id": row.patient_id,
                                        "clinic_id": row.clinic_id,
                                        "session_at": session_at.isoformat(),
                                        "checkin_after_hours": after_hours})
                    store.record_suggestion(connection, plan_id, session_at, event_id, now)
                    emitted += 1
                uow.commit()
            if len(found) < batch:
                break
            after = found[-1][0]
    return emitted
