"""Helpers that write a plan's history as a clinical story.

    story = Story(pain=8).cycle(5, 4, 3)      # consented; three sessions, each read 72 h later
    story.state.phase, story.last.rules       # folded state and the last decision

Every story keeps a clock and refuses to go back in time, so histories are strictly ordered.
Dates are real calendar dates: START is Monday 3 March 2025; times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rules import (
    DEFAULT_RULESET,
    AuthorizationCleared,
    AuthorizationSet,
    ConsentRecorded,
    Decision,
    Discharged,
    Fold,
    Frequency,
    Held,
    OverrideCleared,
    OverrideSet,
    PhaseSet,
    PlanCreated,
    PlanState,
    ProgressReport,
    Resumed,
    TimePassed,
    VisitChanged,
    fold,
)

START = date(2025, 3, 3)  # a Monday


def day(offset: int, base: date = START) -> date:
    """The date `offset` days after the plan start (START)."""
    return base + timedelta(days=offset)


def at(d: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC)


def weekdays_open(d: date) -> bool:
    return d.weekday() < 5


def always_open(d: date) -> bool:
    return True


def open_except(*closed: date, weekends: bool = True):
    """An open-day predicate: weekdays (or every day) open, except the given closures."""
    shut = set(closed)

    def is_open(d: date) -> bool:
        return d not in shut and (not weekends or d.weekday() < 5)
    return is_open


class Story:
    """A plan history built event by event, folded on demand."""

    def __init__(self, *, pain: int = 6, function: int | None = None, onset_weeks: int = 4,
                 neuropathic: bool = False, start: date = START, consent: bool = True,
                 created: date | None = None, ruleset=DEFAULT_RULESET) -> None:
        self.ruleset = ruleset
        self.start = start
        self.clock = at(created or start, 8)
        self.last_session: datetime | None = None
        self._visits = 0
        self.events: list = [PlanCreated(self.clock, start, start - timedelta(weeks=onset_weeks),
                                         pain, function, neuropathic)]
        if consent:
            self.consent()

    # -- time ------------------------------------------------------------------------------
    def _tick(self, when: datetime | None = None) -> datetime:
        when = when or self.clock + timedelta(minutes=1)
        assert when > self.clock, f"story goes back in time: {when} <= {self.clock}"
        self.clock = when
        return when

    def add(self, event) -> Story:
        self.events.append(event)
        return self

    def next_day(self) -> date:
        return self.clock.date() + timedelta(days=1)

    # -- physiotherapist actions -----------------------------------------------------------
    def consent(self) -> Story:
        return self.add(ConsentRecorded(self._tick(), by="physio"))

    def override(self, per: int, weeks: int, until_days: int, reason: str = "travel") -> Story:
        now = self._tick()
        return self.add(OverrideSet(now, Frequency(per, weeks), now.date() +
                                    timedelta(days=until_days), reason, by="physio"))

    def clear_override(self, reason: str = "back to plan") -> Story:
        return self.add(OverrideCleared(self._tick(), reason, by="physio"))

    def set_phase(self, phase: str, reason: str = "clinical judgement") -> Story:
        return self.add(PhaseSet(self._tick(), phase, reason, by="physio"))

    def hold(self, reason: str = "patient away") -> Story:
        return self.add(Held(self._tick(), reason, by="physio"))

    def resume(self, reason: str = "reviewed") -> Story:
        return self.add(Resumed(self._tick(), reason, by="physio"))

    def discharge(self, reason: str = "goals met") -> Story:
        return self.add(Discharged(self._tick(), reason, by="physio"))

    def time_passes(self, days: int) -> Story:
        return self.add(TimePassed(self._tick(self.clock + timedelta(days=days))))

    # -- visits and reports ----------------------------------------------------------------
    def visit(self, status: str = "attended", *, on: date | None = None, kind: str = "needling",
              visit_id: str | None = None, recorded: datetime | None = None,
              reason: str | None = None, reschedule: bool = True) -> Story:
        """A visit on `on` (default: the day after the clock) at 10:00."""
        self._visits += 1
        starts = at(on or self.next_day())
        now = self._tick(recorded or max(starts, self.clock + timedelta(minutes=1)))
        if status == "attended" and kind == "needling":
            self.last_session = starts
        return self.add(VisitChanged(now, visit_id or f"v{self._visits}", kind, status, starts,
                                     reason, reschedule))

    def session(self, on: date | None = None) -> Story:
        return self.visit("attended", on=on)

    def no_show(self, on: date | None = None) -> Story:
        return self.visit("no_show", on=on)

    def cancel(self, on: date | None = None, reason: str | None = None,
               reschedule: bool = True) -> Story:
        return self.visit("cancelled", on=on, reason=reason, reschedule=reschedule)

    def authorize(self, visits: int, *, until_days: int | None = None, no_shows: bool = False,
                  payer: str | None = "Pacific Blue Cross") -> Story:
        """A payer's authorization of `visits` visits, until `until_days` after today."""
        now = self._tick()
        until = now.date() + timedelta(days=until_days) if until_days is not None else None
        return self.add(AuthorizationSet(now, visits, "insurer approval", until, no_shows, payer,
                                         by="front-desk"))

    def clear_authorization(self) -> Story:
        return self.add(AuthorizationCleared(self._tick(), "patient pays privately"))

    def book(self, on: date, kind: str = "needling") -> Story:
        return self.visit("booked", on=on, kind=kind, recorded=self.clock + timedelta(minutes=1))

    def report(self, pain: int, hours: float = 72, *, function: int | None = None,
               soreness: int | None = None, groc: int | None = None,
               adverse: bool = False) -> Story:
        """A report `hours` after the last session (or after the clock when none)."""
        anchor = self.last_session or self.clock
        return self.add(ProgressReport(self._tick(anchor + timedelta(hours=hours)), pain, function,
                                       groc, soreness, adverse))

    def cycle(self, *pains: int, **report) -> Story:
        """For each pain: a needling session the next day, then a report 72 h after it."""
        for pain in pains:
            self.session()
            self.report(pain, **report)
        return self

    # -- results ---------------------------------------------------------------------------
    def fold(self) -> Fold:
        return fold(self.events, self.ruleset)

    @property
    def state(self) -> PlanState:
        return self.fold().state

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return self.fold().decisions

    @property
    def last(self) -> Decision:
        return self.fold().decisions[-1]


def explanation(decision: Decision, rule: str):
    """The explanation `rule` of a decision (fails the test when the rule did not fire)."""
    found = [e for e in decision.explanations if e.rule == rule]
    assert found, f"{rule} not in {decision.rules}"
    return found[0]


def freq(state_or_snapshot) -> tuple[int, int]:
    """(visits, weeks) of the frequency in force: (2, 1) is 2 per week, (1, 3) every 3 weeks."""
    f = state_or_snapshot.frequency
    assert f.period_unit == "wk"
    return f.frequency, f.period
