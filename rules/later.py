"""The middle (rules.md 11-15) and maintenance (16-19) rules for a report read as a response."""

from __future__ import annotations

from datetime import date

from .classify import Reading, pct
from .decision import Explanation
from .phasing import Out, deferred, enter_phase
from .ruleset import Ruleset
from .state import Work
from .values import Flag, Frequency, Phase


def middle_rules(w: Work, r: Reading, no_increase: bool, day: date, rs: Ruleset,
                 out: Out) -> None:
    """Regress when no longer meaningful; else shorten on a flare, extend on a substantial
    report that is no worse than the previous one, and advance after well-managed reports."""
    weeks, said, fired = w.computed.period, r.summary(w.baseline_pain), len(out)
    inputs = {**r.inputs(w.baseline_pain, w.baseline_function), "interval_weeks": weeks,
              "lowest_pain_in_phase": w.lowest_pain_in_phase, "previous_pain": w.previous_pain}
    if not r.meaningful:
        if no_increase:
            deferred("middle.regress", "Return to the initial phase", rs, out)
            return
        out.append(Explanation("middle.regress", f"Improvement no longer meaningful ({said}): "
                               "back to the initial phase.", inputs))
        enter_phase(w, Phase.INITIAL, day, rs, out, r.pain)
        return
    if r.flare:
        if no_increase:
            deferred("middle.shorten", "Shorter interval", rs, out)
        else:
            w.computed = Frequency.every_weeks(max(rs.middle_start_weeks, weeks - 1))
            out.append(Explanation("middle.shorten", f"Flare (pain {r.pain}, at least "
                                   f"{rs.flare_points:g} above the phase's lowest "
                                   f"{w.lowest_pain_in_phase}) but still meaningful ({said}): "
                                   f"interval {_change(weeks, w.computed.period)}.",
                                   {**inputs, "flare_points": rs.flare_points}))
    elif r.substantial and (w.previous_pain is None or r.pain <= w.previous_pain):
        w.computed = Frequency.every_weeks(min(rs.middle_max_weeks, weeks + 1))
        out.append(Explanation("middle.extend", f"Substantial relief ({said}, at least "
                               f"{pct(rs.substantial_relative)}) and pain no higher than the "
                               f"previous report: interval {_change(weeks, w.computed.period)}.",
                               {**inputs, "substantial_relative": rs.substantial_relative,
                                "middle_max_weeks": rs.middle_max_weeks}))
    if w.managed_streak >= rs.consistent_reports:
        out.append(Explanation("middle.advance", f"{w.managed_streak} well-managed reports in a "
                               f"row (pain at most {rs.managed_pain_max:g}): moving to the "
                               "maintenance phase.",
                               {**inputs, "managed_streak": w.managed_streak,
                                "consistent_reports": rs.consistent_reports}))
        enter_phase(w, Phase.MAINTENANCE, day, rs, out, r.pain)
    elif len(out) == fired:
        out.append(Explanation("middle.maintain", f"Improvement holding ({said}): interval kept "
                               f"at {weeks} weeks.", inputs))


def maintenance_rules(w: Work, r: Reading, no_increase: bool, day: date, rs: Ruleset,
                      out: Out) -> None:
    """A flare falls back a phase (or two); well-managed reports step the interval out and,
    at the longest step, suggest discharge (never automatic)."""
    weeks, said = w.computed.period, r.summary(w.baseline_pain)
    inputs = {**r.inputs(w.baseline_pain, w.baseline_function), "interval_weeks": weeks,
              "lowest_pain_in_phase": w.lowest_pain_in_phase, "extend_streak": w.extend_streak}
    if r.flare:
        target = Phase.MIDDLE if r.meaningful else Phase.INITIAL
        if no_increase:
            deferred("maintenance.flare", f"Return to the {target} phase", rs, out)
            return
        out.append(Explanation("maintenance.flare", f"Flare (pain {r.pain}, at least "
                               f"{rs.flare_points:g} above the phase's lowest "
                               f"{w.lowest_pain_in_phase}), "
                               f"{'still' if r.meaningful else 'no longer'} meaningful ({said}): "
                               f"back to the {target} phase.",
                               {**inputs, "flare_points": rs.flare_points}))
        enter_phase(w, target, day, rs, out, r.pain)
        return
    if not r.well_managed:
        w.drop_flag(Flag.DISCHARGE_SUGGESTED)
    if w.extend_streak >= rs.consistent_reports:
        longer = [s for s in rs.maintenance_steps_weeks if s > weeks]
        if longer:
            w.computed = Frequency.every_weeks(longer[0])
            w.extend_streak = 0
            out.append(Explanation("maintenance.extend", f"{rs.consistent_reports} well-managed "
                                   f"reports without a flare ({said}): interval "
                                   f"{_change(weeks, longer[0])}.",
                                   {**inputs, "steps_weeks": list(rs.maintenance_steps_weeks)}))
            return
        w.add_flag(Flag.DISCHARGE_SUGGESTED)
        out.append(Explanation("maintenance.suggest_discharge", f"Well managed at the longest "
                               f"interval ({weeks} weeks) for {w.extend_streak} reports: "
                               "discharge suggested; the physiotherapist decides.", inputs))
        return
    state = "well managed" if r.well_managed else "not yet well managed"
    out.append(Explanation("maintenance.maintain", f"Stable, {state} ({said}): interval kept "
                           f"at {weeks} weeks.", inputs))


def _change(before: int, after: int) -> str:
    if before == after:
        return f"stays at {after} weeks (its limit)"
    verb = "extended" if after > before else "shortened"
    return f"{verb} from {before} to {after} weeks"
