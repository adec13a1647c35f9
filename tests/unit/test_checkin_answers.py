"""The check-in page's soreness choices in hours: each lands on the side of the default
ruleset's thresholds that the soreness it names does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rules.ruleset import DEFAULT_RULESET as RS
from scheduler.services.checkin_answers import Soreness, parse, soreness_hours

NOW = datetime(2026, 11, 5, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(("choice", "hours"), [
    (Soreness.NONE, 0), (Soreness.UNDER_24_HOURS, 12), (Soreness.ONE_TO_TWO_DAYS, 36),
    (Soreness.TWO_TO_THREE_DAYS, 60), (Soreness.OVER_3_DAYS, 96)],
    ids=["none", "under-24-hours", "1-2-days", "2-3-days", "more-than-3-days"])
def test_each_choice_is_the_middle_of_its_range(choice, hours):
    assert soreness_hours(choice, NOW - timedelta(days=9), NOW) == hours


def test_the_choices_fall_on_the_right_side_of_the_rules_thresholds():
    def h(choice: Soreness) -> int:
        value = soreness_hours(choice, None, NOW)
        assert value is not None
        return value

    assert h(Soreness.ONE_TO_TWO_DAYS) <= RS.increase_soreness_max_hours  # an increase may go
    assert RS.increase_soreness_max_hours < h(Soreness.TWO_TO_THREE_DAYS)
    assert h(Soreness.TWO_TO_THREE_DAYS) <= RS.max_expected_soreness_hours  # not prolonged
    assert h(Soreness.OVER_3_DAYS) > RS.max_expected_soreness_hours  # prolonged (rule 3)


@pytest.mark.parametrize(("since", "hours"), [
    (timedelta(hours=80, minutes=59), 80), (timedelta(days=30), 336), (timedelta(hours=-1), 0)],
    ids=["whole-hours", "capped-at-336", "clock-skew-is-zero"])
def test_still_sore_is_the_whole_hours_since_the_session(since, hours):
    assert soreness_hours(Soreness.STILL_SORE, NOW - since, NOW) == hours


def test_still_sore_without_a_session_and_no_answer_are_unknown():
    assert soreness_hours(Soreness.STILL_SORE, None, NOW) is None
    assert soreness_hours(None, NOW, NOW) is None


def test_answers_are_trimmed_and_blank_ones_left_out():
    answers = parse({"pain": " 3 ", "function": "", "soreness": "", "notes": "  ",
                     "adverse_event_note": ""}, tracks_function=True)
    assert (answers.pain, answers.function, answers.soreness, answers.adverse_event,
            answers.adverse_event_note, answers.notes) == (3, None, None, False, None, None)
