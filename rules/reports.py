"""A progress report: the always-first rules (1-4), the 48 h window, then the phase's rules."""

from __future__ import annotations

import math
from datetime import date

from .classify import Reading
from .decision import Explanation
from .events import ProgressReport
from .initial import initial_rules
from .later import maintenance_rules, middle_rules
from .phasing import hold
from .ruleset import Ruleset
from .state import Work
from .values import Flag, Phase, ReviewReason, Status


def _clear_cancellation_flags(w: Work, out: list[Explanation]) -> None:
    """Rule 22: the report asked for (checkin_suggested) or a patient's word that is now a
    clinical one (review_suggested) clears the cancellation's flag."""
    cleared = [f for f in (Flag.CHECKIN_SUGGESTED, Flag.REVIEW_SUGGESTED) if f in w.flags]
    for flag in cleared:
        w.drop_flag(flag)
    if cleared:
        out.append(Explanation("visit.cancelled_reason", "A progress report arrived: "
                               f"{', '.join(cleared)} cleared.", {"cleared": cleared}))


def on_report(w: Work, e: ProgressReport, day: date, rs: Ruleset, out: list[Explanation]) -> None:
    """Judge one report by the rules of the phase the plan is in when it arrives."""
    _clear_cancellation_flags(w, out)
    hours = None
    if w.last_session_at is not None and w.last_session_at <= e.at:
        hours = (e.at - w.last_session_at).total_seconds() / 3600
    r = Reading(e, w.baseline_pain, w.baseline_function, w.lowest_pain_in_phase, hours, rs)
    if w.consent_at is None:
        out.append(Explanation("consent.required", "No informed consent recorded: the report "
                               "is stored, no needling is proposed until consent is recorded.",
                               {"consent": False, "pain": e.pain}))
    if e.adverse_event:
        hold(w, ReviewReason.ADVERSE_EVENT, day)
        out.append(Explanation("safety.adverse_event", "Adverse event reported: plan on hold; "
                               "the next visit is a review with the physiotherapist, and only "
                               "a physiotherapist's resume lifts the hold.",
                               {"adverse_event": True}))
    no_increase = _soreness(w, e.soreness_hours, rs, out)
    if r.in_window:
        out.append(Explanation("report.soreness_window", f"Recorded {hours:.0f} h after the "
                               f"last session (under {rs.soreness_window_hours} h): stored and "
                               "shown, not read as a response (post-needling soreness).",
                               {"hours_since_session": round(hours or 0, 1),
                                "soreness_window_hours": rs.soreness_window_hours,
                                "pain": e.pain}))
    elif w.status is Status.ON_HOLD and not e.adverse_event:
        out.append(Explanation("status.on_hold", "Plan on hold: the report is stored; the "
                               "phase rules resume when a physiotherapist resumes the plan.",
                               {"pain": e.pain, "review_reasons": list(w.review_reasons)}))
    elif w.status is Status.ACTIVE:
        _read(w, r, e.soreness_hours, no_increase, day, rs, out)
    if w.override is not None:
        out.append(Explanation("override.in_force", f"Override of {w.override.frequency.text()} "
                               f"until {w.override.until} ({w.override.reason}) wins over the "
                               f"computed {w.computed.text()}.",
                               {"override": w.override.frequency.to_dict(),
                                "computed": w.computed.to_dict(),
                                "until": w.override.until.isoformat()}))


def _read(w: Work, r: Reading, soreness: int | None, no_increase: bool, day: date,
          rs: Ruleset, out: list[Explanation]) -> None:
    """Update the phase's memory with this report, then apply the phase's rules."""
    phase = w.phase
    w.reports_in_phase += 1
    w.any_meaningful_in_phase = w.any_meaningful_in_phase or r.meaningful
    w.meaningful_streak = w.meaningful_streak + 1 if r.meaningful else 0
    w.managed_streak = w.managed_streak + 1 if r.well_managed else 0
    w.extend_streak = w.extend_streak + 1 if r.well_managed and not r.flare else 0
    if phase is Phase.INITIAL:
        initial_rules(w, r, soreness, no_increase, day, rs, out)
    elif phase is Phase.MIDDLE:
        middle_rules(w, r, no_increase, day, rs, out)
    else:
        maintenance_rules(w, r, no_increase, day, rs, out)
    w.previous_pain = r.pain
    if w.phase is phase:
        low = w.lowest_pain_in_phase
        w.lowest_pain_in_phase = r.pain if low is None else min(low, r.pain)


def _soreness(w: Work, hours: int | None, rs: Ruleset, out: list[Explanation]) -> bool:
    """Rule 3. Returns True when this decision may not increase the frequency at all. The
    raised gap and the flag last until a later report states soreness within the expected
    limit; while the flag stands, `initial.increase` stays forbidden (rule 7)."""
    if hours is None:
        return False
    if hours > rs.max_expected_soreness_hours:
        w.add_flag(Flag.PROLONGED_SORENESS)
        w.min_gap_days = max(rs.min_gap_days, math.ceil(hours / 24))
        out.append(Explanation("safety.prolonged_soreness", f"Soreness lasted {hours} h (more "
                               f"than {rs.max_expected_soreness_hours} h): no frequency increase "
                               f"now, and at least {w.min_gap_days} days before the next "
                               "session.", {"soreness_hours": hours,
                                            "max_expected_soreness_hours":
                                                rs.max_expected_soreness_hours,
                                            "min_gap_days": w.min_gap_days}))
        return True
    if Flag.PROLONGED_SORENESS in w.flags:
        w.drop_flag(Flag.PROLONGED_SORENESS)
        w.min_gap_days = rs.min_gap_days
        out.append(Explanation("safety.prolonged_soreness", f"Soreness {hours} h is within "
                               f"{rs.max_expected_soreness_hours} h again: flag cleared, minimum "
                               f"gap back to {rs.min_gap_days} days.", {"soreness_hours": hours}))
    return False
