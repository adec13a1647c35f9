"""Property-based proofs of the invariants in rules.md, for all generated histories."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rules import (
    DEFAULT_RULESET,
    AuthorizationCleared,
    AuthorizationSet,
    CancellationReason,
    ConsentRecorded,
    Discharged,
    Flag,
    Frequency,
    Held,
    OverrideCleared,
    OverrideSet,
    Phase,
    PhaseSet,
    PlanCreated,
    ProgressReport,
    Resumed,
    Status,
    TimePassed,
    VisitChanged,
    VisitKind,
    evaluate,
    flags_on,
    fold,
    next_window,
    series,
    state_from_dict,
)

RS = DEFAULT_RULESET
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PROFILE = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])


@st.composite
def reports(draw, at: datetime, tracked: bool) -> ProgressReport:
    return ProgressReport(
        at, pain=draw(st.integers(0, 10)),
        function=draw(st.integers(0, 10)) if tracked and draw(st.booleans()) else None,
        soreness_hours=draw(st.none() | st.integers(0, 120)),
        adverse_event=draw(st.integers(0, 30)) == 0)


@st.composite
def histories(draw, max_steps: int = 30) -> list:
    """A plan, usually consented, then sessions, reports, misses and physiotherapist actions."""
    baseline_function = draw(st.none() | st.integers(0, 10))
    start = T0.date()
    events: list = [PlanCreated(T0, start_date=start,
                                onset_date=start - timedelta(days=draw(st.integers(0, 400))),
                                baseline_pain=draw(st.integers(0, 10)),
                                baseline_function=baseline_function,
                                neuropathic=draw(st.booleans()))]
    at = T0
    if draw(st.integers(0, 9)) > 0:
        at += timedelta(hours=1)
        events.append(ConsentRecorded(at, by="physio:1"))
    for i in range(draw(st.integers(0, max_steps))):
        at += timedelta(hours=draw(st.integers(1, 24 * 30)))
        kind = draw(st.sampled_from("SSSRRRRRNBATZ"))
        if kind == "S":
            events.append(VisitChanged(at, f"v{i}", "needling", "attended", at))
        elif kind == "R":
            events.append(draw(reports(at, baseline_function is not None)))
        elif kind == "N":
            status = draw(st.sampled_from(["no_show", "cancelled"]))
            reason = draw(st.none() | st.sampled_from(list(CancellationReason)))
            cancelled = status == "cancelled"
            events.append(VisitChanged(at, f"v{i}", "needling", status, at,
                                       reason if cancelled else None,
                                       not cancelled or draw(st.booleans())))
        elif kind == "Z":
            events.append(draw(authorizations(at)))
        elif kind == "B":
            events.append(VisitChanged(at, f"v{i}", "needling", "booked",
                                       at + timedelta(days=draw(st.integers(1, 30)))))
        elif kind == "T":
            events.append(TimePassed(at))
        else:
            events.append(draw(actions(at)))
    if draw(st.integers(0, 9)) == 0:
        events.append(Discharged(at + timedelta(hours=1), reason="goals met"))
    return events


@st.composite
def authorizations(draw, at: datetime):
    """A payer's authorization (rule 21), now and then cleared."""
    if draw(st.integers(0, 4)) == 0:
        return AuthorizationCleared(at, reason="patient pays privately")
    until = draw(st.none() | st.integers(-5, 90))
    return AuthorizationSet(at, draw(st.integers(1, 12)), "insurer approval",
                            at.date() + timedelta(days=until) if until is not None else None,
                            draw(st.booleans()))


@st.composite
def actions(draw, at: datetime):
    which = draw(st.sampled_from(["override", "clear", "phase", "hold", "resume"]))
    if which == "override":
        freq = Frequency(draw(st.integers(1, 3)), draw(st.integers(1, 6)), "wk")
        return OverrideSet(at, freq, at.date() + timedelta(days=draw(st.integers(0, 60))),
                           reason="physio judgement")
    if which == "clear":
        return OverrideCleared(at, reason="no longer needed")
    if which == "phase":
        return PhaseSet(at, draw(st.sampled_from(list(Phase))), reason="clinical judgement")
    return (Held if which == "hold" else Resumed)(at, reason="review")


open_days = st.sets(st.integers(0, 6), min_size=1).map(
    lambda days: (lambda d: d.weekday() in days))


def within_phase_bounds(phase: Phase, freq: Frequency) -> bool:
    if phase is Phase.INITIAL:
        return freq in (Frequency.per_week(1), Frequency.per_week(2))
    if phase is Phase.MIDDLE:
        return freq.frequency == 1 and RS.middle_start_weeks <= freq.period <= RS.middle_max_weeks
    steps = {RS.maintenance_start_weeks, *RS.maintenance_steps_weeks}
    return freq.frequency == 1 and freq.period in steps


@PROFILE
@given(histories())
def test_the_same_history_always_gives_the_same_states_and_decisions(events):
    first, second = fold(events, RS), fold(list(events), RS)
    assert first == second
    assert json.dumps([d.to_dict() for d in first.decisions]) == json.dumps(
        [d.to_dict() for d in second.decisions])


@PROFILE
@given(histories(), st.randoms())
def test_the_order_events_arrive_in_does_not_matter(events, rnd):
    shuffled = events[1:]
    rnd.shuffle(shuffled)
    assert fold([*shuffled, events[0]], RS) == fold(events, RS)


@PROFILE
@given(histories(), st.data())
def test_replaying_from_a_stored_state_equals_folding_everything(events, data):
    cut = data.draw(st.integers(1, len(events)))
    stored = json.loads(json.dumps(fold(events[:cut], RS).state.to_dict()))
    state = state_from_dict(stored)
    whole = fold(events, RS)
    for event, expected in zip(events[cut:], whole.decisions[cut:], strict=True):
        state, decision = evaluate(state, event, RS)
        assert decision == expected
    assert state == whole.state


@PROFILE
@given(histories())
def test_computed_frequency_stays_within_its_phase_bounds(events):
    for decision in fold(events, RS).decisions:
        assert within_phase_bounds(Phase(decision.after.phase), decision.after.computed_frequency)


@PROFILE
@given(histories(), open_days, st.integers(0, 200))
def test_the_window_keeps_the_minimum_gap_and_its_order_on_open_days(events, is_open, days):
    state = fold(events, RS).state
    on = T0.date() + timedelta(days=days)
    window = next_window(state, RS, on, is_open)
    if window.kind is None:
        return
    assert window.earliest <= window.target <= window.latest
    assert is_open(window.earliest) and is_open(window.target) and is_open(window.latest)
    if window.kind is VisitKind.NEEDLING and state.last_session_date is not None:
        assert (window.earliest - state.last_session_date).days >= state.min_gap_days
    for target, earliest, latest in series(state, RS, on, is_open, 5):
        assert earliest <= target <= latest and is_open(target)


@PROFILE
@given(histories(max_steps=15), open_days, st.integers(0, 200))
def test_no_needling_is_proposed_without_consent_on_hold_or_discharged(events, is_open, days):
    state = fold(events, RS).state
    window = next_window(state, RS, T0.date() + timedelta(days=days), is_open)
    if state.consent_at is None or state.status in (Status.ON_HOLD, Status.DISCHARGED):
        assert window.kind is not VisitKind.NEEDLING
    if state.status is Status.DISCHARGED:
        assert window.kind is None and series(state, RS, date(2027, 1, 1), is_open, 3) == []


@st.composite
def courses(draw) -> list:
    """A consented course of sessions and reports whose pain wanders near the baseline, so
    that every rule's threshold is often within reach of the next report."""
    baseline = draw(st.integers(2, 10))
    tracked = draw(st.booleans())
    events: list = [PlanCreated(T0, start_date=T0.date(), onset_date=T0.date(),
                                baseline_pain=baseline, baseline_function=3 if tracked else None),
                    ConsentRecorded(T0 + timedelta(hours=1))]
    at, pain = T0 + timedelta(hours=1), baseline
    report_rate = draw(st.integers(0, 4))
    for i in range(draw(st.integers(0, 20))):
        at += timedelta(days=draw(st.integers(2, 10)))
        events.append(VisitChanged(at, f"v{i}", "needling", "attended", at))
        if draw(st.integers(1, 4)) <= report_rate:
            pain = min(10, max(0, pain + draw(st.integers(-3, 2))))
            events.append(ProgressReport(at + timedelta(hours=draw(st.sampled_from([50, 100]))),
                                         pain=pain, function=min(10, max(0, 3 + baseline - pain))
                                         if tracked else None))
    return events


@st.composite
def two_reports(draw, events: list):
    """The same report twice, except that `better` shows at least as much improvement."""
    baseline = events[0].baseline_pain
    worse_pain = draw(st.integers(max(0, baseline - 5), min(10, baseline + 3)))
    better_pain = draw(st.integers(max(0, worse_pain - 3), worse_pain))
    fn = draw(st.none() | st.integers(0, 10))
    better_fn = None if fn is None else draw(st.integers(fn, min(10, fn + 3)))
    soreness = draw(st.none() | st.integers(0, 120))
    return (dict(pain=better_pain, function=better_fn, soreness_hours=soreness),
            dict(pain=worse_pain, function=fn, soreness_hours=soreness))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(max_steps=25) | courses(), st.data())
def test_more_improvement_never_proposes_more_frequent_visits(events, data):
    assume(not isinstance(events[-1], Discharged))
    gap = data.draw(st.sampled_from([10, 49, 60, 24 * 5]), label="hours after the last event")
    at = max(e.at for e in events) + timedelta(hours=gap)
    better_fields, worse_fields = data.draw(two_reports(events))
    better = fold([*events, ProgressReport(at, **better_fields)], RS).state
    worse = fold([*events, ProgressReport(at, **worse_fields)], RS).state
    if better.status is Status.ON_HOLD and worse.status is not Status.ON_HOLD:
        raise AssertionError("a better report put the plan on hold while a worse one did not")
    if better.status is Status.ACTIVE and worse.status is Status.ACTIVE:
        assert better.computed.interval >= worse.computed.interval


@PROFILE
@given(histories())
def test_every_decision_explains_itself_in_json(events):
    for decision in fold(events, RS).decisions:
        assert decision.explanations
        for explanation in decision.explanations:
            assert explanation.rule and explanation.text.strip()
        json.dumps(decision.to_dict())


# -- rules 21-23 -----------------------------------------------------------------------------------
@PROFILE
@given(histories(), st.integers(0, 200), st.integers(1, 40), open_days)
def test_no_cap_state_ever_proposes_more_visits_than_allowed(events, offset, count, is_open):
    state = fold(events, RS).state
    on = state.last_event_at.date() + timedelta(days=offset)
    items = series(state, RS, on, is_open, count)
    if state.authorization is not None:
        assert len(items) <= (state.visits_left or 0)
        until = state.authorization.valid_until
        assert until is None or all(target <= until for target, _, _ in items)
    flags = flags_on(state, RS, on)
    assert Flag.AUTHORIZATION_EXHAUSTED not in flags or Flag.AUTHORIZATION_LOW in flags


@PROFILE
@given(histories())
def test_a_cap_never_changes_the_frequency_phase_or_status(events):
    uncapped = [e for e in events if not isinstance(e, AuthorizationSet | AuthorizationCleared)]
    capped, free = fold(events, RS).state, fold(uncapped, RS).state
    assert (capped.phase, capped.status, capped.computed, capped.frequency) == (
        free.phase, free.status, free.computed, free.frequency)

