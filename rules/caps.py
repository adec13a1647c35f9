"""Rule 21: a payer's authorization caps the visits, never the frequency.

`visits_used` counts attended visits of any kind since the authorization was set (plus
no-shows with `count_no_shows`). Low: `visits_left <= authorization_warn_visits`, or
`valid_until` within `authorization_warn_days` of the clinic's today. Exhausted: no visit left,
or today after `valid_until` (an exhausted authorization is low as well).
"""

from __future__ import annotations

from datetime import date, timedelta

from .decision import Explanation
from .events import AuthorizationCleared, AuthorizationSet
from .ruleset import Ruleset
from .state import Authorization, PlanState, Work
from .values import Flag

AUTHORIZATION_FLAGS = (Flag.AUTHORIZATION_EXHAUSTED, Flag.AUTHORIZATION_LOW)


def authorization_flags(visits_left: int | None, valid_until: date | None, on: date,
                        rs: Ruleset) -> tuple[Flag, ...]:
    """The rule-21 flags on clinic date `on` (none without an authorization)."""
    if visits_left is None:
        return ()
    days_left = (valid_until - on).days if valid_until is not None else None
    exhausted = visits_left <= 0 or (days_left is not None and days_left < 0)
    low = exhausted or visits_left <= rs.authorization_warn_visits or (
        days_left is not None and days_left <= rs.authorization_warn_days)
    return tuple(flag for flag, hit in zip(AUTHORIZATION_FLAGS, (exhausted, low), strict=True)
                 if hit)


def flags_on(state: PlanState, rs: Ruleset, on: date) -> tuple[str, ...]:
    """The plan's flags on `on`: the stored ones with rule 21's recomputed for that day (the
    stored ones are as of the last event; a date can make an authorization low by itself)."""
    kept = tuple(f for f in state.flags if f not in AUTHORIZATION_FLAGS)
    valid_until = state.authorization.valid_until if state.authorization else None
    return tuple(sorted((*kept, *authorization_flags(state.visits_left, valid_until, on, rs))))


def next_check(state: PlanState, rs: Ruleset) -> date | None:
    """The first date on which the authorization's flags change with time alone (the nightly
    pass folds a `time passes` event then), or None."""
    auth = state.authorization
    if auth is None or auth.valid_until is None:
        return None
    if Flag.AUTHORIZATION_LOW not in state.flags:
        return auth.valid_until - timedelta(days=rs.authorization_warn_days)
    if Flag.AUTHORIZATION_EXHAUSTED not in state.flags:
        return auth.valid_until + timedelta(days=1)
    return None


def set_authorization(w: Work, e: AuthorizationSet, day: date, rs: Ruleset,
                      out: list[Explanation]) -> None:
    w.authorization = Authorization(e.visits_allowed, e.valid_until, e.count_no_shows, e.payer)
    w.authorized_visits = ()
    until = f" until {e.valid_until}" if e.valid_until else ""
    out.append(Explanation("authorization.set", f"Authorization recorded: {e.visits_allowed} "
                           f"visit(s){until}{' (no-shows count)' if e.count_no_shows else ''}; "
                           f"counting starts now ({e.reason}).",
                           {**w.authorization.to_dict(), "reason": e.reason, "by": e.by}))


def clear_authorization(w: Work, e: AuthorizationCleared, day: date, rs: Ruleset,
                        out: list[Explanation]) -> None:
    if w.authorization is None:
        out.append(Explanation("authorization.cleared", "No authorization was recorded: "
                               "nothing changed.", {"reason": e.reason, "by": e.by}))
        return
    w.authorization, w.authorized_visits = None, ()
    out.append(Explanation("authorization.cleared", f"Authorization removed ({e.reason}): "
                           "visits are no longer capped.", {"reason": e.reason, "by": e.by}))


def count_visit(w: Work, visit_id: str, counts: bool) -> None:
    """Count (or, on a correction, uncount) one visit against the authorization."""
    if w.authorization is None:
        return
    counted = visit_id in w.authorized_visits
    if counts and not counted:
        w.authorized_visits = (*w.authorized_visits, visit_id)
    elif not counts and counted:
        w.authorized_visits = tuple(v for v in w.authorized_visits if v != visit_id)


def update_flags(w: Work, day: date, rs: Ruleset, out: list[Explanation]) -> None:
    """After every event: rule 21's flags as of the event's day, explained when they change."""
    auth = w.authorization
    left = max(auth.visits_allowed - len(w.authorized_visits), 0) if auth else None
    wanted = authorization_flags(left, auth.valid_until if auth else None, day, rs)
    current = tuple(f for f in AUTHORIZATION_FLAGS if f in w.flags)
    if set(wanted) == set(current):
        return
    for flag in current:
        w.drop_flag(flag)
    for flag in wanted:
        w.add_flag(flag)
    if auth is None:
        return
    inputs = {"visits_allowed": auth.visits_allowed, "visits_used": len(w.authorized_visits),
              "visits_left": left,
              "valid_until": auth.valid_until.isoformat() if auth.valid_until else None,
              "authorization_warn_visits": rs.authorization_warn_visits,
              "authorization_warn_days": rs.authorization_warn_days, "date": day.isoformat()}
    until = f", valid until {auth.valid_until}" if auth.valid_until else ""
    if Flag.AUTHORIZATION_EXHAUSTED in wanted:
        out.append(Explanation("authorization.exhausted", f"Authorization exhausted: {left} of "
                               f"{auth.visits_allowed} visit(s) left{until}. The frequency is "
                               "unchanged; further visits are outside the authorization.",
                               inputs))
    elif Flag.AUTHORIZATION_LOW in wanted:
        out.append(Explanation("authorization.low", f"Authorization running low: {left} of "
                               f"{auth.visits_allowed} visit(s) left{until}: ask the payer "
                               "for more, or plan the remaining visits.", inputs))
