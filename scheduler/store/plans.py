"""Plan rows: the one row type, and load, create and write-state as Core statements.

The hot path of every plan read and write. Statements are built once (construction and cache
key generation cost more than the queries) and run on the session's connection: plain rows,
no ORM identity map or change tracking. Events and decisions are inserted by the same
functions for a new plan and for a later write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

import rules
from scheduler.calendar import ClinicCalendar, clinic_calendar
from scheduler.errors import NotFound
from scheduler.ids import new_id
from scheduler.models import Clinic, DecisionRow, Patient, Plan, PlanEvent, table
from scheduler.services.common import Scope, after_cursor


@dataclass(slots=True)
class PlanRecord:
    """A plan row: exactly the `plans` columns, in table order (a test keeps them in step).
    `write_state` updates it in place after its UPDATE."""

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
    flags: str | None
    authorization_left: int | None
    authorization_until: date | None
    authorization_check_on: date | None
    snoozed_until: date | None
    contact_snoozed_until: date | None = None  # the contact log's (scheduler.store.contacts)
    do_not_contact_at: datetime | None = None

    def window(self) -> WindowColumns:
        """The columns the window-state rule and followup events read."""
        return WindowColumns(self.id, self.clinic_id, self.patient_id, self.next_kind,
                             self.next_earliest, self.next_target, self.next_latest,
                             self.lapse_after, self.booked_until, self.window_state,
                             self.override_until, self.authorization_check_on)


class WindowColumns(NamedTuple):
    """A plan's stored window: what jobs read to follow its state from day to day."""

    id: str
    clinic_id: str
    patient_id: str
    next_kind: str | None
    next_earliest: date | None
    next_target: date | None
    next_latest: date | None
    lapse_after: date | None
    booked_until: date | None
    window_state: str | None
    override_until: date | None
    authorization_check_on: date | None

    def state_on(self, on: date) -> rules.WindowState:
        """The window-state rule on these columns (its SQL form is in `window_sql`)."""
        return rules.window_state(on, self.next_earliest, self.next_latest, self.lapse_after,
                                  self.booked_until)


PLANS, EVENTS, DECISIONS = table(Plan), table(PlanEvent), table(DecisionRow)
PLAN_COLUMNS = tuple(PLANS.c[name] for name in PlanRecord.__dataclass_fields__)
WINDOW_COLUMNS = tuple(PLANS.c[name] for name in WindowColumns._fields)
_CALENDAR_COLUMNS = (Clinic.version, Clinic.timezone, Clinic.open_weekdays, Clinic.closures,
                     Clinic.holiday_region)
_COUNT = len(PLAN_COLUMNS)

_LOAD = (select(*PLAN_COLUMNS, *_CALENDAR_COLUMNS)
         .join(Clinic, Clinic.id == PLANS.c.clinic_id)
         .where(PLANS.c.id == bindparam("plan_id")))
# Lock and load in one statement: an UPDATE that changes nothing and returns the row with its
# clinic's calendar columns (SQLite's RETURNING cannot name an UPDATE ... FROM table, hence
# the scalar subqueries, one primary-key lookup each).
_LOCK = (update(PLANS).where(PLANS.c.id == bindparam("plan_id"))
         .values(version=PLANS.c.version)
         .returning(*PLAN_COLUMNS, *(select(column).where(Clinic.id == PLANS.c.clinic_id)
                                     .scalar_subquery() for column in _CALENDAR_COLUMNS)))
# A scoped key's UPDATE names its clinic(s): a plan of another clinic is not a target, so
# it is never locked nor waited for (no timing hint that it exists). One clinic, the usual
# key, is a plain `=`: an expanding IN (...) costs more than the rest of the statement.
_LOCK_IN_CLINIC = _LOCK.where(PLANS.c.clinic_id == bindparam("only_clinic"))
_LOCK_IN_SCOPE = _LOCK.where(PLANS.c.clinic_id.in_(bindparam("scope", expanding=True)))
_PROPOSAL = (select(PLANS.c.state, PLANS.c.ruleset, PLANS.c.clinic_id, *_CALENDAR_COLUMNS,
                    PLANS.c.contact_snoozed_until)
             .join(Clinic, Clinic.id == PLANS.c.clinic_id)
             .where(PLANS.c.id == bindparam("plan_id")))
_INSERT_PLAN = insert(PLANS)
_INSERT_EVENT = insert(EVENTS)
_INSERT_DECISION = insert(DECISIONS)
STATE_COLUMNS = ("state", "status", "phase", "next_kind", "next_earliest", "next_target",
                 "next_latest", "lapse_after", "booked_until", "override_until", "updated_at",
                 "flags", "authorization_left", "authorization_until", "authorization_check_on",
                 "snoozed_until")
_UPDATE_PLAN = (update(PLANS).where(PLANS.c.id == bindparam("plan_id"))
                .values({name: bindparam(name, type_=PLANS.c[name].type)
                         for name in (*STATE_COLUMNS, "version")}))
_HISTORY = (select(EVENTS.c.id, EVENTS.c.payload)
            .where(EVENTS.c.plan_id == bindparam("plan_id"),
                   EVENTS.c.id != bindparam("event_id"))
            .order_by(EVENTS.c.seq))
_DELETE_DECISIONS = delete(DECISIONS).where(DECISIONS.c.plan_id == bindparam("plan_id"))
_OPEN_PLAN_OF = select(PLANS.c.id).where(PLANS.c.patient_id == bindparam("patient_id"),
                                         PLANS.c.status != "discharged")


def _record(found: Sequence[Any]) -> tuple[PlanRecord, ClinicCalendar]:
    row = PlanRecord(*found[:_COUNT])
    return row, clinic_calendar(row.clinic_id, *found[_COUNT:])


def load(connection: Connection, plan_id: str, scope: Scope, *,
         lock: bool = False) -> tuple[PlanRecord, ClinicCalendar]:
    """The plan row and its clinic's calendar; NotFound when missing or outside `scope`
    (never a hint that it exists).

    With `lock`, the row is read by an UPDATE of itself that returns it: on PostgreSQL it holds
    the row lock and on SQLite the write lock until commit, so concurrent writers to one plan
    serialise and never lose an update. Always read from the database, so what is read under
    the lock is current.
    """
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
    return _record(found)


def load_for_proposal(connection: Connection, plan_id: str, scope: Scope
                      ) -> tuple[dict[str, Any], str, ClinicCalendar, date | None]:
    """Only what a proposal needs (stored state, ruleset id, calendar, the contact log's
    snooze): the read path behind next-visit and the series."""
    found = connection.execute(_PROPOSAL, {"plan_id": plan_id}).first()
    if found is None or (scope is not None and found.clinic_id not in scope):
        raise NotFound("plan", plan_id)
    return (found.state, found.ruleset, clinic_calendar(found.clinic_id, *found[3:-1]),
            found.contact_snoozed_until)


_PATIENTS = table(Patient)
# The plan a CDS hook judges: the patient's open plan, else their latest (discharged) one.
_OF_EXTERNAL = (select(PLANS.c.state, PLANS.c.ruleset, PLANS.c.clinic_id, *_CALENDAR_COLUMNS)
                .join(_PATIENTS, _PATIENTS.c.id == PLANS.c.patient_id)
                .join(Clinic, Clinic.id == PLANS.c.clinic_id)
                .where(_PATIENTS.c.external_id == bindparam("external_id"))
                .order_by(PLANS.c.status == "discharged", PLANS.c.created_at.desc())
                .limit(1))
_OF_EXTERNAL_IN_CLINIC = _OF_EXTERNAL.where(_PATIENTS.c.clinic_id == bindparam("clinic_id"))
_OF_EXTERNAL_IN_SCOPE = _OF_EXTERNAL.where(
    _PATIENTS.c.clinic_id.in_(bindparam("scope", expanding=True)))


def plan_of_patient(connection: Connection, external_id: str, scope: frozenset[str]
                    ) -> tuple[dict[str, Any], str, ClinicCalendar] | None:
    """(stored state, ruleset id, calendar) of the plan of the patient with this booking
    system id in `scope`: their open plan, else their latest; None without a plan."""
    if len(scope) == 1:
        (clinic_id,) = scope
        found = connection.execute(_OF_EXTERNAL_IN_CLINIC, {"external_id": external_id,
                                                           "clinic_id": clinic_id}).first()
    else:
        found = connection.execute(_OF_EXTERNAL_IN_SCOPE, {"external_id": external_id,
                                                          "scope": sorted(scope)}).first()
    if found is None:
        return None
    return found.state, found.ruleset, clinic_calendar(found.clinic_id, *found[3:])


def open_plan_of(connection: Connection, patient_id: str) -> str | None:
    """The id of the patient's open (not discharged) plan, if any."""
    return connection.execute(_OPEN_PLAN_OF, {"patient_id": patient_id}).scalar()


def state_columns(state: rules.PlanState, rs: rules.Ruleset, cal: ClinicCalendar,
                  now: datetime) -> dict[str, Any]:
    """The plan row's columns for a folded state and the window on the clinic's today."""
    window = rules.next_window(state, rs, cal.local_date(now), cal.is_open)
    return {
        "state": state.to_dict(), "status": str(state.status), "phase": str(state.phase),
        "next_kind": str(window.kind) if window.kind else None,
        "next_earliest": window.earliest, "next_target": window.target,
        "next_latest": window.latest,
        "lapse_after": (rules.lapse_after(window.latest, window.interval_days or 0)
                        if window.latest else None),
        "booked_until": rules.booked_until(state),
        "override_until": state.override.until if state.override else None,
        "updated_at": now,
        "flags": flags_text(state.flags),
        "authorization_left": state.visits_left,
        "authorization_until": state.authorization.valid_until if state.authorization else None,
        "authorization_check_on": rules.next_check(state, rs),
        "snoozed_until": window.snoozed_until,
    }


def flags_text(flags: Iterable[str]) -> str | None:
    """Flags as stored in `plans.flags`: ",a,b," (one flag is `LIKE '%,a,%'`), or None."""
    found = sorted(flags)
    return f",{','.join(found)}," if found else None


def flags_of(text: str | None) -> tuple[str, ...]:
    return tuple(f for f in (text or "").split(",") if f)


def insert_plan(connection: Connection, *, plan_id: str, clinic_id: str, patient_id: str,
                condition: str, state: rules.PlanState, rs: rules.Ruleset,
                cal: ClinicCalendar, now: datetime) -> PlanRecord:
    """Insert a new plan at version 1; IntegrityError when the patient has an open plan."""
    row = PlanRecord(id=plan_id, clinic_id=clinic_id, patient_id=patient_id,
                     condition=condition, ruleset=rs.id, version=1, window_state=None,
                     nightly_date=None, created_at=now, **state_columns(state, rs, cal, now))
    connection.execute(_INSERT_PLAN, dict(zip(PlanRecord.__dataclass_fields__,
                                              astuple(row), strict=True)))
    return row


def write_state(connection: Connection, row: PlanRecord, state: rules.PlanState,
                rs: rules.Ruleset, cal: ClinicCalendar, now: datetime) -> None:
    """Write the folded state and today's window to a stored, locked plan with one UPDATE
    that also bumps the version, and copy the values into `row`."""
    values = state_columns(state, rs, cal, now)
    values["version"] = row.version + 1
    connection.execute(_UPDATE_PLAN, {"plan_id": row.id, **values})
    for key, value in values.items():
        setattr(row, key, value)


def append_events(connection: Connection, plan_id: str, first_seq: int,
                  events: Iterable[rules.Event], now: datetime) -> list[str]:
    """Append events to a plan's history from arrival number `first_seq`; returns their ids."""
    rows: list[dict[str, Any]] = [
        {"id": new_id("evt"), "plan_id": plan_id, "seq": seq, "kind": event.kind,
         "at": event.at, "payload": event.to_dict(), "created_at": now}
        for seq, event in enumerate(events, start=first_seq)]
    connection.execute(_INSERT_EVENT, rows)
    return [row["id"] for row in rows]


def history_without(connection: Connection, plan_id: str,
                    event_id: str) -> list[tuple[str, rules.Event]]:
    """(event id, event) of a plan's history in arrival order, less `event_id`."""
    return [(eid, rules.event_from_dict(payload)) for eid, payload in connection.execute(
        _HISTORY, {"plan_id": plan_id, "event_id": event_id})]


def insert_decisions(connection: Connection, plan_id: str,
                     pairs: Iterable[tuple[str, rules.Decision]], now: datetime, *,
                     replace: bool = False) -> dict[str, str]:
    """Insert (event id, decision) rows, first deleting the plan's decisions with `replace`
    (a refold re-derives them all). Returns event id -> decision id."""
    if replace:
        connection.execute(_DELETE_DECISIONS, {"plan_id": plan_id})
    rows: list[dict[str, Any]] = [{"id": new_id("dec"), "plan_id": plan_id, "event_id": event_id,
             "position": decision.seq, "at": decision.at, "trigger": decision.trigger,
             "payload": decision.to_dict(), "created_at": now} for event_id, decision in pairs]
    connection.execute(_INSERT_DECISION, rows)
    return {row["event_id"]: row["id"] for row in rows}


def page(connection: Connection, *, scope: Scope, filters: dict[str, str | None], limit: int,
         cursor: str | None) -> list[tuple[PlanRecord, ClinicCalendar]]:
    """Up to `limit` + 1 plans (the extra one says there is a next page), oldest first, with
    their clinics' calendars; `filters` are column -> value (None: any)."""
    query = select(*PLAN_COLUMNS, *_CALENDAR_COLUMNS).join(Clinic,
                                                           Clinic.id == PLANS.c.clinic_id)
    if scope is not None:
        query = query.where(PLANS.c.clinic_id.in_(scope))
    for name, value in filters.items():
        if value is not None:
            query = query.where(PLANS.c[name] == value)
    query = after_cursor(query, PLANS.c.created_at, PLANS.c.id, cursor)
    found = connection.execute(query.order_by(PLANS.c.created_at, PLANS.c.id)
                               .limit(limit + 1)).all()
    return [_record(row) for row in found]
