"""The derived facts of one report (rules.md 'Derived facts on each report'), at their edges."""

from __future__ import annotations

import pytest

from rules import DEFAULT_RULESET, ProgressReport
from rules.classify import Reading

from .builders import START, Story, at, explanation


def read(pain, baseline=8, *, function=None, baseline_function=None, lowest=None, hours=None):
    report = ProgressReport(at(START), pain, function)
    return Reading(report, baseline, baseline_function, lowest, hours, DEFAULT_RULESET)


def label(r: Reading) -> str:
    return r.label


# (baseline, pain, function baseline, function, expected label)
RESPONSES = [
    (8, 6, None, None, "partial"),
    (8, 5, None, None, "meaningful"),
    (10, 7, None, None, "meaningful"),
    (10, 8, None, None, "partial"),
    (7, 5, None, None, "partial"),
    (6, 4, None, None, "meaningful"),
    (3, 1, None, None, "meaningful"),
    (2, 1, None, None, "partial"),
    (1, 0, None, None, "partial"),
    (0, 0, None, None, "no change"),
    (8, 7, None, None, "partial"),
    (8, 8, None, None, "no change"),
    (8, 9, None, None, "no change"),
    (8, 10, None, None, "worse"),
    (5, 7, None, None, "worse"),
    (5, 6, None, None, "no change"),
    (6, 6, 3, 5, "meaningful"),
    (6, 6, 3, 4, "partial"),
    (6, 7, 3, 6, "partial"),
    (6, 8, 3, 5, "partial"),
    (6, 8, 3, 3, "worse"),
    (6, 6, None, 9, "no change"),
    (6, 6, 3, None, "no change"),
    (6, 5, 5, 4, "partial"),
]
RESPONSE_IDS = [
    "pain 8->6 is 2 points but 25%: not meaningful, partial",
    "pain 8->5 is 3 points and 38%: meaningful",
    "pain 10->7 is exactly 3 points and 30%: meaningful",
    "pain 10->8 is 2 points but 20%: partial",
    "pain 7->5 is 2 points but 29%: partial",
    "pain 6->4 is exactly 2 points and 33%: meaningful",
    "pain 3->1 is 2 points and 67%: meaningful",
    "pain 2->1 is 50% but 1 point: partial",
    "pain 1->0 is 100% but 1 point: partial",
    "baseline 0 has relative drop 0: no change",
    "pain 8->7 one point: partial",
    "pain 8->8: no change",
    "pain 8->9 one point above baseline: no change, not worse",
    "pain 8->10 two points above baseline: worse",
    "pain 5->7 exactly baseline+2: worse",
    "pain 5->6 baseline+1: no change",
    "function 3->5 (+2) with pain unchanged: meaningful",
    "function 3->4 (+1) with pain unchanged: partial",
    "function 3->6 (+3) but pain 6->7 worse than baseline: partial, not meaningful",
    "function +2 with pain baseline+2: partial beats worse",
    "function unchanged and pain baseline+2: worse",
    "function on the report only is not tracked: no change",
    "function at baseline only is not tracked: no change",
    "function 5->4 (-1) with pain 6->5: partial on pain",
]


@pytest.mark.parametrize("baseline,pain,fb,fn,expected", RESPONSES, ids=RESPONSE_IDS)
def test_response_label(baseline, pain, fb, fn, expected):
    assert label(read(pain, baseline, function=fn, baseline_function=fb)) == expected


def test_relative_drop_is_zero_when_the_baseline_is_zero():
    r = read(0, 0)
    assert r.relative == 0 and r.drop == 0 and not r.substantial


@pytest.mark.parametrize("baseline,pain,expected", [
    (8, 4, True), (8, 5, False), (6, 3, True), (7, 4, False), (7, 3, True), (10, 5, True),
], ids=["8->4 is 50%: substantial", "8->5 is 38%: not substantial", "6->3 exactly 50%",
        "7->4 is 43%: not substantial", "7->3 is 57%: substantial", "10->5 exactly 50%"])
def test_substantial_is_a_relative_drop_of_at_least_half(baseline, pain, expected):
    assert read(pain, baseline).substantial is expected


@pytest.mark.parametrize("pain,fb,fn,expected", [
    (2, None, None, True), (3, None, None, False), (0, None, None, True),
    (2, 4, 8, True), (2, 4, 7, False), (1, 4, 10, True), (3, 4, 9, False),
    (2, 4, None, True),
], ids=["pain 2 untracked function: well managed", "pain 3: not well managed",
        "pain 0: well managed", "pain 2 and function 8: well managed",
        "pain 2 but function 7: not well managed", "pain 1 and function 10: well managed",
        "function 9 but pain 3: not well managed",
        "function not reported this time: judged on pain alone"])
def test_well_managed_needs_low_pain_and_good_function_when_tracked(pain, fb, fn, expected):
    assert read(pain, 8, function=fn, baseline_function=fb).well_managed is expected


@pytest.mark.parametrize("lowest,pain,hours,expected", [
    (2, 4, None, True), (2, 3, None, False), (0, 2, None, True), (None, 10, None, False),
    (2, 5, 47.9, False), (2, 5, 48.0, True), (2, 5, 100.0, True),
], ids=["lowest 2, pain 4 = lowest+2: flare", "lowest 2, pain 3: no flare",
        "lowest 0, pain 2: flare", "no lowest yet: never a flare",
        "47.9 h after a session: in the soreness window, not a flare",
        "exactly 48 h after: read, a flare", "100 h after: a flare"])
def test_flare_is_pain_at_least_two_above_the_phases_lowest(lowest, pain, hours, expected):
    assert read(pain, 8, lowest=lowest, hours=hours).flare is expected


@pytest.mark.parametrize("hours,expected", [
    (None, False), (0.0, True), (47.9, True), (47.999, True), (48.0, False), (72.0, False),
], ids=["no session yet", "right after the session", "47.9 h", "47.999 h",
        "exactly 48 h is outside", "72 h"])
def test_soreness_window_is_less_than_48_hours_after_the_last_session(hours, expected):
    assert read(5, hours=hours).in_window is expected


def test_a_report_in_the_soreness_window_is_never_worse():
    assert not read(10, 8, hours=24).worse
    assert read(10, 8, hours=48).worse


def test_meaningful_partial_and_no_change_are_exclusive_for_every_pain_and_baseline():
    for baseline in range(11):
        for pain in range(11):
            r = read(pain, baseline)
            assert [r.meaningful, r.partial, r.no_change].count(True) == 1
            assert not r.worse or r.no_change


# -- the same facts as the engine states them in its explanations ----------------------------

def test_the_engine_states_the_response_and_drop_in_the_explanation_inputs():
    story = Story(pain=8).cycle(6)
    inputs = explanation(story.last, "initial.maintain").inputs
    assert inputs["response"] == "partial"
    assert (inputs["baseline_pain"], inputs["pain"], inputs["pain_drop"]) == (8, 6, 2)
    assert inputs["relative_drop"] == 0.25


def test_the_engine_reports_function_inputs_when_function_is_tracked():
    story = Story(pain=6, function=3).cycle(6, function=5)
    inputs = explanation(story.last, "initial.maintain").inputs
    assert inputs["response"] == "meaningful"
    assert (inputs["baseline_function"], inputs["function"], inputs["function_gain"]) == (3, 5, 2)
