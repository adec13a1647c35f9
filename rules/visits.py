"""Visits from the booking system: sessions anchor the window; misses earn no credit (rule 20)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from .caps import count_visit
from .decision import Explanation
from .events import VisitChanged
from .ruleset import Ruleset
from .state import Work
from .values import CancellationReason, Flag, Status, VisitKind, VisitStatus


def on_visit(w: Work, e: VisitChanged, local_date: Callable[[datetime], date], rs: Ruleset,
             out: list[Explanation]) -> None:
    """Booked visits make the window `booked`; an attended needling visit is a session."""
    day = local_date(e.starts_at)
    w.booked = tuple(b for b in w.booked if b[0] != e.visit_id)
    inputs = {"visit_kind": str(e.visit_kind), "status": str(e.status), "date": day.isoformat()}
    auth = w.authorization
    count_visit(w, e.visit_id, e.status is VisitStatus.ATTENDED or (
        e.status is VisitStatus.NO_SHOW and auth is not None and auth.count_no_shows))
    if e.status in (VisitStatus.BOOKED, VisitStatus.ATTENDED):
        w.outreach_snoozed = False  # rule 23's snooze ends with a new booking or a visit
    if e.status is VisitStatus.BOOKED:
        w.booked = tuple(sorted((*w.booked, (e.visit_id, day)), key=lambda b: (b[1], b[0])))
        out.append(Explanation("visit.booked", f"{e.visit_kind.capitalize()} visit booked for "
                               f"{day}.", inputs))
    elif e.status is VisitStatus.ATTENDED:
        _attended(w, e, day, inputs, out)
    elif e.status is VisitStatus.CANCELLED and (e.cancellation_reason is not None
                                                or not e.needs_reschedule):
        _cancelled(w, e, day, inputs, out)
    else:
        missed = e.status is VisitStatus.NO_SHOW
        if missed:
            w.no_show_streak += 1
        what = "No-show" if missed else "Cancelled visit"
        text = (f"{what} on {day}: no progress credit; the window stays anchored at the last "
                "attended session and is not compressed to catch up.")
        if missed and w.no_show_streak >= rs.missed_visits_in_a_row:
            w.add_flag(Flag.MISSED_VISITS)
            text += (f" {w.no_show_streak} no-shows in a row: the front desk contacts "
                     "the patient.")
        out.append(Explanation("visit.no_show", text,
                               {**inputs, "no_show_streak": w.no_show_streak,
                                "missed_visits_in_a_row": rs.missed_visits_in_a_row}))
    if w.status is Status.DISCHARGED:
        out.append(Explanation("status.discharged", "Plan discharged: the visit is recorded, "
                               "nothing is proposed.", inputs))


REASON_TEXT = {
    CancellationReason.FEELING_BETTER: "the patient feels better: ask for a progress report "
                                       "(flag checkin_suggested, cleared by the next report)",
    CancellationReason.CONDITION_WORSE: "the patient reports the condition is worse: a "
                                        "physiotherapist should review (flag review_suggested; "
                                        "the plan is not put on hold without a clinical report)",
    CancellationReason.SICK: "the patient is sick", CancellationReason.AWAY: "the patient is away",
    CancellationReason.WORK: "the patient's work", CancellationReason.OTHER: "another reason",
}


def _cancelled(w: Work, e: VisitChanged, day: date, inputs: dict[str, Any],
               out: list[Explanation]) -> None:
    """Rules 22-23: a cancellation with a reason earns no credit and no penalty (rule 20
    holds: it neither counts as nor breaks a run of no-shows); some reasons raise a flag."""
    reason = e.cancellation_reason
    inputs = {**inputs, "cancellation_reason": str(reason) if reason else None,
              "needs_reschedule": e.needs_reschedule}
    if reason is not None:
        if reason is CancellationReason.FEELING_BETTER:
            w.add_flag(Flag.CHECKIN_SUGGESTED)
        elif reason is CancellationReason.CONDITION_WORSE:
            w.add_flag(Flag.REVIEW_SUGGESTED)
        out.append(Explanation("visit.cancelled_reason", f"Visit on {day} cancelled because "
                               f"{REASON_TEXT[reason]}: no progress credit and no penalty.",
                               inputs))
    if not e.needs_reschedule:
        w.outreach_snoozed = True
        out.append(Explanation("visit.no_reschedule", f"Visit on {day} cancelled with no new "
                               "booking wanted: outreach is snoozed until the current "
                               "window's latest day.", inputs))


def _attended(w: Work, e: VisitChanged, day: date, inputs: dict[str, Any],
              out: list[Explanation]) -> None:
    w.no_show_streak = 0  # any attended visit breaks a run of no-shows
    w.drop_flag(Flag.MISSED_VISITS)
    if e.visit_kind is not VisitKind.NEEDLING:
        out.append(Explanation("visit.attended", f"{e.visit_kind.capitalize()} visit attended on "
                               f"{day}: no needling session, the window keeps its anchor.",
                               inputs))
        return
    if w.status is Status.DISCHARGED:
        return
    if w.last_session_at is None or e.starts_at >= w.last_session_at:
        w.last_session_at, w.last_session_date = e.starts_at, day
    w.sessions_in_phase += 1
    text = (f"Needling session attended on {day}: {w.sessions_in_phase} session(s) in the "
            f"{w.phase} phase; the next window is anchored here.")
    if w.consent_at is None:
        text += " No informed consent is on record for it."
    out.append(Explanation("visit.attended", text,
                           {**inputs, "sessions_in_phase": w.sessions_in_phase}))
