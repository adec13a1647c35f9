"""What-if as a pure function: fold a plan's stored history under its own ruleset and under a
candidate, at `as_of`, and tally what differs (rules.md: what-if = fold(events, candidate,
as_of), nothing stored). The rules package and the standard library only: worker processes
import this and nothing of the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import rules

WEEK = Fraction(7)


@dataclass(frozen=True, slots=True)
class Moment:
    """When the replay judges: the instant `as_of` (events after it are left out) and the
    clinic-local date `on` the window and the frequency in force are computed for."""

    as_of: datetime
    on: date
    local_date: rules.LocalDate
    is_open: Callable[[date], bool]


@dataclass(slots=True)
class Tally:
    """A replay's totals; tallies of consecutive chunks merge into the clinic's, exactly
    (integers, fractions and counters), so the answer never depends on how it was split."""

    plans: int = 0
    changed: int = 0
    errors: int = 0
    per_week_current: Fraction = Fraction(0)
    per_week_candidate: Fraction = Fraction(0)
    rules_current: Counter[str] = field(default_factory=Counter)
    rules_candidate: Counter[str] = field(default_factory=Counter)
    items: list[dict[str, Any]] = field(default_factory=list)  # changed plans, by plan id

    def merge(self, other: Tally, *, keep: int | None = None) -> None:
        """Add `other` (the tally of the plans after this one's); at most `keep` items."""
        self.plans += other.plans
        self.changed += other.changed
        self.errors += other.errors
        self.per_week_current += other.per_week_current
        self.per_week_candidate += other.per_week_candidate
        self.rules_current.update(other.rules_current)
        self.rules_candidate.update(other.rules_candidate)
        room = len(other.items) if keep is None else max(0, keep - len(self.items))
        self.items.extend(other.items[:room])

    def summary(self) -> dict[str, Any]:
        """The totals as JSON-ready values (visits per week rounded to 3 decimals)."""
        names = sorted(set(self.rules_current) | set(self.rules_candidate))
        return {"plans": self.plans, "changed": self.changed, "errors": self.errors,
                "visits_per_week": {"current": round(float(self.per_week_current), 3),
                                    "candidate": round(float(self.per_week_candidate), 3)},
                "by_rule": {name: {"current": self.rules_current[name],
                                   "candidate": self.rules_candidate[name]} for name in names}}


def per_week(state: rules.PlanState, on: date) -> Fraction:
    """Visits per week the plan is proposed on `on`: 7 / interval days of the frequency in
    force for an active plan; 0 for one on hold or awaiting assessment (a single review or
    assessment is proposed, not a series) and for a discharged one."""
    if state.status is not rules.Status.ACTIVE:
        return Fraction(0)
    return WEEK / rules.in_force(state, on).interval


def _side(state: rules.PlanState, window: rules.Window, on: date) -> dict[str, Any]:
    return {"phase": str(state.phase), "status": str(state.status),
            "frequency": rules.in_force(state, on).to_dict(),
            "window": {"kind": str(window.kind) if window.kind else None,
                       "earliest": _iso(window.earliest), "target": _iso(window.target),
                       "latest": _iso(window.latest)}}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def first_difference(current: rules.Fold, candidate: rules.Fold) -> dict[str, Any] | None:
    """The first decision whose rules or resulting plan (phase, status, frequencies, review,
    flags) differ; None when every decision is the same."""
    for a, b in zip(current.decisions, candidate.decisions, strict=True):
        if a.after != b.after or a.rules != b.rules:
            return {"position": a.seq, "event_kind": a.event_kind, "at": a.at.isoformat(),
                    "rules": {"current": list(a.rules), "candidate": list(b.rules)}}
    return None


def replay_plan(plan_id: str, events: Iterable[rules.Event], current: rules.Ruleset,
                candidate: rules.Ruleset, moment: Moment, tally: Tally, *,
                after: str = "", keep: int | None = None) -> None:
    """Fold one plan's events dated up to `as_of` under `current` and `candidate` and add it
    to `tally`: counted in `changed` when phase, status, frequency in force or the next window
    differ; its item kept when its id is after `after` and fewer than `keep` are held. A plan
    created after `as_of` did not exist then and is left out; a history that cannot be folded
    is counted in `errors`."""
    as_of = moment.as_of
    upto = [event for event in events if event.at <= as_of]
    if not upto or not any(type(event) is rules.PlanCreated for event in upto):
        return
    try:
        now = rules.fold(upto, current, moment.local_date)
        then = rules.fold(upto, candidate, moment.local_date)
    except rules.RulesError:
        tally.errors += 1
        return
    tally.plans += 1
    on = moment.on
    a, b = now.state, then.state
    tally.per_week_current += per_week(a, on)
    tally.per_week_candidate += per_week(b, on)
    tally.rules_current.update([e.rule for d in now.decisions for e in d.explanations])
    tally.rules_candidate.update([e.rule for d in then.decisions for e in d.explanations])
    # The window is a function of the state and the ruleset's window factors: the same state
    # (but for the ruleset's name) and factors give the same window, so none is computed.
    if a[1:] == b[1:] and (current.window_early_factor, current.window_late_factor) == (
            candidate.window_early_factor, candidate.window_late_factor):
        return
    try:
        before = _side(a, rules.next_window(a, current, on, moment.is_open), on)
        after_ = _side(b, rules.next_window(b, candidate, on, moment.is_open), on)
    except rules.RulesError:
        tally.errors += 1
        return
    if before == after_:
        return
    tally.changed += 1
    if plan_id > after and (keep is None or len(tally.items) < keep):
        tally.items.append({"plan_id": plan_id,
                            "ruleset": {"current": current.id, "candidate": candidate.id},
                            "before": before, "after": after_,
                            "first_difference": first_difference(now, then)})
