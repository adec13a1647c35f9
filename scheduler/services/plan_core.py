"""The plan unit of work: lock the plan, fold the new event with the engine, store it all.

Every write that changes a plan goes through `apply`: the event, the folded state, the
decision(s), the plan's window columns and an audit entry are written in one transaction.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

import rules
from scheduler import metrics
from scheduler.calendar import ClinicCalendar
from scheduler.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic
from scheduler.plan_models import DecisionRow, Plan, PlanEvent
from scheduler.services import audit
from scheduler.services.common import Actor, Scope
from scheduler.services.rulesets import resolve
from scheduler.webhooks import outbox

_CALENDARS: OrderedDict[tuple[str, int], ClinicCalendar] = OrderedDict()


def calendar_of(clinic: Any) -> ClinicCalendar:
    """The clinic's calendar (anything with a clinic's id, version, timezone, open_weekdays,
    closures and holiday_region), cached per clinic version: holiday tables are costly."""
    return clinic_calendar(clinic.id, clinic.version, clinic.timezone, clinic.open_weekdays,
                           clinic.closures, clinic.holiday_region)


def clinic_calendar(clinic_id: str, version: int, timezone: str, open_weekdays: list[int],
                    closures: list[str], holiday_region: str | None) -> ClinicCalendar:
    key = (clinic_id, version)
    found = _CALENDARS.get(key)
    if found is None:
        found = ClinicCalendar(timezone, open_weekdays,
                               [date.fromisoformat(d) for d in closures], holiday_region)
        _CALENDARS[key] = found
        if len(_CALENDARS) > 512:
            _CALENDARS.popitem(last=False)
    return found


@dataclass(slots=True)
class PlanRecord:
    """A plan row as the write path reads it: plain columns through Core, with no ORM
    identity map or change tracking (both cost more than the statements on this path).
    `write_state` updates it in place after its UPDATE. The fields are the `plans` columns
    (a test keeps them in step with the model)."""

    id: str
    clinic_id: str
    patient_id: str
    condition: str
    status: str
    phase: str
    ruleset: str
    state: dict[str, Any]
    version: int
    next_kind: str | None
    next_earliest: date | None
    next_target: date | None
    next_latest: date | None
    lapse_after: date | None
    booked_until: date | None
    override_until: date | None
    window_state: str | None
    nightly_date: date | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Loaded:
    """A plan with what the engine needs to judge its next event."""

    row: PlanRecord | Plan
    ruleset: rules.Ruleset
    calendar: ClinicCalendar
    state: rules.PlanState


# Built once: the hot path of every plan read and write (statement construction is costly).
# They run on the session's connection: Session.execute adds ORM result handling that costs
# as much as the query itself, for rows that are plain columns anyway.
_PLANS = Plan.__table__
_PLAN_COLUMNS = tuple(_PLANS.c[name] for name in PlanRecord.__dataclass_fields__)
_CALENDAR_COLUMNS = (Clinic.version, Clinic.timezone, Clinic.open_weekdays, Clinic.closures,
                     Clinic.holiday_region)
_LOAD = (select(*_PLAN_COLUMNS, *_CALENDAR_COLUMNS)
         .join(Clinic, Clinic.id == _PLANS.c.clinic_id)
         .where(_PLANS.c.id == bindparam("plan_id")))
# Lock and load in one statement: an UPDATE that changes nothing and returns the row with its
# clinic's calendar columns (SQLite's RETURNING cannot name an UPDATE ... FROM table, hence
# the scalar subqueries, one primary-key lookup each).
_LOCK = (update(_PLANS).where(_PLANS.c.id == bindparam("plan_id"))
         .values(version=_PLANS.c.version)
         .returning(*_PLAN_COLUMNS, *(select(column).where(Clinic.id == _PLANS.c.clinic_id)
                                      .scalar_subquery() for column in _CALENDAR_COLUMNS)))
# A scoped key's UPDATE names its clinic(s): a plan of another clinic is not a target, so
# it is never locked nor waited for (no timing hint that it exists). One clinic, the usual
# key, is a plain `=`: an expanding IN (...) costs more than the rest of the statement.
_LOCK_IN_CLINIC = _LOCK.where(_PLANS.c.clinic_id == bindparam("only_clinic"))
_LOCK_IN_SCOPE = _LOCK.where(_PLANS.c.clinic_id.in_(bindparam("scope", expanding=True)))
_INSERT_EVENT = insert(PlanEvent.__table__)
_UPDATE_PLAN = (update(_PLANS).where(_PLANS.c.id == bindparam("plan_id"))
                .values({name: bindparam(name, type_=_PLANS.c[name].type) for name in (
                    "state", "status", "phase", "next_kind", "next_earliest", "next_target",
                    "next_latest", "lapse_after", "booked_until", "override_until",
                    "updated_at", "version")}))
_INSERT_DECISION = insert(DecisionRow.__table__)
_HISTORY = (select(PlanEvent.id, PlanEvent.payload)
            .where(PlanEvent.plan_id == bindparam("plan_id"),
                   PlanEvent.id != bindparam("event_id"))
            .order_by(PlanEvent.seq))
_DELETE_DECISIONS = delete(DecisionRow.__table__).where(
    DecisionRow.__table__.c.plan_id == bindparam("plan_id"))


def load(session: Session, plan_id: str, scope: Scope, *, lock: bool = False) -> Loaded:
    """The plan, or NotFound when missing or outside `scope` (never a hint that it exists).

    With `lock`, the plan is read by an UPDATE of its row that returns it: on PostgreSQL it
    holds the row lock and on SQLite the write lock until commit, so concurrent writers to
    one plan serialise and never lose an update. The row is always read from the database (never a
    cached ORM object), so what is read under the lock is current.
    """
    connection = session.connection()
    if not lock:
        found = connection.execute(_LOAD, {"plan_id": plan_id}).first()
    elif scope is None:
        found = connection.execute(_LOCK, {"plan_id": plan_id}).first()
    elif len(scope) == 1:
        (clinic_id,) = scope
        found = connection.execute(_LOCK_IN_CLINIC, {"plan_id": plan_id,
                                                     "only_clinic": clinic_id}).first()
    else:
        found = connection.execute(_LOCK_IN_SCOPE, {"plan_id": plan_id,
                                                    "scope": sorted(scope)}).first()
    if found is None or (scope is not None and found.clinic_id not in scope):
        raise NotFound("plan", plan_id)
    count = len(_PLAN_COLUMNS)
    row = PlanRecord(*found[:count])
    calendar = clinic_calendar(row.clinic_id, *found[count:])
    return Loaded(row, resolve(session, row.ruleset), calendar,
                  rules.state_from_dict(row.state))


_PROPOSAL_COLUMNS = (select(Plan.state, Plan.ruleset, Plan.clinic_id, Clinic.id, Clinic.version,
                            Clinic.timezone, Clinic.open_weekdays, Clinic.closures,
                            Clinic.holiday_region)
                     .join(Clinic, Clinic.id == Plan.clinic_id)
                     .where(Plan.id == bindparam("plan_id")))


def load_for_proposal(session: Session, plan_id: str,
                      scope: Scope) -> tuple[rules.PlanState, rules.Ruleset, ClinicCalendar]:
    """Only what a proposal needs (state, ruleset, calendar), as plain columns: the read
    path behind next-visit and the series, with no ORM entities to build."""
    found = session.connection().execute(_PROPOSAL_COLUMNS, {"plan_id": plan_id}).first()
    if found is None or (scope is not None and found.clinic_id not in scope):
        raise NotFound("plan", plan_id)
    return (rules.state_from_dict(found.state), resolve(session, found.ruleset),
            calendar_of(found))


def check_version(loaded: Loaded, expected: int | None) -> None:
    if expected is not None and expected != loaded.row.version:
        raise PreconditionFailed("plan", loaded.row.id, expected, loaded.row.version)


def engine_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run the engine, turning its typed errors into the core's."""
    try:
        return fn(*args, **kwargs)
    except rules.PlanClosed:
        raise Conflict("The plan is discharged; open a new plan for this patient.") from None
    except rules.InvalidEvent as exc:
        raise ValidationFailed.single(exc.field, exc.message) from None


def apply(session: Session, loaded: Loaded, event: rules.Event, *, now: datetime,
          actor: Actor, action: str) -> tuple[rules.PlanState, dict[str, Any]]:
    """Store `event`, fold it in (a late event refolds the whole history in order), update the
    plan row and audit it. Returns the new state and this event's decision as stored."""
    row, rs, cal = loaded.row, loaded.ruleset, loaded.calendar
    if not isinstance(row, PlanRecord):
        raise TypeError("apply() needs a plan read with load()")
    event_id = new_id("evt")
    connection = session.connection()
    # Append-only rows go in as Core inserts (no ORM bookkeeping on the hot write path).
    connection.execute(_INSERT_EVENT, {
        "id": event_id, "plan_id": row.id, "seq": loaded.state.events, "kind": event.kind,
        "at": event.at, "payload": event.to_dict(), "created_at": now})
    if event.at >= loaded.state.last_event_at:
        state, decision = engine_call(rules.evaluate, loaded.state, event, rs, cal.local_date)
        ids = _store_decisions(connection, row.id, [(event_id, decision)], now)
    else:
        stored = connection.execute(_HISTORY, {"plan_id": row.id, "event_id": event_id}).all()
        pairs = [(eid, rules.event_from_dict(payload)) for eid, payload in stored]
        pairs = sorted([*pairs, (event_id, event)], key=lambda p: rules.history_order(p[1]))
        folded = engine_call(rules.fold, [e for _, e in pairs], rs, cal.local_date)
        connection.execute(_DELETE_DECISIONS, {"plan_id": row.id})
        ids = _store_decisions(connection, row.id, [
            (eid, d) for (eid, _), d in zip(pairs, folded.decisions, strict=True)], now)
        state = folded.state
        decision = folded.decisions[[eid for eid, _ in pairs].index(event_id)]
    before, after = loaded.state.snapshot(), state.snapshot()
    write_state(connection, row, state, rs, cal, now)
    audit.record(session, at=now, actor=actor, action=action, clinic_id=row.clinic_id,
                 plan_id=row.id, before=before.to_dict(),
                 after={**after.to_dict(), "event": event.kind, "rules": list(decision.rules)})
    outbox.emit_plan_changes(session, row, before, after, now=now, decision_id=ids[event_id])
    metrics.count_decisions(session, [decision])
    return state, {"id": ids[event_id], "event_id": event_id, **decision.to_dict()}


def _store_decisions(connection: Connection, plan_id: str,
                     pairs: list[tuple[str, rules.Decision]], now: datetime) -> dict[str, str]:
    """Insert decision rows; returns event id -> decision id."""
    ids = {event_id: new_id("dec") for event_id, _ in pairs}
    connection.execute(_INSERT_DECISION, [
        {"id": ids[event_id], "plan_id": plan_id, "event_id": event_id,
         "position": decision.seq, "at": decision.at, "trigger": decision.trigger,
         "payload": decision.to_dict(), "created_at": now} for event_id, decision in pairs])
    return ids


def state_columns(state: rules.PlanState, rs: rules.Ruleset, cal: ClinicCalendar,
                  now: datetime) -> dict[str, Any]:
    """The plan row's columns for a folded state and today's window."""
    window = rules.next_window(state, rs, cal.local_date(now), cal.is_open)
    return {
        "state": state.to_dict(), "status": str(state.status), "phase": str(state.phase),
        "next_kind": str(window.kind) if window.kind else None,
        "next_earliest": window.earliest, "next_target": window.target,
        "next_latest": window.latest,
        # lapsed once the date is more than I days after latest: after latest + floor(I)
        "lapse_after": (window.latest + timedelta(days=math.floor(window.interval_days or 0))
                        if window.latest else None),
        "booked_until": max((day for _, day in state.booked), default=None),
        "override_until": state.override.until if state.override else None,
        "updated_at": now,
    }


def fill_new(row: Plan, state: rules.PlanState, rs: rules.Ruleset, cal: ClinicCalendar,
             now: datetime) -> None:
    """Copy a new plan's folded state and today's window into its (not yet added) row."""
    for key, value in state_columns(state, rs, cal, now).items():
        setattr(row, key, value)


def write_state(connection: Connection, row: PlanRecord, state: rules.PlanState,
                rs: rules.Ruleset, cal: ClinicCalendar, now: datetime) -> None:
    """Write the folded state and today's window to a stored, locked plan with one Core
    UPDATE that also bumps the version, and copy the values into `row`."""
    values = state_columns(state, rs, cal, now)
    values["version"] = row.version + 1
    connection.execute(_UPDATE_PLAN, {"plan_id": row.id, **values})
    for key, value in values.items():
        setattr(row, key, value)
