"""The initial-phase rules (rules.md 6-10) for a report read as a response."""

from __future__ import annotations

from datetime import date
from typing import Any

from .classify import Reading, pct
from .decision import Explanation
from .phasing import Out, deferred, enter_phase, hold
from .ruleset import Ruleset
from .state import Work
from .values import Flag, Frequency, Phase, ReviewReason, Status


def initial_rules(w: Work, r: Reading, soreness: int | None, no_increase: bool, day: date,
                  rs: Ruleset, out: Out) -> None:
    """Rules 6-10: reduce, increase / maintain, advance, worse, non-responder."""
    freq, low = w.computed, rs.initial_low_per_week
    base = w.baseline_pain
    inputs: dict[str, Any] = {**r.inputs(base, w.baseline_function),
                              "sessions_in_phase": w.sessions_in_phase,
                              "frequency": freq.text()}
    said = r.summary(base)
    if r.meaningful and freq.frequency > low:
        w.computed = Frequency.per_week(low)
        out.append(Explanation("initial.reduce", f"Meaningful improvement ({said}; at least "
                               f"{rs.mcid_pain_points:g} points and {pct(rs.mcid_pain_relative)}"
                               f"): frequency reduced from {freq.text()} to {w.computed.text()}.",
                               {**inputs, "mcid_pain_points": rs.mcid_pain_points,
                                "mcid_pain_relative": rs.mcid_pain_relative}))
    elif not r.meaningful and not r.worse:
        _slower(w, r, said, inputs, soreness, no_increase, rs, out)
    advance = (r.meaningful and w.meaningful_streak >= rs.consistent_reports
               and w.sessions_in_phase >= rs.initial_min_sessions)
    if r.worse:
        hold(w, ReviewReason.WORSENING, day)
        out.append(Explanation("initial.worse", f"Worse than at baseline ({said}; at least "
                               f"{rs.flare_points:g} points above): plan on hold for a review "
                               "with the physiotherapist.",
                               {**inputs, "flare_points": rs.flare_points}))
    nr_latest = w.sessions_in_phase >= rs.non_responder_sessions and r.no_change
    nr_none = (w.sessions_in_phase >= rs.non_responder_max_sessions
               and not w.any_meaningful_in_phase)
    if nr_latest or nr_none:
        hold(w, ReviewReason.NON_RESPONDER, day)
        why = (f"no change after {w.sessions_in_phase} sessions ({said})" if nr_latest else
               f"no meaningful report in {w.sessions_in_phase} sessions")
        out.append(Explanation("initial.non_responder", f"Not responding: {why}: plan on hold "
                               "for a review with the physiotherapist.",
                               {**inputs, "non_responder_sessions": rs.non_responder_sessions,
                                "non_responder_max_sessions": rs.non_responder_max_sessions}))
    elif advance and w.status is Status.ACTIVE:
        out.append(Explanation("initial.advance", f"{w.meaningful_streak} meaningful reports in "
                               f"a row after {w.sessions_in_phase} sessions (at least "
                               f"{rs.consistent_reports} and {rs.initial_min_sessions}): "
                               "moving to the middle phase.",
                               {**inputs, "meaningful_streak": w.meaningful_streak,
                                "consistent_reports": rs.consistent_reports,
                                "initial_min_sessions": rs.initial_min_sessions}))
        enter_phase(w, Phase.MIDDLE, day, rs, out, r.pain)
    elif r.meaningful and freq.frequency <= low:
        out.append(Explanation("initial.maintain", f"Meaningful improvement ({said}) at "
                               f"{freq.text()}: frequency kept; the phase moves on after "
                               f"{rs.consistent_reports} such reports and "
                               f"{rs.initial_min_sessions} sessions.", inputs))


def _slower(w: Work, r: Reading, said: str, inputs: dict[str, Any], soreness: int | None,
            no_increase: bool, rs: Ruleset, out: Out) -> None:
    """Rule 7: slower progress (partial or no change) raises or keeps the frequency."""
    freq = w.computed
    why_not = None
    if freq.frequency >= rs.initial_high_per_week:
        why_not = f"already at {freq.text()}"
    elif w.sessions_in_phase < rs.initial_review_sessions:
        why_not = (f"only {w.sessions_in_phase} of {rs.initial_review_sessions} sessions "
                   "in this phase")
    elif soreness is not None and soreness > rs.increase_soreness_max_hours:
        why_not = f"soreness {soreness} h is above {rs.increase_soreness_max_hours} h"
    elif no_increase or Flag.PROLONGED_SORENESS in w.flags:
        deferred("initial.increase", "Increase", rs, out)
        why_not = "prolonged soreness"
    inputs = {**inputs, "initial_review_sessions": rs.initial_review_sessions,
              "increase_soreness_max_hours": rs.increase_soreness_max_hours,
              "soreness_hours": soreness}
    if why_not:
        out.append(Explanation("initial.maintain", f"Slower progress ({said}, {r.label}): "
                               f"frequency kept at {freq.text()} ({why_not}).", inputs))
        return
    w.computed = Frequency.per_week(rs.initial_high_per_week)
    out.append(Explanation("initial.increase", f"Slower progress ({said}, {r.label}) after "
                           f"{w.sessions_in_phase} sessions: frequency slightly increased from "
                           f"{freq.text()} to {w.computed.text()}.", inputs))
