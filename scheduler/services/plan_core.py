"""The plan unit of work: lock the plan, fold the new event with the engine, store it all.

Every write that changes a plan goes through `apply`: the event, the folded state, the
decision(s), the plan's window columns, an audit entry and the outbox events are written in
one transaction. Storage is the plan store's (`scheduler.store.plans`); this module is the
engine orchestration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from scheduler import metrics
from scheduler.calendar import ClinicCalendar
from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, PreconditionFailed, ValidationFailed
from scheduler.services import audit
from scheduler.services.common import Actor, Expected, Page, Scope, paginate, version_matches
from scheduler.services.rulesets import resolve
from scheduler.store import plans as store
from scheduler.store.plans import PlanRecord
from scheduler.webhooks import outbox

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Loaded:
    """A plan with what the engine needs to judge its next event."""

    row: PlanRecord
    ruleset: rules.Ruleset
    calendar: ClinicCalendar
    state: rules.PlanState


def load(session: Session, plan_id: str, scope: Scope, *, lock: bool = False) -> Loaded:
    """The plan, or NotFound when missing or outside `scope` (never a hint that it exists);
    with `lock`, locked until the transaction ends (see `store.load`)."""
    row, calendar = store.load(session.connection(), plan_id, scope, lock=lock)
    return Loaded(row, resolve(session, row.ruleset), calendar,
                  rules.state_from_dict(row.state))


def load_for_proposal(session: Session, plan_id: str, scope: Scope
                      ) -> tuple[rules.PlanState, rules.Ruleset, ClinicCalendar, date | None]:
    """Only what a proposal needs (state, ruleset, calendar, the contact log's snooze), as
    plain columns."""
    state, ruleset_id, calendar, snoozed = store.load_for_proposal(session.connection(),
                                                                   plan_id, scope)
    return rules.state_from_dict(state), resolve(session, ruleset_id), calendar, snoozed


def page_of_plan(uow: UnitOfWork, plan_id: str, model: Any, *, scope: Scope, limit: int,
                 cursor: str | None, convert: Callable[[Any], T]) -> Page[T]:
    """One page of a plan's reports or visits (`model` rows with a `plan_id`), oldest first;
    NotFound when the plan is missing or outside `scope`."""
    with uow:
        load(uow.session, plan_id, scope)
        query = select(model).where(model.plan_id == plan_id)
        return paginate(uow.session, query, model, limit=limit, cursor=cursor, convert=convert)


def check_version(loaded: Loaded, expected: Expected) -> None:
    if not version_matches(expected, loaded.row.version):
        raise PreconditionFailed("plan", loaded.row.id, expected, loaded.row.version)


def engine_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the engine, turning its typed errors into the core's."""
    try:
        return fn(*args, **kwargs)
    except rules.PlanClosed:
        raise Conflict("The plan is discharged; open a new plan for this patient.") from None
    except rules.InvalidEvent as exc:
        raise ValidationFailed.single(exc.field, exc.message) from None


def apply(session: Session, loaded: Loaded, event: rules.Event, *, now: datetime,
          actor: Actor, action: str,
          detail: dict[str, Any] | None = None) -> tuple[rules.PlanState, dict[str, Any]]:
    """Store `event`, fold it in (a late event refolds the whole history in order), update the
    plan row and audit it (with `detail`, e.g. a cancellation's reason). Returns the new state
    and this event's decision as stored."""
    row, rs, cal = loaded.row, loaded.ruleset, loaded.calendar
    connection = session.connection()
    (event_id,) = store.append_events(connection, row.id, loaded.state.events, [event], now)
    if event.at >= loaded.state.last_event_at:
        state, decision = engine_call(rules.evaluate, loaded.state, event, rs, cal.local_date)
        ids = store.insert_decisions(connection, row.id, [(event_id, decision)], now)
    else:
        pairs = sorted([*store.history_without(connection, row.id, event_id),
                        (event_id, event)], key=lambda pair: rules.history_order(pair[1]))
        folded = engine_call(rules.fold, [e for _, e in pairs], rs, cal.local_date)
        ids = store.insert_decisions(connection, row.id, [
            (eid, d) for (eid, _), d in zip(pairs, folded.decisions, strict=True)], now,
            replace=True)
        state = folded.state
        decision = folded.decisions[[eid for eid, _ in pairs].index(event_id)]
    before, after = loaded.state.snapshot(), state.snapshot()
    store.write_state(connection, row, state, rs, cal, now)
    audit.record(session, at=now, actor=actor, action=action, clinic_id=row.clinic_id,
                 plan_id=row.id, before=before.to_dict(),
                 after={**after.to_dict(), "event": event.kind, "rules": list(decision.rules),
                        **(detail or {})})
    outbox.emit_plan_changes(session, row, before, after, now=now, decision_id=ids[event_id])
    metrics.count_decisions(session, [decision])
    return state, {"id": ids[event_id], "event_id": event_id, **decision.to_dict()}
