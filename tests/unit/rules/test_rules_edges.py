"""Rules 1-10 of rules.md at their edges: consent, safety, starting frequency, initial phase."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules import DEFAULT_RULESET as RS
from rules import Flag, PlanCreated, ReviewReason, Status, VisitKind, next_window, start

from .builders import START, Story, at, day, explanation, freq, weekdays_open

# -- rule 5: initial.start ---------------------------------------------------------------------

STARTS = [
    (6, 28, False, 1, "pain 6, onset 4 weeks, no neuropathy: 1 per week"),
    (7, 28, False, 2, "pain 7 is severe: 2 per week"),
    (10, 0, False, 2, "pain 10 with onset today: 2 per week"),
    (6, 83, False, 1, "onset 11 weeks 6 days: not yet chronic, 1 per week"),
    (6, 84, False, 2, "onset exactly 12 weeks: chronic, 2 per week"),
    (0, 400, False, 2, "pain 0 but onset 57 weeks: chronic, 2 per week"),
    (3, 7, True, 2, "burning/tingling (neuropathic) pain 3: 2 per week"),
]


@pytest.mark.parametrize("pain,onset_days,neuro,per_week,_", STARTS, ids=[s[-1] for s in STARTS])
def test_initial_start(pain, onset_days, neuro, per_week, _):
    state, decision = start(PlanCreated(at(START), START, START - timedelta(days=onset_days),
                                        pain, None, neuro), RS)
    assert freq(state) == (per_week, 1)
    assert decision.rules == ("initial.start", "consent.required")
    assert explanation(decision, "initial.start").inputs["frequency"]["frequency"] == per_week


def test_initial_start_says_why_in_words_with_the_numbers():
    _, decision = start(PlanCreated(at(START), START, START - timedelta(weeks=20), 8, None, True),
                        RS)
    text = explanation(decision, "initial.start").text
    assert "Starting at 2 per week" in text and "baseline pain 8 is at least 7" in text
    assert "20 weeks" in text and "neuropathic" in text


# -- rule 1: consent.required ------------------------------------------------------------------

def test_without_consent_the_plan_awaits_assessment_and_no_needling_is_proposed():
    story = Story(consent=False)
    assert story.state.status is Status.ASSESSMENT_PENDING
    window = next_window(story.state, RS, day(0), weekdays_open)
    assert window.kind is VisitKind.ASSESSMENT


def test_a_report_before_consent_is_stored_but_not_read_as_a_response():
    story = Story(pain=6, consent=False).report(3)
    assert story.last.rules == ("consent.required",)
    assert story.state.reports_in_phase == 0 and story.state.status is Status.ASSESSMENT_PENDING


def test_consent_activates_the_plan_and_needling_is_proposed_from_its_date():
    story = Story(consent=False).time_passes(2).consent()
    assert story.state.status is Status.ACTIVE and story.state.activation_date == day(2)
    assert story.last.rules == ("consent.recorded",)
    window = next_window(story.state, RS, day(2), weekdays_open)
    assert window.kind is VisitKind.NEEDLING and window.earliest == day(2)


def test_consent_recorded_before_the_plan_start_activates_on_the_start_date():
    story = Story(consent=False, created=day(0), start=day(7)).consent()
    assert story.state.activation_date == day(7)


# -- rule 2: safety.adverse_event --------------------------------------------------------------

def adverse_story():
    return Story(pain=6).cycle(4).session().report(5, adverse=True)


def test_an_adverse_event_puts_the_plan_on_hold_for_a_review():
    story = adverse_story()
    state = story.state
    assert state.status is Status.ON_HOLD and state.review_reasons == (ReviewReason.ADVERSE_EVENT,)
    assert "safety.adverse_event" in story.last.rules
    window = next_window(state, RS, state.hold_date, weekdays_open)
    assert window.kind is VisitKind.REVIEW and window.earliest == state.hold_date


@pytest.mark.parametrize("then", [
    lambda s: s.report(2, hours=96), lambda s: s.consent(), lambda s: s.time_passes(30),
    lambda s: s.session(), lambda s: s.set_phase("middle"),
], ids=["a good report", "consent again", "a month passing", "an attended session",
        "a phase set by the physiotherapist"])
def test_only_a_resume_lifts_an_adverse_event_hold(then):
    state = then(adverse_story()).state
    assert state.status is Status.ON_HOLD and state.review_required


def test_a_resume_lifts_the_hold_clears_the_review_and_restarts_the_phase_counters():
    story = adverse_story().resume("needle site checked")
    state = story.state
    assert state.status is Status.ACTIVE and state.review_reasons == ()
    assert state.sessions_in_phase == 0 and state.meaningful_streak == 0
    assert "adverse_event" in explanation(story.last, "action.resume").text


def test_an_adverse_event_before_consent_holds_and_a_resume_returns_to_assessment():
    story = Story(consent=False).report(5, adverse=True)
    assert story.state.status is Status.ON_HOLD
    assert story.resume().state.status is Status.ASSESSMENT_PENDING


# -- rule 3: safety.prolonged_soreness ---------------------------------------------------------

SORENESS = [
    (72, False, 3, "72 h is the expected limit: no flag, gap 3"),
    (73, True, 4, "73 h: flagged, gap ceil(73/24)=4 days"),
    (96, True, 4, "96 h: gap exactly 4 days"),
    (97, True, 5, "97 h: gap ceil(97/24)=5 days"),
    (336, True, 14, "two weeks of soreness: gap 14 days"),
]


@pytest.mark.parametrize("hours,flagged,gap,_", SORENESS, ids=[s[-1] for s in SORENESS])
def test_prolonged_soreness_flags_and_raises_the_gap(hours, flagged, gap, _):
    story = Story(pain=6).cycle(4, soreness=hours)
    state = story.state
    assert (Flag.PROLONGED_SORENESS in state.flags) is flagged
    assert state.min_gap_days == gap
    assert ("safety.prolonged_soreness" in story.last.rules) is flagged


def test_prolonged_soreness_explains_the_hours_and_the_gap():
    text = explanation(Story(pain=6).cycle(4, soreness=100).last, "safety.prolonged_soreness").text
    assert "100 h" in text and "72 h" in text and "5 days" in text


def test_a_later_report_within_72_hours_of_soreness_clears_the_flag_and_the_gap():
    story = Story(pain=6).cycle(4, soreness=100).cycle(4, soreness=72)
    assert Flag.PROLONGED_SORENESS not in story.state.flags and story.state.min_gap_days == 3


def test_a_later_report_without_soreness_keeps_the_flag():
    story = Story(pain=6).cycle(4, soreness=100).cycle(4)
    assert Flag.PROLONGED_SORENESS in story.state.flags and story.state.min_gap_days == 5


def test_prolonged_soreness_still_allows_a_reduction():
    story = Story(pain=8).cycle(5, soreness=100)
    assert freq(story.state) == (1, 1) and "initial.reduce" in story.last.rules


# -- rule 6: initial.reduce --------------------------------------------------------------------

@pytest.mark.parametrize("pain,after,rule", [
    (6, (2, 1), "initial.maintain"), (5, (1, 1), "initial.reduce"), (0, (1, 1), "initial.reduce"),
], ids=["8->6 (25%) at 2/wk: not significant relief, kept at 2/wk",
        "8->5 (38%) at 2/wk: reduced to 1/wk", "8->0 at 2/wk: reduced to 1/wk"])
def test_initial_reduce(pain, after, rule):
    story = Story(pain=8).cycle(pain)
    assert freq(story.state) == after and rule in story.last.rules


def test_initial_reduce_explains_the_numbers():
    text = explanation(Story(pain=8).cycle(5).last, "initial.reduce").text
    assert "8 -> 5" in text and "38 %" in text and "from 2 per week to 1 per week" in text


def test_a_meaningful_report_at_one_per_week_keeps_the_frequency():
    story = Story(pain=6).cycle(4)
    assert freq(story.state) == (1, 1) and story.last.rules[-1] == "initial.maintain"


# -- rule 7: initial.increase ------------------------------------------------------------------

INCREASES = [
    ([5], {}, (1, 1), "initial.maintain", "partial after 1 session: kept (needs 2)"),
    ([5, 5], {}, (2, 1), "initial.increase", "partial after 2 sessions: raised to 2/wk"),
    ([6, 6], {}, (2, 1), "initial.increase", "no change after 2 sessions: raised too"),
    ([5, 4], {}, (1, 1), "initial.maintain", "meaningful after 2 sessions: kept at 1/wk"),
    ([5, 5], {"soreness": 48}, (2, 1), "initial.increase", "soreness 48 h: still raised"),
    ([5, 5], {"soreness": 49}, (1, 1), "initial.maintain", "soreness 49 h: kept"),
]


@pytest.mark.parametrize("pains,kw,after,rule,_", INCREASES, ids=[c[-1] for c in INCREASES])
def test_initial_increase(pains, kw, after, rule, _):
    story = Story(pain=6).cycle(*pains, **kw)
    assert freq(story.state) == after and rule in story.last.rules
    assert ("initial.increase" in story.last.rules) is (rule == "initial.increase")


def test_initial_increase_explains_slower_progress_with_numbers():
    text = explanation(Story(pain=6).cycle(5, 5).last, "initial.increase").text
    assert "6 -> 5" in text and "2 sessions" in text and "from 1 per week to 2 per week" in text


def test_a_standing_prolonged_soreness_flag_forbids_the_increase():
    story = Story(pain=6).cycle(5, soreness=80).cycle(5)
    assert freq(story.state) == (1, 1)
    deferral = [e for e in story.last.explanations if e.rule == "safety.prolonged_soreness"]
    assert deferral and deferral[0].inputs["deferred_rule"] == "initial.increase"
    assert "initial.increase" not in story.last.rules


def test_once_the_soreness_flag_is_cleared_the_increase_is_allowed_again():
    story = Story(pain=6).cycle(5, soreness=80).cycle(5, soreness=24)
    assert freq(story.state) == (2, 1) and "initial.increase" in story.last.rules


# -- rule 8: initial.advance -------------------------------------------------------------------

ADVANCES = [
    ([4, 4], "initial", "two meaningful after 2 sessions: stays (needs 3 sessions)"),
    ([4, 4, 4], "middle", "meaningful 3 times after 3 sessions: to the middle phase"),
    ([5, 4, 4], "middle", "partial then two meaningful after 3 sessions: to middle"),
    ([4, 5, 4], "initial", "one meaningful at session 3 after a partial: stays"),
    ([5, 5, 5, 5, 4], "initial", "a single good report after 5 sessions never moves a phase"),
]


@pytest.mark.parametrize("pains,phase,_", ADVANCES, ids=[c[-1] for c in ADVANCES])
def test_initial_advance(pains, phase, _):
    story = Story(pain=6).cycle(*pains)
    assert story.state.phase == phase
    assert ("initial.advance" in story.last.rules) is (phase == "middle")


def test_initial_advance_enters_middle_at_two_weeks_seeded_with_the_moving_pain():
    story = Story(pain=6).cycle(4, 4, 3)
    state = story.state
    assert freq(state) == (1, 2) and state.lowest_pain_in_phase == 3
    assert state.sessions_in_phase == 0 and story.last.rules[-1] == "middle.enter"
    assert "3 meaningful reports in a row after 3 sessions" in story.last.explanations[-2].text


# -- rule 9: initial.worse ---------------------------------------------------------------------

@pytest.mark.parametrize("pain,hours,held", [
    (6, 72, False), (7, 72, True), (10, 72, True), (9, 47.9, False), (7, 48, True),
], ids=["baseline 5, pain 6 (+1): not worse", "pain 7 (+2): worse, on hold",
        "pain 10: worse, on hold", "pain 9 at 47.9 h: soreness window, not worse",
        "pain 7 at exactly 48 h: worse"])
def test_initial_worse(pain, hours, held):
    story = Story(pain=5).session().report(pain, hours=hours)
    assert (story.state.status is Status.ON_HOLD) is held
    assert (story.state.review_reasons == (ReviewReason.WORSENING,)) is held
    assert ("initial.worse" in story.last.rules) is held


def test_initial_worse_explains_the_numbers():
    text = explanation(Story(pain=5).cycle(8).last, "initial.worse").text
    assert "5 -> 8" in text and "2 points above" in text


# -- rule 10: initial.non_responder ------------------------------------------------------------

NON_RESPONDERS = [
    ([6, 6, 6], False, "no change after 3 sessions: still active"),
    ([6, 6, 6, 6], True, "no change after 4 sessions: non-responder"),
    ([6, 6, 6, 5], False, "partial at session 4: not yet"),
    ([5, 5, 5, 5, 5], False, "partial for 5 sessions: not yet"),
    ([5, 5, 5, 5, 5, 5], True, "6 sessions without a meaningful report: non-responder"),
    ([4, 5, 5, 5, 5, 5], False, "6 sessions, one meaningful early on: still active"),
]


@pytest.mark.parametrize("pains,held,_", NON_RESPONDERS, ids=[c[-1] for c in NON_RESPONDERS])
def test_initial_non_responder(pains, held, _):
    story = Story(pain=6).cycle(*pains)
    assert (story.state.status is Status.ON_HOLD) is held
    assert ("initial.non_responder" in story.last.rules) is held
    if held:
        assert story.state.review_reasons == (ReviewReason.NON_RESPONDER,)
        assert next_window(story.state, RS, story.clock.date(), weekdays_open).kind == "review"


def test_non_responder_text_counts_the_sessions():
    story = Story(pain=6).cycle(5, 5, 5, 5, 5, 5)
    assert "no meaningful report in 6 sessions" in explanation(story.last,
                                                               "initial.non_responder").text
