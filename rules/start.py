"""Rule 5 (`initial.start`) and consent (`consent.required`) for a new plan."""

from __future__ import annotations

from datetime import date

from .decision import Explanation
from .events import PlanCreated
from .ruleset import Ruleset
from .state import PlanState
from .values import Frequency, Phase, Status


def start_state(e: PlanCreated, rs: Ruleset, day: date) -> tuple[PlanState, list[Explanation]]:
    """Severe (baseline pain >= severe_pain_min), chronic (onset >= chronic_weeks before the
    start) or neuropathic conditions start at the high frequency; others at the low one."""
    onset_weeks = (e.start_date - e.onset_date).days / 7
    severe = e.baseline_pain >= rs.severe_pain_min
    chronic = onset_weeks >= rs.chronic_weeks
    why = [text for hit, text in (
        (severe, f"baseline pain {e.baseline_pain} is at least {rs.severe_pain_min:g}"),
        (chronic, f"onset {onset_weeks:.0f} weeks before the start is at least "
                  f"{rs.chronic_weeks} weeks (chronic)"),
        (e.neuropathic, "neuropathic symptoms are present")) if hit]
    freq = Frequency.per_week(rs.initial_high_per_week if why else rs.initial_low_per_week)
    text = ("; ".join(why) if why else
            f"baseline pain {e.baseline_pain} below {rs.severe_pain_min:g}, onset "
            f"{onset_weeks:.0f} weeks (under {rs.chronic_weeks}), no neuropathic symptoms")
    explanations = [
        Explanation("initial.start", f"Starting at {freq.text()}: {text}.",
                    {"baseline_pain": e.baseline_pain, "severe_pain_min": rs.severe_pain_min,
                     "onset_weeks": round(onset_weeks, 1), "chronic_weeks": rs.chronic_weeks,
                     "neuropathic": e.neuropathic, "frequency": freq.to_dict()}),
        Explanation("consent.required", "No informed consent recorded yet: the next visit is "
                    "an assessment, never needling.", {"consent": False}),
    ]
    state = PlanState(
        ruleset=rs.id, status=Status.ASSESSMENT_PENDING, phase=Phase.INITIAL,
        phase_since=e.start_date, computed=freq, override=None, review_reasons=(), flags=(),
        start_date=e.start_date, onset_date=e.onset_date, baseline_pain=e.baseline_pain,
        baseline_function=e.baseline_function, neuropathic=e.neuropathic, consent_at=None,
        activation_date=None, hold_date=None, last_session_at=None, last_session_date=None,
        sessions_in_phase=0, reports_in_phase=0, any_meaningful_in_phase=False,
        meaningful_streak=0, managed_streak=0, extend_streak=0, lowest_pain_in_phase=None,
        previous_pain=None, min_gap_days=rs.min_gap_days, no_show_streak=0, booked=(),
        last_event_at=e.at, events=1)
    return state, explanations
