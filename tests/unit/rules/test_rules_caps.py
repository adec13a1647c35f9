"""Rules 21-23 (rules.md 'Caps, cancellations, check-ins and what-if'), case by case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules import (
    DEFAULT_RULESET,
    Flag,
    InvalidEvent,
    VisitChanged,
    authorization_flags,
    flags_on,
    next_check,
    next_window,
    series,
)
from tests.unit.rules.builders import Story, always_open, at, explanation

RS = DEFAULT_RULESET
ON = date(2026, 3, 2)


# -- rule 21: the flags ---------------------------------------------------------------------------
@pytest.mark.parametrize(("left", "until", "expected"), [
    pytest.param(10, None, (), id="ten-visits-left-no-end-date-is-fine"),
    pytest.param(3, None, (), id="three-left-is-above-the-warning"),
    pytest.param(2, None, ("authorization_low",), id="two-left-is-low-as-webpt-warns"),
    pytest.param(1, None, ("authorization_low",), id="one-left-is-low"),
    pytest.param(0, None, ("authorization_exhausted", "authorization_low"),
                 id="none-left-is-exhausted"),
    pytest.param(10, ON + timedelta(days=8), (), id="expiring-in-eight-days-is-fine"),
    pytest.param(10, ON + timedelta(days=7), ("authorization_low",),
                 id="expiring-within-seven-days-is-low"),
    pytest.param(10, ON, ("authorization_low",), id="expiring-today-is-low-not-exhausted"),
    pytest.param(10, ON - timedelta(days=1), ("authorization_exhausted", "authorization_low"),
                 id="expired-yesterday-is-exhausted"),
    pytest.param(None, None, (), id="no-authorization-no-flags"),
])
def test_authorization_flags_on_the_clinics_today(left, until, expected):
    assert tuple(str(f) for f in sorted(authorization_flags(left, until, ON, RS))) == expected


def test_attended_visits_of_any_kind_count_since_the_authorization_was_set():
    story = Story(pain=8).session().authorize(5).session().visit(kind="review")
    assert story.state.visits_left == 3
    assert len(story.state.authorized_visits) == 2  # the session before it does not count


def test_a_no_show_counts_only_when_the_payer_counts_no_shows():
    assert Story(pain=8).authorize(5).no_show().state.visits_left == 5
    assert Story(pain=8).authorize(5, no_shows=True).no_show().state.visits_left == 4


def test_a_corrected_visit_is_counted_once():
    story = Story(pain=8).authorize(5)
    story.visit("attended", visit_id="A-1").visit("attended", visit_id="A-1")
    assert story.state.visits_left == 4
    story.visit("cancelled", visit_id="A-1")  # the booking system corrects it
    assert story.state.visits_left == 5


def test_the_third_last_visit_flags_the_authorization_low_and_explains_it():
    story = Story(pain=8).authorize(4).cycle(3).session()
    decision = story.last
    assert Flag.AUTHORIZATION_LOW in decision.after.flags
    assert "2 of 4 visit(s) left" in explanation(decision, "authorization.low").text


def test_using_the_last_visit_exhausts_it_but_never_changes_the_frequency():
    capped = Story(pain=8).authorize(2).session().session()
    free = Story(pain=8).session().session()
    assert Flag.AUTHORIZATION_EXHAUSTED in capped.state.flags
    assert capped.state.frequency == free.state.frequency
    window = next_window(capped.state, RS, capped.next_day(), always_open)
    assert window.earliest is not None  # still proposed: the patient may pay privately
    assert "exhausted" in [r for r in window.reasons if r.rule == "authorization.exhausted"][0].text


def test_the_date_alone_makes_an_authorization_low_and_then_exhausted():
    story = Story(pain=8).authorize(10, until_days=30)
    state = story.state
    today = story.clock.date()
    assert flags_on(state, RS, today) == ()
    assert next_check(state, RS) == today + timedelta(days=23)
    assert flags_on(state, RS, today + timedelta(days=23)) == ("authorization_low",)
    assert flags_on(state, RS, today + timedelta(days=31)) == (
        "authorization_exhausted", "authorization_low")
    story.time_passes(24)
    assert Flag.AUTHORIZATION_LOW in story.state.flags
    assert next_check(story.state, RS) == today + timedelta(days=31)


def test_the_series_stops_at_the_visits_left_and_at_valid_until():
    story = Story(pain=8).authorize(3).session()
    assert len(series(story.state, RS, story.next_day(), always_open, 10)) == 2
    story = Story(pain=8).authorize(50, until_days=20).session()
    items = series(story.state, RS, story.next_day(), always_open, 10)
    until = story.state.authorization.valid_until
    assert items and all(target <= until for target, _, _ in items)
    assert len(items) < 10


def test_clearing_the_authorization_lifts_the_cap_and_its_flags():
    story = Story(pain=8).authorize(1).session().clear_authorization()
    assert story.state.authorization is None and story.state.visits_left is None
    assert not {Flag.AUTHORIZATION_LOW, Flag.AUTHORIZATION_EXHAUSTED} & set(story.state.flags)


def test_a_new_authorization_starts_counting_again():
    story = Story(pain=8).authorize(2).session().session().authorize(6)
    assert story.state.visits_left == 6
    assert Flag.AUTHORIZATION_EXHAUSTED not in story.state.flags


# -- rule 22: cancellation reasons -----------------------------------------------------------------
def test_feeling_better_asks_for_a_report_and_the_report_clears_it():
    story = Story(pain=8).session().cancel(reason="feeling_better")
    assert Flag.CHECKIN_SUGGESTED in story.state.flags
    assert "feels better" in explanation(story.last, "visit.cancelled_reason").text
    story.report(4)
    assert Flag.CHECKIN_SUGGESTED not in story.state.flags


def test_condition_worse_suggests_a_review_without_putting_the_plan_on_hold():
    story = Story(pain=8).session().cancel(reason="condition_worse")
    assert Flag.REVIEW_SUGGESTED in story.state.flags
    assert str(story.state.status) == "active"
    assert story.state.review_reasons == ()


def test_a_physiotherapists_action_answers_condition_worse():
    story = Story(pain=8).session().cancel(reason="condition_worse").override(2, 1, 14)
    assert Flag.REVIEW_SUGGESTED not in story.state.flags


@pytest.mark.parametrize("reason", ["sick", "away", "work", "other"])
def test_neutral_reasons_are_recorded_and_change_nothing_else(reason):
    with_reason = Story(pain=8).session().cancel(reason=reason)
    plain = Story(pain=8).session().cancel()
    assert with_reason.state.flags == plain.state.flags == ()
    assert with_reason.state.frequency == plain.state.frequency
    assert reason.replace("_", " ") in explanation(with_reason.last,
                                                   "visit.cancelled_reason").inputs[
        "cancellation_reason"].replace("_", " ")


def test_a_cancellation_neither_counts_as_nor_breaks_a_run_of_no_shows():
    story = Story(pain=8).session().no_show().cancel(reason="sick").no_show()
    assert Flag.MISSED_VISITS in story.state.flags


@pytest.mark.parametrize("status", ["booked", "attended", "no_show"])
def test_a_reason_on_anything_but_a_cancellation_is_refused(status):
    with pytest.raises(InvalidEvent) as raised:
        VisitChanged(at(ON), "v1", "needling", status, at(ON), "sick")
    assert raised.value.field == "cancellation_reason"


def test_an_unknown_reason_is_refused_naming_the_field():
    with pytest.raises(InvalidEvent) as raised:
        VisitChanged(at(ON), "v1", "needling", "cancelled", at(ON), "bored")
    assert raised.value.field == "cancellation_reason"


# -- rule 23: a declined reschedule ----------------------------------------------------------------
def test_no_reschedule_snoozes_outreach_until_the_windows_latest_day():
    story = Story(pain=8).session().cancel(reschedule=False)
    window = next_window(story.state, RS, story.clock.date(), always_open)
    assert window.snoozed_until == window.latest
    after = next_window(story.state, RS, window.latest + timedelta(days=1), always_open)
    assert after.snoozed_until is None


def test_a_new_booking_ends_the_snooze():
    story = Story(pain=8).session().cancel(reschedule=False)
    story.book(story.next_day() + timedelta(days=2))
    assert story.state.outreach_snoozed is False


def test_declining_a_reschedule_on_a_visit_that_was_not_cancelled_is_refused():
    with pytest.raises(InvalidEvent) as raised:
        VisitChanged(at(ON), "v1", "needling", "attended", at(ON), None, False)
    assert raised.value.field == "needs_reschedule"
