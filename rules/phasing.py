"""What every phase rule shares: entering a phase, holding for review, deferring an increase."""

from __future__ import annotations

from datetime import date

from .decision import Explanation
from .ruleset import Ruleset
from .state import Work
from .values import Flag, Frequency, Phase, ReviewReason, Status

Out = list[Explanation]


def entry_frequency(phase: Phase, rs: Ruleset) -> Frequency:
    """The frequency a phase starts at when a plan falls back or moves into it."""
    if phase is Phase.INITIAL:
        return Frequency.per_week(rs.initial_low_per_week)
    if phase is Phase.MIDDLE:
        return Frequency.every_weeks(rs.middle_start_weeks)
    return Frequency.every_weeks(rs.maintenance_start_weeks)


def enter_phase(w: Work, phase: Phase, day: date, rs: Ruleset, out: Out,
                seed_pain: int | None) -> None:
    """Move to `phase` at its entry frequency; the phase's memory restarts at `seed_pain`."""
    w.phase = phase
    w.phase_since = day
    w.computed = entry_frequency(phase, rs)
    w.restart_counters()
    w.lowest_pain_in_phase = seed_pain
    w.drop_flag(Flag.DISCHARGE_SUGGESTED)
    texts = {Phase.INITIAL: "starts at", Phase.MIDDLE: "interval starts at",
             Phase.MAINTENANCE: "interval starts at"}
    out.append(Explanation(f"{phase}.enter", f"{phase.capitalize()} phase {texts[phase]} "
                           f"{w.computed.text()}.", {"frequency": w.computed.to_dict()}))


def hold(w: Work, reason: ReviewReason, day: date) -> None:
    w.status = Status.ON_HOLD
    w.hold_date = day
    w.add_reason(reason)


def deferred(rule: str, what: str, rs: Ruleset, out: Out) -> None:
    out.append(Explanation("safety.prolonged_soreness", f"{what} deferred: soreness lasted "
                           f"longer than {rs.max_expected_soreness_hours} h, so no frequency "
                           "increase on this decision.", {"deferred_rule": rule}))


