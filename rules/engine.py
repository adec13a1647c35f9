"""Fold a plan's history into its state, one explained decision per event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .actions import ACTIONS, physio_acted
from .caps import update_flags
from .decision import Decision, Explanation, Snapshot
from .errors import InvalidEvent, InvalidHistory, PlanClosed
from .events import Event, PlanCreated, ProgressReport, TimePassed, VisitChanged
from .reports import on_report
from .ruleset import Ruleset
from .start import start_state
from .state import PlanState, Work
from .values import Status
from .visits import on_visit

LocalDate = Callable[[datetime], date]


def utc_date(at: datetime) -> date:
    """The default clinic-local date: the UTC date (the service passes the clinic's zone)."""
    return at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class Fold:
    """The result of folding a history: the final state and one decision per event, in order."""

    state: PlanState
    decisions: tuple[Decision, ...]


def history_order(event: Event) -> tuple[int, datetime]:
    """The sort key of a history: creation first, then by `at` (sorting is stable on ties)."""
    return (0 if isinstance(event, PlanCreated) else 1, event.at)


def fold(events: Iterable[Event], ruleset: Ruleset, local_date: LocalDate = utc_date) -> Fold:
    """Fold events in time order (creation first; a late event takes its place by `at`;
    ties keep the given order). Same events and ruleset give the same result, always."""
    ordered = sorted(events, key=history_order)
    if not ordered or not isinstance(ordered[0], PlanCreated):
        raise InvalidHistory("events", "a history starts with exactly one plan_created event")
    state, first = start(ordered[0], ruleset, local_date)
    work, decisions = Work.of(state), [first]
    before = first.after
    for event in ordered[1:]:
        decision = _step(work, event, ruleset, local_date, before)
        decisions.append(decision)
        before = decision.after
    return Fold(work.freeze(), tuple(decisions))


def start(event: PlanCreated, ruleset: Ruleset,
          local_date: LocalDate = utc_date) -> tuple[PlanState, Decision]:
    """A new plan in the initial phase at rule 5's starting frequency, awaiting consent."""
    if not isinstance(event, PlanCreated):
        raise InvalidHistory("events", "a history starts with a plan_created event")
    state, explanations = start_state(event, ruleset, local_date(event.at))
    return state, Decision(0, event.at, event.kind, ruleset.id, None, state.snapshot(),
                           tuple(explanations))


def evaluate(state: PlanState, event: Event, ruleset: Ruleset,
             local_date: LocalDate = utc_date) -> tuple[PlanState, Decision]:
    """Apply one event to a folded state. An event dated before the last folded one cannot be
    applied incrementally: InvalidHistory is raised and the caller refolds the whole history."""
    if event.at < state.last_event_at:
        raise InvalidHistory("at", "earlier than the last folded event; refold the history")
    work = Work.of(state)
    decision = _step(work, event, ruleset, local_date, state.snapshot())
    return work.freeze(), decision


def _step(w: Work, event: Event, rs: Ruleset, local_date: LocalDate,
          before: Snapshot) -> Decision:
    """Apply one event to the working state; `before` is its snapshot (the previous after)."""
    if isinstance(event, PlanCreated):
        raise InvalidHistory("events", "a plan is created only once")
    if w.ruleset != rs.id:
        raise InvalidHistory("ruleset", f"state was folded with {w.ruleset}, not {rs.id}")
    if w.status is Status.DISCHARGED and not isinstance(event, VisitChanged | TimePassed):
        raise PlanClosed("status", "the plan is discharged; open a new plan")
    day = local_date(event.at)
    out: list[Explanation] = []
    _expire_override(w, day, out)
    if isinstance(event, ProgressReport):
        on_report(w, event, day, rs, out)
    elif isinstance(event, VisitChanged):
        on_visit(w, event, local_date, rs, out)
    elif isinstance(event, TimePassed):
        pass
    else:
        handler = ACTIONS.get(type(event))
        if handler is None:
            raise InvalidEvent("kind", f"unknown event {type(event).__name__}")
        physio_acted(w, out)
        handler(w, event, day, rs, out)
    update_flags(w, day, rs, out)
    if not out:
        out.append(Explanation("schedule.no_change", f"Time passed to {day}: nothing changed.",
                               {"date": day.isoformat()}))
    w.last_event_at = max(w.last_event_at, event.at)
    w.events += 1
    return Decision(w.events - 1, event.at, event.kind, rs.id, before, w.snapshot(), tuple(out))


def _expire_override(w: Work, day: date, out: list[Explanation]) -> None:
    override = w.override
    if override is not None and day > override.until:
        w.override = None
        out.append(Explanation("override.expired", f"The physiotherapist's override of "
                               f"{override.frequency.text()} ended on {override.until}: "
                               f"back to the computed {w.computed.text()}.",
                               {"until": override.until.isoformat(),
                                "override": override.frequency.to_dict(),
                                "computed": w.computed.to_dict()}))
