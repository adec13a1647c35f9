"""The next-visit window of rules.md: the table, the calendar, the states and the series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

import pytest

import rules
from rules import DEFAULT_RULESET as RS
from rules import (
    CalendarError,
    ConsentRecorded,
    PlanCreated,
    VisitChanged,
    VisitKind,
    WindowState,
    fold,
    next_window,
    series,
)

from .builders import START, Story, always_open, day, open_except, weekdays_open

L = START  # Monday 3 March 2025: the last session, unless a test says otherwise


def after_session(per: int = 1, weeks: int = 1, *, on: date = L, pain: int = 6) -> Story:
    """A consented plan with one session on `on`, at `per` per `weeks` (by override if needed)."""
    story = Story(pain=pain, created=on - timedelta(days=1), start=on - timedelta(days=1))
    story.session(on=on)
    if (per, weeks) != (1, 1):
        story.override(per, weeks, until_days=800)
    return story


def offsets(window, anchor: date = L) -> tuple[int, int, int]:
    return tuple((d - anchor).days for d in (window.earliest, window.target, window.latest))


# -- the table ---------------------------------------------------------------------------------

TABLE = [
    (2, 1, (3, 4, 5), "2 per week (3.5 days): +3 / +4 / +5"),
    (1, 1, (5, 7, 9), "1 per week (7 days): +5 / +7 / +9"),
    (1, 2, (10, 14, 18), "every 2 weeks: +10 / +14 / +18"),
    (1, 3, (15, 21, 27), "every 3 weeks: +15 / +21 / +27"),
    (1, 4, (21, 28, 35), "every 4 weeks: +21 / +28 / +35"),
    (1, 8, (42, 56, 70), "every 8 weeks: +42 / +56 / +70"),
    (1, 12, (63, 84, 105), "every 12 weeks: +63 / +84 / +105"),
]


@pytest.mark.parametrize("per,weeks,expected,_", TABLE, ids=[t[-1] for t in TABLE])
def test_window_offsets_follow_the_table_of_rules_md(per, weeks, expected, _):
    window = next_window(after_session(per, weeks).state, RS, L, always_open)
    assert offsets(window) == expected
    assert window.kind is VisitKind.NEEDLING and not window.extended
    assert window.interval_days == 7 * weeks / per


def test_a_computed_two_per_week_gives_the_same_window_as_the_table():
    window = next_window(after_session(pain=8).state, RS, L, always_open)
    assert offsets(window) == (3, 4, 5)


def test_the_window_explanation_states_the_offsets_and_the_minimum_gap():
    text = next_window(after_session().state, RS, L, always_open).reasons[0].text
    assert "earliest +5, target +7, latest +9" in text and "minimum gap 3" in text


@pytest.mark.parametrize("hours,expected", [(100, (5, 5, 5)), (150, (7, 7, 7)), (72, (3, 4, 5))],
                         ids=["100 h soreness: gap 5 days pushes the whole 2/wk window",
                              "150 h soreness: gap 7 days", "72 h soreness: the table"])
def test_prolonged_soreness_raises_the_minimum_gap_of_the_window(hours, expected):
    story = after_session(pain=8).report(7, hours=hours + 1, soreness=hours)
    window = next_window(story.state, RS, L, always_open)
    assert offsets(window) == expected


# -- before the first session ------------------------------------------------------------------

@pytest.mark.parametrize("pain,latest", [(8, 4), (6, 7)],
                         ids=["2 per week: latest = activation + ceil(3.5) = +4",
                              "1 per week: latest = activation + 7"])
def test_before_the_first_session_the_window_opens_on_the_activation_date(pain, latest):
    state = Story(pain=pain).state
    window = next_window(state, RS, L, always_open)
    assert offsets(window) == (0, 0, latest) and window.state is WindowState.DUE
    assert window.reasons[0].rule == "window.first_session"


def test_the_activation_date_is_the_day_consent_was_recorded():
    state = Story(consent=False).time_passes(2).consent().state
    assert offsets(next_window(state, RS, L, always_open)) == (2, 2, 9)


# -- the calendar ------------------------------------------------------------------------------

CALENDAR = [
    (day(3), 1, weekdays_open, (day(8), day(10), day(11)),
     "Thursday session, 1/wk: latest Saturday moves back to Friday"),
    (L, 1, weekdays_open, (day(7), day(7), day(9)),
     "Monday session, 1/wk: earliest Saturday moves forward to Monday"),
    (L, 1, open_except(day(7)), (day(8), day(8), day(9)),
     "closure on the Monday target: the window starts and aims at Tuesday"),
    (day(2), 1, open_except(day(9)), (day(7), day(8), day(11)),
     "Wednesday target closed: tie between Tuesday and Thursday goes earlier"),
    (L, 2, open_except(day(14), weekends=False), (day(10), day(13), day(18)),
     "every-day clinic, 2-week target closed: the earlier neighbour wins"),
]


@pytest.mark.parametrize("session,weeks,is_open,expected,_", CALENDAR,
                         ids=[c[-1] for c in CALENDAR])
def test_the_window_moves_to_open_days(session, weeks, is_open, expected, _):
    window = next_window(after_session(1, weeks, on=session).state, RS, session, is_open)
    assert (window.earliest, window.target, window.latest) == expected
    assert not window.extended and "window.calendar" in [r.rule for r in window.reasons]
    assert all(is_open(d) for d in expected)


def test_with_no_open_day_left_the_window_is_extended_to_the_first_open_day():
    closed = open_except(day(3), day(4))  # Thursday and Friday closed, then the weekend
    window = next_window(after_session(pain=8).state, RS, L, closed)
    assert window.extended and (window.earliest, window.target, window.latest) == (day(7),) * 3
    assert "window.extended" in [r.rule for r in window.reasons]


def test_a_clinic_that_is_never_open_raises_a_calendar_error():
    with pytest.raises(CalendarError) as caught:
        next_window(after_session().state, RS, L, lambda d: False)
    assert caught.value.field == "calendar"


# -- states --------------------------------------------------------------------------------

STATES = [
    (1, 1, 4, WindowState.UPCOMING, "1/wk, the day before earliest (+4): upcoming"),
    (1, 1, 5, WindowState.DUE, "1/wk, on earliest (+5): due"),
    (1, 1, 9, WindowState.DUE, "1/wk, on latest (+9): due"),
    (1, 1, 10, WindowState.OVERDUE, "1/wk, the day after latest (+10): overdue"),
    (1, 1, 16, WindowState.OVERDUE, "1/wk, latest + 7 (+16): still overdue"),
    (1, 1, 17, WindowState.LAPSED, "1/wk, after latest + 7 (+17): lapsed"),
    (1, 3, 48, WindowState.OVERDUE, "every 3 weeks, latest + 21 (+48): overdue"),
    (1, 3, 49, WindowState.LAPSED, "every 3 weeks, +49: lapsed"),
    (2, 1, 2, WindowState.UPCOMING, "2/wk, +2: upcoming"),
    (2, 1, 6, WindowState.OVERDUE, "2/wk, +6: overdue"),
]


@pytest.mark.parametrize("per,weeks,on,expected,_", STATES, ids=[s[-1] for s in STATES])
def test_window_state_at_its_boundary_dates(per, weeks, on, expected, _):
    window = next_window(after_session(per, weeks).state, RS, day(on), always_open)
    assert window.state is expected


def test_a_two_per_week_window_lapses_after_latest_plus_three_and_a_half_days():
    window = next_window(after_session(2, 1).state, RS, day(5 + 4), always_open)
    assert window.state is WindowState.LAPSED


def test_a_booked_future_visit_makes_the_window_booked():
    story = after_session().book(day(8))
    assert next_window(story.state, RS, day(6), always_open).state is WindowState.BOOKED
    assert next_window(story.state, RS, day(9), always_open).state is WindowState.DUE


def test_a_cancelled_booking_no_longer_books_the_window():
    story = after_session().book(day(8)).visit("cancelled", on=day(8), visit_id="v2")
    assert next_window(story.state, RS, day(6), always_open).state is WindowState.DUE


def test_a_discharged_plan_proposes_nothing():
    state = after_session().discharge().state
    window = next_window(state, RS, day(6), always_open)
    assert window.state is WindowState.NONE and window.kind is None and window.target is None
    assert series(state, RS, day(6), always_open, 3) == []


def test_an_expired_override_no_longer_shapes_the_window_even_before_time_passes():
    story = after_session().override(1, 4, until_days=3)
    assert offsets(next_window(story.state, RS, day(3), always_open)) == (21, 28, 35)
    assert offsets(next_window(story.state, RS, day(4), always_open)) == (5, 7, 9)


# -- series ------------------------------------------------------------------------------------

def test_a_series_chains_targets_at_the_current_frequency_on_open_days():
    items = series(after_session().state, RS, L, weekdays_open, 4)
    assert [t for t, _, _ in items] == [day(7), day(14), day(21), day(28)]
    assert all(e <= t <= lt for t, e, lt in items)


def test_a_two_per_week_series_skips_weekends():
    items = series(after_session(pain=8).state, RS, L, weekdays_open, 4)
    targets = [t for t, _, _ in items]
    assert targets == [day(4), day(8), day(11), day(15)]
    assert all(weekdays_open(t) for t in targets)


@pytest.mark.parametrize("count", [0, -1], ids=["zero items", "negative count"])
def test_an_empty_series_is_empty(count):
    assert series(after_session().state, RS, L, always_open, count) == []


def test_an_assessment_or_a_review_is_a_single_item_series():
    pending = Story(consent=False).state
    items = series(pending, RS, L, weekdays_open, 5)
    assert len(items) == 1 and next_window(pending, RS, L, weekdays_open).kind == "assessment"
    held = after_session().hold().state
    assert len(series(held, RS, L, weekdays_open, 5)) == 1


def test_windows_keep_the_minimum_gap_and_their_order_for_every_frequency_and_calendar():
    calendars = [always_open, weekdays_open, open_except(day(7), day(8), day(9))]
    for per, weeks, *_ in TABLE:
        for session in (day(0), day(3), day(4)):
            state = after_session(per, weeks, on=session).state
            for is_open in calendars:
                w = next_window(state, RS, session, is_open)
                assert (w.earliest - session).days >= state.min_gap_days
                assert w.earliest <= w.target <= w.latest


# -- clinic-local dates ------------------------------------------------------------------------

def test_the_window_is_anchored_at_the_clinic_local_date_of_the_session():
    pacific = timezone(timedelta(hours=-8))
    local = lambda t: t.astimezone(pacific).date()  # noqa: E731
    tuesday_2am_utc = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # Monday 18:00 in the clinic
    events = [PlanCreated(datetime(2025, 3, 1, 18, tzinfo=UTC), day(-2), day(-30), 6),
              ConsentRecorded(datetime(2025, 3, 1, 19, tzinfo=UTC)),
              VisitChanged(tuesday_2am_utc, "v1", "needling", "attended", tuesday_2am_utc)]
    state = fold(events, RS, local).state
    assert state.last_session_date == L and state.activation_date == day(-2)
    assert offsets(next_window(state, RS, L, always_open)) == (5, 7, 9)


@pytest.mark.parametrize(("on", "expected"), [
    pytest.param(date(2026, 11, 9), "upcoming", id="the-day-before-earliest-is-upcoming"),
    pytest.param(date(2026, 11, 10), "due", id="earliest-is-due"),
    pytest.param(date(2026, 11, 14), "due", id="latest-is-still-due"),
    pytest.param(date(2026, 11, 15), "overdue", id="the-day-after-latest-is-overdue"),
    pytest.param(date(2026, 11, 17), "overdue", id="latest-plus-floor-of-3.5-is-overdue"),
    pytest.param(date(2026, 11, 18), "lapsed", id="four-days-after-latest-at-2-a-week-lapsed"),
])
def test_window_state_at_two_a_week(on, expected):
    latest = date(2026, 11, 14)
    lapse = rules.lapse_after(latest, Fraction(7, 2))
    assert str(rules.window_state(on, date(2026, 11, 10), latest, lapse, None)) == expected


def test_a_standing_booking_wins_over_every_other_state():
    latest = date(2026, 11, 14)
    state = rules.window_state(date(2026, 12, 1), date(2026, 11, 10), latest,
                               rules.lapse_after(latest, 7), booked_until=date(2026, 12, 1))
    assert state is rules.WindowState.BOOKED
