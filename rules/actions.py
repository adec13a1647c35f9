"""Physiotherapist actions: consent, override, set phase, hold, resume, discharge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .caps import clear_authorization, set_authorization
from .decision import Explanation
from .errors import InvalidEvent
from .events import (
    AuthorizationCleared,
    AuthorizationSet,
    ConsentRecorded,
    Discharged,
    Held,
    OverrideCleared,
    OverrideSet,
    PhaseSet,
    Resumed,
)
from .phasing import enter_phase
from .ruleset import Ruleset
from .state import Override, Work
from .values import Flag, Status

Out = list[Explanation]


def _who(e: Any) -> dict[str, Any]:
    return {"reason": getattr(e, "reason", None), "by": e.by}


def consent(w: Work, e: ConsentRecorded, day: date, rs: Ruleset, out: Out) -> None:
    """Consent activates the plan from the later of its local date and the plan's start date."""
    if w.consent_at is not None:
        out.append(Explanation("consent.recorded", f"Consent was already recorded on "
                               f"{w.consent_at.date()}: nothing changed.", _who(e)))
        return
    w.consent_at = e.at
    w.activation_date = max(day, w.start_date)
    if w.status is Status.ASSESSMENT_PENDING:
        w.status = Status.ACTIVE
    out.append(Explanation("consent.recorded", f"Informed consent recorded: needling may be "
                           f"proposed from {w.activation_date}.",
                           {**_who(e), "activation_date": w.activation_date.isoformat()}))


def override(w: Work, e: OverrideSet, day: date, rs: Ruleset, out: Out) -> None:
    """An override wins over the computed frequency through `until` (inclusive)."""
    if e.until < day:
        raise InvalidEvent("until", f"must not be before {day}")
    w.override = Override(e.frequency, e.until, e.reason, e.by)
    out.append(Explanation("override.set", f"Physiotherapist override: {e.frequency.text()} "
                           f"until {e.until} ({e.reason}); the rules still run and their "
                           f"result ({w.computed.text()}) is kept beside it.",
                           {**_who(e), "frequency": e.frequency.to_dict(),
                            "until": e.until.isoformat()}))


def clear_override(w: Work, e: OverrideCleared, day: date, rs: Ruleset, out: Out) -> None:
    if w.override is None:
        out.append(Explanation("override.cleared", "No override was in force: nothing changed.",
                               _who(e)))
        return
    w.override = None
    out.append(Explanation("override.cleared", f"Override cleared ({e.reason}): back to the "
                           f"computed {w.computed.text()}.", _who(e)))


def set_phase(w: Work, e: PhaseSet, day: date, rs: Ruleset, out: Out) -> None:
    """The phase restarts at its entry frequency, even when it is the current phase."""
    before = w.phase
    out.append(Explanation("action.set_phase", f"Physiotherapist set the phase from {before} to "
                           f"{e.phase} ({e.reason}).", {**_who(e), "phase_before": str(before),
                                                        "phase_after": str(e.phase)}))
    enter_phase(w, e.phase, day, rs, out, w.previous_pain)


def hold(w: Work, e: Held, day: date, rs: Ruleset, out: Out) -> None:
    if w.status is not Status.ON_HOLD:
        w.status = Status.ON_HOLD
        w.hold_date = day
    out.append(Explanation("action.hold", f"Physiotherapist put the plan on hold ({e.reason}): "
                           "the next visit is a review.", _who(e)))


def resume(w: Work, e: Resumed, day: date, rs: Ruleset, out: Out) -> None:
    """Resume lifts a hold and clears the review; the phase's counters restart (a fresh trial)."""
    if w.status is not Status.ON_HOLD:
        out.append(Explanation("action.resume", "The plan was not on hold: nothing changed.",
                               _who(e)))
        return
    w.status = Status.ACTIVE if w.consent_at is not None else Status.ASSESSMENT_PENDING
    reasons, w.review_reasons, w.hold_date = w.review_reasons, (), None
    w.restart_counters()
    out.append(Explanation("action.resume", f"Physiotherapist resumed the plan ({e.reason}); "
                           f"review cleared{' (' + ', '.join(reasons) + ')' if reasons else ''}; "
                           f"the {w.phase} phase's counters restart at {w.frequency.text()}.",
                           {**_who(e), "cleared_reasons": list(reasons)}))


def discharge(w: Work, e: Discharged, day: date, rs: Ruleset, out: Out) -> None:
    w.status = Status.DISCHARGED
    w.booked = ()
    out.append(Explanation("action.discharge", f"Physiotherapist discharged the patient "
                           f"({e.reason}): nothing more is proposed.", _who(e)))


ACTIONS: dict[type, Callable[..., None]] = {
    ConsentRecorded: consent, OverrideSet: override, OverrideCleared: clear_override,
    PhaseSet: set_phase, Held: hold, Resumed: resume, Discharged: discharge,
    AuthorizationSet: set_authorization, AuthorizationCleared: clear_authorization,
}


def physio_acted(w: Work, out: Out) -> None:
    """Rule 22: any physiotherapist action answers a patient's 'condition worse'."""
    if Flag.REVIEW_SUGGESTED in w.flags:
        w.drop_flag(Flag.REVIEW_SUGGESTED)
        out.append(Explanation("visit.cancelled_reason", "A physiotherapist acted on the plan: "
                               "review_suggested cleared.", {"cleared": [Flag.REVIEW_SUGGESTED]}))
