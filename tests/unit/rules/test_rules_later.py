"""Rules 4 and 11-20 of rules.md at their edges: middle, maintenance, visits and overrides."""

from __future__ import annotations

import pytest

from rules import DEFAULT_RULESET as RS
from rules import Flag, Phase, Status, next_window

from .builders import Story, explanation, freq, weekdays_open


def in_middle(pain: int = 8) -> Story:
    """Baseline `pain` (2/wk), three meaningful reports at 5 (or 6 from 10): middle at 2 weeks."""
    story = Story(pain=pain).cycle(*[5 if pain < 10 else 6] * 3)
    assert story.state.phase is Phase.MIDDLE and freq(story.state) == (1, 2)
    return story


def in_maintenance() -> Story:
    """Baseline 8; middle, then two well-managed reports at pain 2: maintenance at 4 weeks."""
    story = in_middle().cycle(2, 2)
    assert story.state.phase is Phase.MAINTENANCE and freq(story.state) == (1, 4)
    assert story.state.lowest_pain_in_phase == 2
    return story


# -- rules 11-15: middle phase -----------------------------------------------------------------

MIDDLE = [
    ([], "middle", 2, "middle.enter", "entry: every 2 weeks"),
    ([5], "middle", 2, "middle.maintain", "8->5 (38%) not substantial: interval kept"),
    ([4], "middle", 3, "middle.extend", "8->4 (50%) substantial, pain below previous 5: 3 weeks"),
    ([4, 4], "middle", 4, "middle.extend", "substantial twice: 4 weeks"),
    ([4, 4, 4], "middle", 4, "middle.extend", "a third time: stays at the 4-week limit"),
    ([3, 4], "middle", 3, "middle.maintain", "substantial 4 but higher than previous 3: kept"),
    ([6], "initial", 1, "middle.regress", "8->6 no longer meaningful: back to initial 1/wk"),
    ([7], "initial", 1, "middle.regress", "8->7 partial: back to initial at 1/wk"),
    ([2], "middle", 3, "middle.extend", "one well-managed report: stays in middle"),
    ([2, 2], "maintenance", 4, "maintenance.enter", "two well-managed reports: maintenance"),
    ([2, 3, 2], "middle", 4, "middle.extend", "well managed, not, well managed: stays"),
]


@pytest.mark.parametrize("pains,phase,weeks,rule,_", MIDDLE, ids=[c[-1] for c in MIDDLE])
def test_middle_phase_rules(pains, phase, weeks, rule, _):
    story = in_middle().cycle(*pains)
    state = story.state
    assert state.phase == phase and rule in story.last.rules
    assert freq(state) == ((1, 1) if phase == "initial" else (1, weeks))


def test_middle_extend_explains_the_relief_and_the_new_interval():
    text = explanation(in_middle().cycle(4).last, "middle.extend").text
    assert "8 -> 4 (50 %" in text and "extended from 2 to 3 weeks" in text


def test_middle_regress_seeds_the_initial_phase_with_the_regressing_pain():
    state = in_middle().cycle(7).state
    assert state.lowest_pain_in_phase == 7 and state.sessions_in_phase == 0


def flare_story():
    """Baseline 10; middle from pain 6; 3 and 3 extend to 4 weeks (lowest 3)."""
    story = in_middle(10).cycle(3, 3)
    assert freq(story.state) == (1, 4) and story.state.lowest_pain_in_phase == 3
    return story


SHORTEN = [
    ([4], 4, "middle.maintain", "pain 4 is lowest+1: not a flare, kept"),
    ([5], 3, "middle.shorten", "pain 5 = lowest+2, still meaningful: 4 -> 3 weeks"),
    ([5, 5], 2, "middle.shorten", "substantial flare, no higher than before: shortened"),
    ([5, 5, 5], 2, "middle.shorten", "third flare: stays at the 2-week floor"),
    ([8], 1, "middle.regress", "pain 8 (20%) a flare no longer meaningful: back to initial"),
]


@pytest.mark.parametrize("pains,weeks,rule,_", SHORTEN, ids=[c[-1] for c in SHORTEN])
def test_middle_shorten(pains, weeks, rule, _):
    story = flare_story().cycle(*pains)
    assert rule in story.last.rules and "middle.extend" not in story.last.rules
    assert story.state.frequency.period == weeks


def test_middle_shorten_explains_the_flare_against_the_lowest():
    text = explanation(flare_story().cycle(5).last, "middle.shorten").text
    assert "pain 5" in text and "lowest 3" in text and "shortened from 4 to 3 weeks" in text


def test_a_report_in_the_soreness_window_never_moves_the_middle_phase():
    story = in_middle().session().report(8, hours=47.9)
    assert story.state.phase is Phase.MIDDLE and story.last.rules == ("report.soreness_window",)


@pytest.mark.parametrize("build,pain,deferred", [
    (in_middle, 7, "middle.regress"), (flare_story, 5, "middle.shorten"),
], ids=["no longer meaningful with 80 h soreness: regress to initial deferred",
        "a meaningful flare with 80 h soreness: shorter interval deferred"])
def test_prolonged_soreness_defers_every_increase_in_the_middle_phase(build, pain, deferred):
    story = build()
    before = story.state
    story.session().report(pain, soreness=80)
    d = [e for e in story.last.explanations if e.inputs.get("deferred_rule") == deferred]
    assert d and d[0].rule == "safety.prolonged_soreness"
    assert story.state.phase is Phase.MIDDLE and story.state.frequency == before.frequency
    assert deferred not in story.last.rules


# -- rules 16-19: maintenance ------------------------------------------------------------------

MAINTENANCE = [
    ([2], 4, "maintenance.maintain", "one well-managed report: kept at 4 weeks"),
    ([2, 2], 8, "maintenance.extend", "two well-managed: 4 -> 8 weeks"),
    ([2, 2, 2], 8, "maintenance.maintain", "third report counts afresh after the change"),
    ([2, 2, 2, 2], 12, "maintenance.extend", "two more: 8 -> 12 weeks"),
    ([2, 3, 2], 4, "maintenance.maintain", "pain 3 between breaks the run: kept"),
    ([0, 2], 4, "middle.enter", "lowest 0 then 2 is a meaningful flare: back to middle"),
]


@pytest.mark.parametrize("pains,weeks,rule,_", MAINTENANCE, ids=[c[-1] for c in MAINTENANCE])
def test_maintenance_steps(pains, weeks, rule, _):
    story = in_maintenance().cycle(*pains)
    assert rule in story.last.rules
    assert freq(story.state) == ((1, 2) if rule == "middle.enter" else (1, weeks))


def test_maintenance_extend_explains_the_step():
    text = explanation(in_maintenance().cycle(2, 2).last, "maintenance.extend").text
    assert "extended from 4 to 8 weeks" in text


FLARES = [
    (3, "maintenance", (1, 4), "pain 3 = lowest+1: not a flare"),
    (4, "middle", (1, 2), "pain 4 = lowest+2, 50% below baseline: to middle at 2 weeks"),
    (5, "middle", (1, 2), "pain 5, 38%: still meaningful, to middle"),
    (6, "initial", (1, 1), "pain 6, 25%: no longer meaningful, to initial at 1/wk"),
    (10, "initial", (1, 1), "pain 10: to initial at 1/wk"),
]


@pytest.mark.parametrize("pain,phase,after,_", FLARES, ids=[c[-1] for c in FLARES])
def test_maintenance_flare(pain, phase, after, _):
    story = in_maintenance().cycle(pain)
    assert story.state.phase == phase and freq(story.state) == after
    assert ("maintenance.flare" in story.last.rules) is (phase != "maintenance")
    if phase != "maintenance":
        assert story.state.lowest_pain_in_phase == pain


def test_a_maintenance_flare_with_prolonged_soreness_is_deferred():
    story = in_maintenance().session().report(6, soreness=90)
    assert story.state.phase is Phase.MAINTENANCE
    assert story.last.explanations[-1].inputs["deferred_rule"] == "maintenance.flare"


def test_discharge_is_suggested_at_the_longest_step_never_automatic():
    story = in_maintenance().cycle(2, 2, 2, 2)
    assert freq(story.state) == (1, 12) and Flag.DISCHARGE_SUGGESTED not in story.state.flags
    story.cycle(2)
    assert Flag.DISCHARGE_SUGGESTED not in story.state.flags
    story.cycle(2)
    assert "maintenance.suggest_discharge" in story.last.rules
    assert Flag.DISCHARGE_SUGGESTED in story.state.flags and story.state.status is Status.ACTIVE


@pytest.mark.parametrize("pain,kept", [(2, True), (3, False), (4, False)],
                         ids=["still well managed: kept", "pain 3: suggestion withdrawn",
                              "a flare to middle: suggestion withdrawn"])
def test_the_discharge_suggestion_lasts_while_well_managed(pain, kept):
    story = in_maintenance().cycle(2, 2, 2, 2, 2, 2).cycle(pain)
    assert (Flag.DISCHARGE_SUGGESTED in story.state.flags) is kept


# -- rule 20: visit.no_show --------------------------------------------------------------------

NO_SHOWS = [
    (["no_show"], False, "one no-show: no flag"),
    (["no_show", "no_show"], True, "two no-shows in a row: missed_visits"),
    (["cancelled", "cancelled", "cancelled"], False, "cancellations are not no-shows"),
    (["no_show", "attended", "no_show"], False, "an attended session resets the run"),
    (["no_show", "no_show", "attended"], False, "attending clears the flag"),
]


@pytest.mark.parametrize("visits,flagged,_", NO_SHOWS, ids=[c[-1] for c in NO_SHOWS])
def test_visit_no_show(visits, flagged, _):
    story = Story(pain=6).session()
    for status in visits:
        story.visit(status)
    assert (Flag.MISSED_VISITS in story.state.flags) is flagged


def test_a_no_show_earns_no_session_credit_and_keeps_the_window_anchor():
    story = Story(pain=6).session()
    anchor = story.state.last_session_date
    story.no_show().cancel()
    state = story.state
    assert state.sessions_in_phase == 1 and state.last_session_date == anchor
    assert "no progress credit" in story.last.explanations[0].text
    window = next_window(state, RS, anchor, weekdays_open)
    assert window.reasons[0].inputs["anchor"] == anchor.isoformat()


def test_an_attended_review_between_two_no_shows_breaks_the_run():
    story = Story(pain=6).session().no_show().visit("attended", kind="review").no_show()
    assert Flag.MISSED_VISITS not in story.state.flags


# -- rule 4: override.in_force -----------------------------------------------------------------

def test_an_override_wins_while_the_rules_still_run_beside_it():
    story = Story(pain=6).override(2, 1, until_days=30).cycle(5, 5)
    state = story.state
    assert freq(state) == (2, 1) and state.override is not None
    inputs = explanation(story.last, "override.in_force").inputs
    assert inputs["override"]["frequency"] == 2 and inputs["computed"]["frequency"] == 2
    assert story.state.computed.frequency == 2  # initial.increase ran underneath


def test_an_override_below_the_computed_frequency_is_kept_beside_it():
    story = Story(pain=8).override(1, 2, until_days=30, reason="holiday").cycle(6)
    text = explanation(story.last, "override.in_force").text
    assert "1 per 2 weeks" in text and "holiday" in text and "computed 2 per week" in text


@pytest.mark.parametrize("days,in_force", [(13, True), (14, True), (15, False)],
                         ids=["day before until: in force", "on the until date: in force",
                              "the day after until: expired"])
def test_an_override_lasts_through_its_until_date(days, in_force):
    story = Story(pain=6).override(1, 3, until_days=14).time_passes(days)
    assert (story.state.override is not None) is in_force
    assert ("override.expired" in story.last.rules) is (not in_force)
    assert freq(story.state) == ((1, 3) if in_force else (1, 1))


def test_a_cleared_override_returns_to_the_computed_frequency():
    story = Story(pain=6).override(2, 1, until_days=30).clear_override()
    assert story.state.override is None and freq(story.state) == (1, 1)
    assert "override.cleared" in story.last.rules
