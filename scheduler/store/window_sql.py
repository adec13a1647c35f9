"""The window-state rule as SQL, and the queries built on it: the front desk's worklist,
the daytime sweep's candidates and the nightly pass's claim.

`conditions(on)` is `rules.window_state` over the stored window columns, one boolean
expression per state; a property test (tests/integration/test_window_sql.py) proves the two
agree on every boundary, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    false,
    or_,
    select,
    update,
)

from rules import WindowState
from scheduler.models import Patient, table
from scheduler.store import contacts
from scheduler.store.plans import PLANS, WINDOW_COLUMNS, WindowColumns

_C = PLANS.c


def conditions(on: date) -> dict[WindowState, ColumnElement[bool]]:
    """One SQL condition per window state on clinic date `on` (mirrors rules.window_state)."""
    windowed = and_(_C.next_earliest.is_not(None), _C.next_latest.is_not(None))
    not_booked = or_(_C.booked_until.is_(None), _C.booked_until < on)
    late = and_(windowed, not_booked, _C.next_latest < on)
    lapsed = and_(late, _C.lapse_after.is_not(None), _C.lapse_after < on)
    return {
        WindowState.NONE: ~windowed,
        WindowState.BOOKED: and_(windowed, _C.booked_until >= on),
        WindowState.UPCOMING: and_(windowed, not_booked, _C.next_earliest > on),
        WindowState.DUE: and_(windowed, not_booked, _C.next_earliest <= on,
                              _C.next_latest >= on),
        WindowState.OVERDUE: and_(late, or_(_C.lapse_after.is_(None), _C.lapse_after >= on)),
        WindowState.LAPSED: lapsed,
    }


def late(on: date) -> ColumnElement[bool]:
    """Overdue or lapsed on `on`: the worklist's first part."""
    found = conditions(on)
    return or_(found[WindowState.OVERDUE], found[WindowState.LAPSED])


WORKLIST_COLUMNS = (_C.id, _C.patient_id, _C.phase, _C.status, _C.next_kind,
                    _C.next_earliest, _C.next_target, _C.next_latest, _C.lapse_after,
                    _C.booked_until, _C.ruleset, _C.flags, _C.authorization_left,
                    _C.authorization_until, _C.snoozed_until, _C.contact_snoozed_until,
                    _C.do_not_contact_at, *contacts.LAST_COLUMNS, contacts.ATTEMPTS)
DO_NOT_CONTACT = "do_not_contact"  # held by do_not_contact_at, not by the flags column


def worklist_part(connection: Connection, *, clinic_id: str, on: date, overdue: bool,
                  state: WindowState | None, after: tuple[date, str] | None,
                  limit: int, flag: str | None = None,
                  include_snoozed: bool = False) -> list[Any]:
    """Up to `limit` plans of one clinic with a window, in (target, id) order after `after`:
    the late part (overdue and lapsed) or the rest, optionally of one state, or with one
    stored flag, each with its last contact and the contacts logged since its window's
    earliest day. Plans held off outreach are left off unless `include_snoozed` (or
    `flag` is do_not_contact): snoozed (rule 23 or a contact) through the snooze's last day,
    or flagged do_not_contact. Walks the (clinic_id, next_target, id) index, so a page
    costs the same among ten or a million."""
    part = late(on) if overdue else ~late(on)
    query = (select(*WORKLIST_COLUMNS)
             .select_from(PLANS.outerjoin(contacts.LAST, contacts.LAST_JOIN))
             .where(_C.clinic_id == clinic_id, _C.next_target.is_not(None), part))
    if state is not None:
        query = query.where(conditions(on)[state])
    if flag == DO_NOT_CONTACT:
        query = query.where(_C.do_not_contact_at.is_not(None))
    elif flag is not None:
        query = query.where(_C.flags.like(f"%,{flag},%"))
    if not include_snoozed and flag != DO_NOT_CONTACT:
        query = query.where(or_(_C.snoozed_until.is_(None), _C.snoozed_until < on),
                            or_(_C.contact_snoozed_until.is_(None),
                                _C.contact_snoozed_until < on),
                            _C.do_not_contact_at.is_(None))
    if after is not None:
        query = query.where(or_(_C.next_target > after[0],
                                and_(_C.next_target == after[0], _C.id > after[1])))
    return list(connection.execute(query.order_by(_C.next_target, _C.id).limit(limit)).all())


NOTIFY = {WindowState.DUE: "followup.due", WindowState.OVERDUE: "followup.overdue"}


def sweep_candidates(clinic_id: str, on: date, limit: int) -> Select[Any]:
    """Plans of a clinic now due or overdue whose state differs from what jobs last saw."""
    found = conditions(on)
    changed: ColumnElement[bool] = false()
    for state in NOTIFY:
        changed = or_(changed, and_(found[state], or_(_C.window_state.is_(None),
                                                      _C.window_state != str(state))))
    return (select(*WINDOW_COLUMNS).where(_C.clinic_id == clinic_id, changed)
            .order_by(_C.id).limit(limit))


def sweep_page(connection: Connection, clinic_id: str, on: date,
               limit: int) -> list[WindowColumns]:
    return [WindowColumns(*row) for row in connection.execute(
        sweep_candidates(clinic_id, on, limit))]


_CLAIM_STATE = (update(PLANS).where(_C.id == bindparam("plan_id"),
                                    or_(_C.window_state.is_(None),
                                        _C.window_state != bindparam("seen")))
                .values(window_state=bindparam("seen")))  # not "state": a column of plans
_SET_STATES = update(PLANS).where(_C.id == bindparam("pid")).values(window_state=bindparam("ws"))


def claim_window_state(connection: Connection, plan_id: str, state: str) -> bool:
    """Record `state` as the one jobs saw, unless it already was: the guarded UPDATE is the
    claim, so two sweeps (or a sweep and the nightly pass) never emit the same event twice."""
    return bool(connection.execute(_CLAIM_STATE, {"plan_id": plan_id, "seen": state})
                .rowcount)


def set_window_states(connection: Connection, states: list[dict[str, str]]) -> None:
    """Record jobs' view for many plans: [{"pid": plan id, "ws": state}]."""
    if states:
        connection.execute(_SET_STATES, states)


def nightly_claim(connection: Connection, clinic_id: str, today: date, size: int, *,
                  skip_locked: bool) -> list[WindowColumns]:
    """Claim up to `size` open plans of a clinic not yet stamped for `today`, stamping them:
    the stamp commits with the batch's effects or not at all. The claimed rows stay locked
    (PostgreSQL row locks with SKIP LOCKED for concurrent passes, SQLite's write lock) until
    the transaction ends."""
    pending = (select(_C.id).where(_C.clinic_id == clinic_id, _C.status != "discharged",
                                   or_(_C.nightly_date.is_(None), _C.nightly_date < today))
               .limit(size))  # index order (clinic, nightly_date): no sort
    if skip_locked:
        pending = pending.with_for_update(skip_locked=True)
    claimed = connection.execute(update(PLANS).where(_C.id.in_(pending.scalar_subquery()))
                                 .values(nightly_date=today).returning(*WINDOW_COLUMNS))
    return [WindowColumns(*row) for row in claimed]


_PATIENTS = table(Patient)
FEED_COLUMNS = (_C.id, _C.patient_id, _C.version, _C.state, _C.ruleset, _C.updated_at,
                _PATIENTS.c.external_id)


def feed_windows(connection: Connection, *, clinic_id: str, first: date,
                 last: date) -> list[Any]:
    """Open plans of one clinic whose stored window overlaps `first`..`last` and is not
    booked on `first` (a calendar feed's proposed follow-ups), by target date, with the
    patient's external id."""
    not_booked = or_(_C.booked_until.is_(None), _C.booked_until < first)
    query = (select(*FEED_COLUMNS).join(_PATIENTS, _PATIENTS.c.id == _C.patient_id)
             .where(_C.clinic_id == clinic_id, _C.next_target.is_not(None),
                    _C.next_earliest <= last, _C.next_latest >= first, not_booked)
             .order_by(_C.next_target, _C.id))
    return list(connection.execute(query).all())
