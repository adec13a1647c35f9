"""Whole clinical stories: the sequence of phases, frequencies and rules, with the numbers."""

from __future__ import annotations

import random

import pytest

from rules import DEFAULT_RULESET as RS
from rules import (
    Flag,
    InvalidHistory,
    Phase,
    ReviewReason,
    Status,
    VisitKind,
    WindowState,
    evaluate,
    fold,
    next_window,
    start,
    state_from_dict,
)

from .builders import Story, day, explanation, freq, weekdays_open


def course(story: Story) -> list[tuple[str, str, tuple[str, ...]]]:
    """(phase, frequency, rules) after every report of the story."""
    return [(str(d.after.phase), d.after.frequency.text(), d.rules)
            for d in story.decisions if d.event_kind == "report"]


def test_a_fast_responder_goes_through_all_three_phases_and_a_flare_brings_her_back():
    story = Story(pain=8, onset_weeks=2).cycle(5, 5, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 4)
    assert course(story) == [
        ("initial", "1 per week", ("initial.reduce",)),
        ("initial", "1 per week", ("initial.maintain",)),
        ("middle", "1 per 2 weeks", ("initial.advance", "middle.enter")),
        ("middle", "1 per 3 weeks", ("middle.extend",)),
        ("middle", "1 per 4 weeks", ("middle.extend",)),
        ("maintenance", "1 per 4 weeks", ("middle.extend", "middle.advance", "maintenance.enter")),
        ("maintenance", "1 per 4 weeks", ("maintenance.maintain",)),
        ("maintenance", "1 per 8 weeks", ("maintenance.extend",)),
        ("maintenance", "1 per 8 weeks", ("maintenance.maintain",)),
        ("maintenance", "1 per 12 weeks", ("maintenance.extend",)),
        ("maintenance", "1 per 12 weeks", ("maintenance.maintain",)),
        ("maintenance", "1 per 12 weeks", ("maintenance.suggest_discharge",)),
        ("middle", "1 per 2 weeks", ("maintenance.flare", "middle.enter")),
    ]
    reports = [d for d in story.decisions if d.event_kind == "report"]
    first = story.decisions[0].explanations[0].text
    assert "Starting at 2 per week: baseline pain 8 is at least 7" in first
    assert "pain 8 -> 5 (38 %" in reports[0].explanations[0].text
    assert "3 meaningful reports in a row after 3 sessions" in reports[2].explanations[0].text
    assert "pain 8 -> 3 (62 %" in reports[3].explanations[0].text
    assert "extended from 4 to 8 weeks" in reports[7].explanations[0].text
    assert "Well managed at the longest interval (12 weeks)" in reports[11].explanations[0].text
    flare = reports[12].explanations[0].text
    assert "pain 4" in flare and "lowest 2" in flare
    assert story.state.flags == () and story.state.status is Status.ACTIVE


def test_a_bad_flare_in_maintenance_falls_back_to_initial_and_the_patient_climbs_again():
    story = Story(pain=8).cycle(5, 5, 5, 2, 2, 7)
    assert course(story)[-1] == ("initial", "1 per week", ("maintenance.flare", "initial.enter"))
    assert "no longer meaningful (pain 8 -> 7 (12 %))" in story.last.explanations[0].text
    story.cycle(5, 5, 5)  # two meaningful again after a fresh count of three sessions
    assert story.state.phase is Phase.MIDDLE


def test_a_slow_responder_gets_more_frequent_visits_then_relief_reduces_them():
    story = Story(pain=6).cycle(5, 5, 5, 4, 4)
    assert course(story) == [
        ("initial", "1 per week", ("initial.maintain",)),
        ("initial", "2 per week", ("initial.increase",)),
        ("initial", "2 per week", ("initial.maintain",)),
        ("initial", "1 per week", ("initial.reduce",)),
        ("middle", "1 per 2 weeks", ("initial.advance", "middle.enter")),
    ]
    assert "already at 2 per week" in story.decisions[-5].explanations[0].text


def test_a_non_responder_is_put_on_hold_for_a_review_and_resumed_for_a_fresh_trial():
    story = Story(pain=6).cycle(6, 6, 6, 6)
    state = story.state
    assert state.status is Status.ON_HOLD and state.review_reasons == (ReviewReason.NON_RESPONDER,)
    assert "no change after 4 sessions (pain 6 -> 6 (0 %))" in story.last.explanations[-1].text
    window = next_window(state, RS, story.clock.date(), weekdays_open)
    assert window.kind is VisitKind.REVIEW
    story.cycle(3)
    assert story.last.rules == ("status.on_hold",) and story.state.status is Status.ON_HOLD
    story.resume("discussed, adding exercise")
    assert story.state.status is Status.ACTIVE and story.state.sessions_in_phase == 0
    story.cycle(4, 4, 4)
    assert story.state.phase is Phase.MIDDLE


def test_an_adverse_event_stops_needling_until_the_physiotherapist_resumes():
    story = Story(pain=7).cycle(5).session().report(5, adverse=True)
    assert story.state.status is Status.ON_HOLD
    hold_day = story.state.hold_date
    assert next_window(story.state, RS, hold_day, weekdays_open).kind is VisitKind.REVIEW
    story.time_passes(3).resume("bruising resolved")
    window = next_window(story.state, RS, story.clock.date(), weekdays_open)
    assert window.kind is VisitKind.NEEDLING and story.state.review_reasons == ()


def test_a_patient_without_consent_is_only_offered_an_assessment_until_consent():
    story = Story(pain=8, consent=False).report(8)
    assert story.state.status is Status.ASSESSMENT_PENDING
    assert next_window(story.state, RS, story.start, weekdays_open).kind is VisitKind.ASSESSMENT
    story.visit("attended", kind="assessment").consent()
    assert story.state.status is Status.ACTIVE
    window = next_window(story.state, RS, story.clock.date(), weekdays_open)
    assert window.kind is VisitKind.NEEDLING and window.earliest == story.clock.date()


def test_soreness_window_reports_are_shown_but_never_move_the_phase():
    story = Story(pain=6).cycle(4).session().report(9, hours=24).report(4, hours=72)
    assert story.decisions[-2].rules == ("report.soreness_window",)
    shown = story.decisions[-2].explanations[0].text
    assert "Recorded 24 h after the last session (under 48 h)" in shown
    assert story.state.meaningful_streak == 2 and story.state.status is Status.ACTIVE
    story.cycle(4)
    assert story.state.phase is Phase.MIDDLE


def test_prolonged_soreness_widens_the_gap_defers_the_increase_and_then_clears():
    story = Story(pain=6).cycle(5, soreness=90)
    assert story.state.min_gap_days == 4 and Flag.PROLONGED_SORENESS in story.state.flags
    window = next_window(story.state, RS, story.clock.date(), weekdays_open)
    assert "minimum gap 4" in window.reasons[0].text
    story.cycle(5)
    assert freq(story.state) == (1, 1)
    assert explanation(story.last, "safety.prolonged_soreness").inputs == {
        "deferred_rule": "initial.increase"}
    story.cycle(5, soreness=30)
    assert freq(story.state) == (2, 1) and story.state.flags == ()
    assert "Soreness 30 h is within 72 h again" in story.last.explanations[0].text


def test_an_override_holds_until_its_date_and_then_the_computed_frequency_returns():
    story = Story(pain=6).override(1, 3, until_days=20, reason="travelling abroad").cycle(5, 5)
    assert freq(story.state) == (1, 3) and story.state.computed.frequency == 2
    story.time_passes(30)
    assert story.last.rules == ("override.expired",) and freq(story.state) == (2, 1)
    text = story.last.explanations[0].text
    assert "override of 1 per 3 weeks ended on" in text and "computed 2 per week" in text


def test_no_shows_keep_the_window_anchored_and_two_in_a_row_flag_the_front_desk():
    story = Story(pain=6).cycle(5)  # session on Tuesday 4 March
    anchor = story.state.last_session_date
    story.no_show(on=day(7)).no_show(on=day(9))
    state = story.state
    assert Flag.MISSED_VISITS in state.flags and state.last_session_date == anchor
    assert "2 no-shows in a row" in story.last.explanations[0].text
    window = next_window(state, RS, day(9), weekdays_open)
    assert window.reasons[0].inputs["anchor"] == anchor.isoformat()
    assert (window.earliest, window.latest) == (day(7), day(10))  # never compressed to catch up
    assert window.state is WindowState.DUE
    assert next_window(state, RS, day(11), weekdays_open).state is WindowState.OVERDUE
    story.session()
    assert Flag.MISSED_VISITS not in story.state.flags


# -- order, replay and determinism -------------------------------------------------------------

def long_story() -> Story:
    return (Story(pain=8).cycle(5, 5).no_show().cycle(4, 3).override(2, 1, until_days=3)
            .cycle(2, 2, 2).session().report(4, hours=30).cycle(2, 2).time_passes(40).cycle(5))


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"shuffle {s}")
def test_a_shuffled_history_folds_to_the_same_state_and_decisions(seed):
    story = long_story()
    shuffled = story.events[:]
    random.Random(seed).shuffle(shuffled)
    assert fold(shuffled, RS) == story.fold()


def test_a_late_report_is_folded_in_its_place():
    story = Story(pain=6).cycle(4, 5, 4)  # the partial report in the middle breaks the run
    history = story.events[:]
    late = history.pop(-3)  # ... but it reaches the clinic only after the third session
    assert fold(history, RS).state.phase is Phase.MIDDLE  # without it: two meaningful in a row
    assert fold([*history, late], RS) == story.fold()
    assert fold([*history, late], RS).state.phase is Phase.INITIAL


def test_evaluating_event_by_event_reproduces_the_fold_and_a_late_event_needs_a_refold():
    story = long_story()
    state, _ = start(story.events[0], RS)
    decisions = []
    for event in story.events[1:]:
        state, decision = evaluate(state, event, RS)
        decisions.append(decision)
    folded = story.fold()
    assert state == folded.state and tuple(decisions) == folded.decisions[1:]
    with pytest.raises(InvalidHistory) as caught:
        evaluate(state, story.events[-2], RS)
    assert caught.value.field == "at"


def test_the_stored_state_round_trips_and_decisions_serialise():
    folded = long_story().fold()
    assert state_from_dict(folded.state.to_dict()) == folded.state
    for decision in folded.decisions:
        d = decision.to_dict()
        assert d["ruleset"] == "ims-default@1" and d["explanations"]
    assert folded.decisions[0].to_dict()["phase_before"] is None
