"""The next-visit window and the series (rules.md 'The next-visit window'), on open days."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from .caps import authorization_flags
from .decision import Explanation
from .errors import CalendarError
from .ruleset import Ruleset
from .state import PlanState
from .values import Flag, Frequency, Status, VisitKind, WindowState

IsOpen = Callable[[date], bool]
HORIZON_DAYS = 366
REVIEW_WITHIN = Fraction(7)


@dataclass(frozen=True, slots=True)
class Window:
    """A proposal: the visit kind and its earliest / target / latest open days."""

    kind: VisitKind | None
    earliest: date | None
    target: date | None
    latest: date | None
    state: WindowState
    extended: bool
    interval_days: float | None
    reasons: tuple[Explanation, ...]
    snoozed_until: date | None = None  # rule 23: outreach waits until this day (inclusive)

    def values(self) -> dict[str, Any]:
        """The window as plain values (dates as dates), the one shape every view starts from."""
        return {"kind": str(self.kind) if self.kind else None, "earliest": self.earliest,
                "target": self.target, "latest": self.latest, "state": str(self.state),
                "extended": self.extended, "interval_days": self.interval_days,
                "snoozed_until": self.snoozed_until,
                "reasons": [r.to_dict() for r in self.reasons]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: `values()` with ISO dates."""
        return {key: value.isoformat() if isinstance(value, date) else value
                for key, value in self.values().items()}


def round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def in_force(state: PlanState, on: date) -> Frequency:
    """The override's frequency through its `until` date, else the computed one."""
    o = state.override
    return o.frequency if o is not None and on <= o.until else state.computed


def bounds(anchor: date, interval: Fraction, min_gap: int, rs: Ruleset) -> tuple[date, date, date]:
    """Raw bounds after a session on `anchor`; target and latest never fall before earliest."""
    earliest = max(min_gap, math.floor(rs.early * interval))
    target = max(earliest, round_half_up(interval))
    latest = max(target, math.ceil(rs.late * interval))
    return (anchor + timedelta(days=earliest), anchor + timedelta(days=target),
            anchor + timedelta(days=latest))


def on_calendar(earliest: date, target: date, latest: date,
                is_open: IsOpen) -> tuple[date, date, date, bool]:
    """Earliest forward, latest back, target to the nearest open day between (earlier on a
    tie); with no open day left, latest moves to the first open day on or after earliest."""
    e = _step_to_open(earliest, 1, is_open)
    lt = _step_to_open(latest, -1, is_open)
    if lt < e:
        return e, e, e, True
    for d in range(HORIZON_DAYS):
        for cand in (target - timedelta(days=d), target + timedelta(days=d)):
            if e <= cand <= lt and is_open(cand):
                return e, cand, lt, False
    return e, e, lt, False  # unreachable: e itself is open and inside the window


def _step_to_open(day: date, step: int, is_open: IsOpen) -> date:
    for _ in range(HORIZON_DAYS):
        if is_open(day):
            return day
        day += timedelta(days=step)
    raise CalendarError("calendar", f"no open day within {HORIZON_DAYS} days of {day}")


def next_window(state: PlanState, rs: Ruleset, on: date, is_open: IsOpen) -> Window:
    """The next visit proposed as of clinic-local date `on`.

    Needling after a session: the formulas of rules.md anchored at the last session. Before
    the first session: from the activation date. An assessment (no consent) is proposed from
    the plan's start date and a review (on hold) from the day the hold began, each within a
    week; a discharged plan proposes nothing.
    """
    if state.status is Status.DISCHARGED:
        return Window(None, None, None, None, WindowState.NONE, False, None, (Explanation(
            "window.none", "Plan discharged: no visit proposed.", {}),))
    freq = in_force(state, on)
    interval = freq.interval
    if state.status is Status.ON_HOLD or state.consent_at is None:
        review = state.status is Status.ON_HOLD
        kind = VisitKind.REVIEW if review else VisitKind.ASSESSMENT
        anchor = (state.hold_date or on) if review else state.start_date
        raw = (anchor, anchor, anchor + timedelta(days=math.ceil(REVIEW_WITHIN)))
        why = Explanation(f"window.{kind}", f"{kind.capitalize()} proposed from {anchor}, "
                          f"within {REVIEW_WITHIN} days.", {"anchor": anchor.isoformat()})
        interval = REVIEW_WITHIN
    elif state.last_session_date is None:
        kind, anchor = VisitKind.NEEDLING, state.activation_date or state.start_date
        raw = (anchor, anchor, anchor + timedelta(days=math.ceil(interval)))
        why = Explanation("window.first_session", f"No session yet: first needling from the "
                          f"activation date {anchor}, at {freq.text()}.",
                          {"anchor": anchor.isoformat(), "interval_days": float(interval)})
    else:
        kind, anchor = VisitKind.NEEDLING, state.last_session_date
        raw = bounds(anchor, interval, state.min_gap_days, rs)
        why = Explanation("window.after_session", f"Last session on {anchor}, {freq.text()} "
                          f"(every {float(interval):g} days): earliest +{(raw[0] - anchor).days},"
                          f" target +{(raw[1] - anchor).days}, latest +{(raw[2] - anchor).days}"
                          f" days (minimum gap {state.min_gap_days}).",
                          {"anchor": anchor.isoformat(), "interval_days": float(interval),
                           "min_gap_days": state.min_gap_days,
                           "early_factor": rs.window_early_factor,
                           "late_factor": rs.window_late_factor})
    e, t, lt, extended = on_calendar(*raw, is_open)
    reasons = [why]
    if (e, t, lt) != raw:
        reasons.append(Explanation("window.calendar", f"Moved to open days: {e} / {t} / {lt}.",
                                   {"raw": [d.isoformat() for d in raw]}))
    if extended:
        reasons.append(Explanation("window.extended", "No open day was left inside the window:"
                                   f" latest moved to {lt}.", {}))
    reasons += _authorization_reasons(state, rs, on)
    current = window_state(on, e, lt, lapse_after(lt, interval), booked_until(state))
    snoozed = lt if state.outreach_snoozed and on <= lt else None
    if snoozed is not None:
        reasons.append(Explanation("visit.no_reschedule", "The patient asked for no new "
                                   f"booking: outreach is snoozed until {lt}.",
                                   {"snoozed_until": lt.isoformat()}))
    return Window(kind, e, t, lt, current, extended, float(interval), tuple(reasons), snoozed)


def _authorization_reasons(state: PlanState, rs: Ruleset, on: date) -> list[Explanation]:
    """Rule 21 on the window: a cap never moves it, but the explanation says so."""
    auth = state.authorization
    if auth is None:
        return []
    flags = authorization_flags(state.visits_left, auth.valid_until, on, rs)
    until = f", valid until {auth.valid_until}" if auth.valid_until else ""
    inputs = {"visits_allowed": auth.visits_allowed, "visits_left": state.visits_left,
              "valid_until": auth.valid_until.isoformat() if auth.valid_until else None}
    if Flag.AUTHORIZATION_EXHAUSTED in flags:
        return [Explanation("authorization.exhausted", "The authorization is exhausted "
                            f"({state.visits_left} of {auth.visits_allowed} visit(s) left{until})"
                            ": the window is still proposed (the patient may pay privately).",
                            inputs)]
    if Flag.AUTHORIZATION_LOW in flags:
        return [Explanation("authorization.low", f"{state.visits_left} of "
                            f"{auth.visits_allowed} authorized visit(s) left{until}.", inputs)]
    return []


def lapse_after(latest: date, interval: Fraction | float) -> date:
    """The last overdue day: a plan is lapsed once the date is more than I days after latest
    (whole days, so latest + floor(I)); stored on the plan row for the worklist's SQL."""
    return latest + timedelta(days=math.floor(interval))


def window_state(on: date, earliest: date | None, latest: date | None,
                 lapsed_after: date | None, booked_until: date | None) -> WindowState:
    """The one window-state rule (rules.md 'The next-visit window'), on clinic date `on`.

    Booked while a booking on or after `on` stands; upcoming before earliest; due from
    earliest through latest; overdue after latest through `lapsed_after`; lapsed after it (a
    recall). No window (a discharged plan) is `none`. The plan store's SQL form of this rule
    (`scheduler/store/window_sql.py`) is proven equal to it by a property test.
    """
    if earliest is None or latest is None:
        return WindowState.NONE
    if booked_until is not None and booked_until >= on:
        return WindowState.BOOKED
    if on < earliest:
        return WindowState.UPCOMING
    if on <= latest:
        return WindowState.DUE
    if lapsed_after is not None and on > lapsed_after:
        return WindowState.LAPSED
    return WindowState.OVERDUE


def booked_until(state: PlanState) -> date | None:
    """The last day a standing booking covers, if any."""
    return max((day for _, day in state.booked), default=None)


def series(state: PlanState, rs: Ruleset, on: date, is_open: IsOpen,
           count: int) -> list[tuple[date, date, date]]:
    """The next `count` (target, earliest, latest), each chained from the previous target as
    if the visit happens then. Only needling chains; an assessment or review is one item.
    An authorization (rule 21) caps the series at its visits left, none after valid_until."""
    auth = state.authorization
    if auth is not None:
        count = min(count, state.visits_left or 0)
    window = next_window(state, rs, on, is_open)
    if (window.kind is None or window.target is None or window.earliest is None
            or window.latest is None or count < 1):
        return []
    items = [(window.target, window.earliest, window.latest)]
    interval = in_force(state, on).interval
    while window.kind is VisitKind.NEEDLING and len(items) < count:
        e, t, lt, _ = on_calendar(*bounds(items[-1][0], interval, state.min_gap_days, rs),
                                  is_open)
        items.append((t, e, lt))
    if auth is not None and auth.valid_until is not None:
        items = [item for item in items if item[0] <= auth.valid_until]
    return items
