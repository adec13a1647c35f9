"""What-if replay invariants (rules.md, 'Caps, cancellations, check-ins and what-if'):
replaying the current ruleset changes nothing, and the answer never depends on how the
plans were split into chunks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rules import DEFAULT_RULESET, load_ruleset, utc_date
from scheduler.services.what_if_fold import Moment, Tally, replay_plan
from tests.unit.rules.builders import Story, weekdays_open
from tests.unit.rules.test_invariants import PROFILE, T0, histories

RS = DEFAULT_RULESET
SAME_PARAMETERS = load_ruleset({"name": "clinic-copy", "version": 7,
                                "parameters": RS.parameters()})
STRICTER = load_ruleset({"name": "ims-default", "version": 2,
                         "parameters": {**RS.parameters(), "mcid_pain_points": 3}})


def moment(as_of: datetime) -> Moment:
    return Moment(as_of, utc_date(as_of), utc_date, weekdays_open)


as_of_offsets = st.integers(0, 24 * 400).map(lambda hours: T0 + timedelta(hours=hours))


@PROFILE
@given(histories(), as_of_offsets, st.sampled_from([RS, SAME_PARAMETERS]))
def test_a_what_if_of_the_current_ruleset_changes_no_plan(events, as_of, candidate):
    tally = Tally()
    replay_plan("pln_1", events, RS, candidate, moment(as_of), tally)
    assert (tally.plans, tally.changed, tally.errors, tally.items) == (1, 0, 0, [])
    assert tally.per_week_current == tally.per_week_candidate
    assert tally.rules_current == tally.rules_candidate


@PROFILE
@given(st.lists(histories(max_steps=12), min_size=1, max_size=6), st.data())
def test_the_answer_does_not_depend_on_how_the_plans_are_chunked(stories, data):
    when = moment(T0 + timedelta(days=120))
    ids = [f"pln_{i:03d}" for i in range(len(stories))]
    whole = Tally()
    for plan_id, events in zip(ids, stories, strict=True):
        replay_plan(plan_id, events, RS, STRICTER, when, whole)
    cut = data.draw(st.integers(0, len(stories)))
    merged, tail = Tally(), Tally()
    for plan_id, events in zip(ids[:cut], stories[:cut], strict=True):
        replay_plan(plan_id, events, RS, STRICTER, when, merged)
    for plan_id, events in zip(ids[cut:], stories[cut:], strict=True):
        replay_plan(plan_id, events, RS, STRICTER, when, tail)
    merged.merge(tail)
    assert merged.summary() == whole.summary()
    assert merged.items == whole.items


def test_a_stricter_mcid_keeps_a_two_point_responder_at_twice_a_week():
    # neuropathic: 2/week; pain 6 -> 4 is 2 points and 33 %: meaningful at mcid 2 (reduced to
    # 1/week), only partial at mcid 3 (already at 2/week: kept)
    story = Story(pain=6, neuropathic=True).cycle(4)
    tally = Tally()
    replay_plan("pln_1", story.events, RS, STRICTER, moment(story.clock + timedelta(hours=1)),
                tally)
    assert (tally.plans, tally.changed) == (1, 1)
    assert (tally.per_week_current, tally.per_week_candidate) == (1, 2)
    (item,) = tally.items
    assert item["before"]["frequency"] == {"frequency": 1, "period": 1, "period_unit": "wk"}
    assert item["after"]["frequency"] == {"frequency": 2, "period": 1, "period_unit": "wk"}
    assert item["first_difference"] == {
        "position": 3, "event_kind": "report", "at": story.events[3].at.isoformat(),
        "rules": {"current": ["initial.reduce"], "candidate": ["initial.maintain"]}}


def test_a_plan_created_after_as_of_is_left_out():
    story = Story(pain=6, start=date(2025, 3, 3)).cycle(4)
    tally = Tally()
    replay_plan("pln_1", story.events, RS, STRICTER,
                moment(story.events[0].at - timedelta(seconds=1)), tally)
    assert (tally.plans, tally.changed, tally.errors) == (0, 0, 0)
