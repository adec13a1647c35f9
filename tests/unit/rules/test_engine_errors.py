"""Bad input raises the engine's typed errors naming the field, and nothing is half-applied."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

import pytest

from rules import DEFAULT_RULESET as RS
from rules import (
    ConsentRecorded,
    Discharged,
    Frequency,
    Held,
    InvalidEvent,
    InvalidHistory,
    OverrideCleared,
    OverrideSet,
    PhaseSet,
    PlanClosed,
    PlanCreated,
    ProgressReport,
    Resumed,
    RulesError,
    TimePassed,
    UnknownEventKind,
    VisitChanged,
    evaluate,
    event_from_dict,
    fold,
    load_ruleset,
    start,
    state_from_dict,
)

from .builders import START, Story, at

NOW = at(START)
NAIVE = datetime(2025, 3, 3, 10, 0)


def field_of(make) -> str:
    with pytest.raises(RulesError) as caught:
        make()
    assert str(caught.value).startswith(f"{caught.value.field}: ")
    return caught.value.field


# -- reports -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,field", [
    ({"pain": 11}, "pain"), ({"pain": -1}, "pain"), ({"pain": "5"}, "pain"),
    ({"pain": True}, "pain"), ({"pain": 5.0}, "pain"), ({"pain": None}, "pain"),
    ({"pain": 5, "function": 11}, "function"), ({"pain": 5, "function": False}, "function"),
    ({"pain": 5, "global_change": 8}, "global_change"),
    ({"pain": 5, "global_change": -8}, "global_change"),
    ({"pain": 5, "soreness_hours": 337}, "soreness_hours"),
    ({"pain": 5, "soreness_hours": -1}, "soreness_hours"),
    ({"pain": 5, "adverse_event": "yes"}, "adverse_event"),
], ids=["pain 11", "pain -1", "pain as the string '5'", "pain True", "pain 5.0", "no pain",
        "function 11", "function False", "GROC +8", "GROC -8", "soreness 337 h",
        "negative soreness", "adverse event 'yes'"])
def test_an_out_of_range_report_is_rejected_naming_the_field(kwargs, field):
    with pytest.raises(InvalidEvent) as caught:
        ProgressReport(NOW, **kwargs)
    assert caught.value.field == field


def test_the_edges_of_each_report_range_are_accepted():
    ProgressReport(NOW, 0, 0, -7, 0)
    ProgressReport(NOW, 10, 10, 7, 336, True)


# -- datetimes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make,field", [
    (lambda: ProgressReport(NAIVE, 5), "recorded_at"),
    (lambda: ConsentRecorded(NAIVE), "at"),
    (lambda: TimePassed(NAIVE), "at"),
    (lambda: TimePassed(START), "at"),
    (lambda: VisitChanged(NOW, "v1", "needling", "attended", NAIVE), "starts_at"),
    (lambda: PlanCreated(NAIVE, START, START, 5), "at"),
    (lambda: Held(NAIVE, "away"), "at"),
], ids=["naive report time", "naive consent time", "naive time passing",
        "a date where an instant is needed", "naive visit start", "naive plan creation",
        "naive hold"])
def test_naive_datetimes_are_rejected_naming_the_field(make, field):
    assert field_of(make) == field


# -- other events ------------------------------------------------------------------------------

@pytest.mark.parametrize("make,field", [
    (lambda: PlanCreated(NOW, START, START, 11), "baseline.pain"),
    (lambda: PlanCreated(NOW, START, START, 5, 11), "baseline.function"),
    (lambda: PlanCreated(NOW, START, START + timedelta(days=1), 5), "onset_date"),
    (lambda: PlanCreated(NOW, NOW, START, 5), "start_date"),
    (lambda: PlanCreated(NOW, START, START, 5, None, "yes"), "neuropathic_symptoms"),
    (lambda: VisitChanged(NOW, "v1", "massage", "attended", NOW), "kind"),
    (lambda: VisitChanged(NOW, "v1", "needling", "late", NOW), "status"),
    (lambda: VisitChanged(NOW, " ", "needling", "attended", NOW), "visit_id"),
    (lambda: Held(NOW, ""), "reason"),
    (lambda: Resumed(NOW, "ok", by=""), "by"),
    (lambda: PhaseSet(NOW, "final", "why"), "phase"),
    (lambda: OverrideSet(NOW, Frequency(1, 1), NOW, "why"), "until"),
    (lambda: OverrideSet(NOW, {"frequency": 0, "period": 1}, START, "why"), "frequency.frequency"),
    (lambda: OverrideSet(NOW, {"frequency": 1, "period": 1, "period_unit": "mo"}, START, "w"),
     "frequency.period_unit"),
    (lambda: OverrideSet(NOW, {"frequency": 1, "period": 1, "every": 2}, START, "w"),
     "frequency.every"),
    (lambda: OverrideSet(NOW, "2/wk", START, "why"), "frequency"),
    (lambda: Frequency(True, 1), "frequency.frequency"),
    (lambda: Frequency(1, 53), "frequency.period"),
], ids=["baseline pain 11", "baseline function 11", "onset after the start",
        "a datetime for the start date", "neuropathic 'yes'", "a massage visit",
        "a 'late' visit status", "a blank visit id", "a hold without a reason", "an empty 'by'",
        "an unknown phase", "an override until a datetime", "zero visits a week",
        "a monthly unit", "an unknown frequency field", "a frequency as text",
        "True visits", "a 53-week period"])
def test_malformed_events_are_rejected_naming_the_field(make, field):
    assert field_of(make) == field


def test_an_unhashable_period_unit_is_rejected_naming_it():
    assert field_of(lambda: Frequency.from_dict(
        {"frequency": 1, "period": 1, "period_unit": []})) == "frequency.period_unit"


# -- event_from_dict ---------------------------------------------------------------------------

EVERY_KIND = [
    PlanCreated(NOW, START, START - timedelta(weeks=3), 6, 4, True),
    ConsentRecorded(NOW, by="physio"), ProgressReport(NOW, 5, 6, 2, 30, False),
    VisitChanged(NOW, "v1", "needling", "attended", NOW),
    OverrideSet(NOW, Frequency(1, 3), START, "travel", "physio"),
    OverrideCleared(NOW, "back"), PhaseSet(NOW, "middle", "why"), Held(NOW, "away"),
    Resumed(NOW, "back"), Discharged(NOW, "done"), TimePassed(NOW),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.kind)
def test_every_event_kind_round_trips_through_a_dict(event):
    assert event_from_dict(event.to_dict()) == event
    assert event_from_dict(copy.deepcopy(event.to_dict())) == event


@pytest.mark.parametrize("data,error,field", [
    ({"kind": "acupuncture", "at": NOW.isoformat()}, UnknownEventKind, "kind"),
    ({"at": NOW.isoformat()}, UnknownEventKind, "kind"),
    ("report", InvalidEvent, "event"),
    ({"kind": "report", "at": NOW.isoformat(), "pain": 5, "mood": 3}, InvalidEvent, "mood"),
    ({"kind": "report", "at": NOW.isoformat()}, InvalidEvent, "event"),
    ({"kind": "report", "at": "yesterday", "pain": 5}, InvalidEvent, "at"),
    ({"kind": "report", "at": "2025-03-03T10:00:00", "pain": 5}, InvalidEvent, "recorded_at"),
    ({"kind": "report", "at": NOW.isoformat(), "pain": 11}, InvalidEvent, "pain"),
    ({"kind": "override", "at": NOW.isoformat(), "frequency": {"frequency": 1, "period": 1},
      "until": "soon", "reason": "x"}, InvalidEvent, "until"),
], ids=["an unknown kind", "no kind", "not an object", "an unknown field", "a missing pain",
        "a date that is not ISO 8601", "a naive ISO time", "pain 11 from JSON",
        "an until that is not a date"])
def test_event_from_dict_rejects_bad_input_with_typed_errors(data, error, field):
    with pytest.raises(error) as caught:
        event_from_dict(data)
    assert caught.value.field == field


def test_an_unknown_kind_is_also_an_invalid_event():
    assert issubclass(UnknownEventKind, InvalidEvent) and issubclass(InvalidEvent, RulesError)


def test_an_unhashable_event_kind_is_an_unknown_kind():
    with pytest.raises(UnknownEventKind):
        event_from_dict({"kind": ["report"], "at": NOW.isoformat()})


# -- histories ---------------------------------------------------------------------------------

def test_a_history_without_plan_created_cannot_be_folded():
    assert field_of(lambda: fold([ConsentRecorded(NOW)], RS)) == "events"
    assert field_of(lambda: fold([], RS)) == "events"
    assert field_of(lambda: start(ConsentRecorded(NOW), RS)) == "events"


def test_a_history_with_two_plan_created_events_is_invalid():
    story = Story()
    again = PlanCreated(story.clock + timedelta(hours=1), START, START, 5)
    with pytest.raises(InvalidHistory) as caught:
        fold([*story.events, again], RS)
    assert caught.value.field == "events"


def test_a_state_folded_with_another_ruleset_is_refused():
    other = load_ruleset({**RS.to_dict(), "name": "clinic-b"})
    story = Story()
    with pytest.raises(InvalidHistory) as caught:
        evaluate(story.state, TimePassed(story.clock + timedelta(days=1)), other)
    assert caught.value.field == "ruleset"


@pytest.mark.parametrize("make", [
    lambda t: ProgressReport(t, 3), lambda t: ConsentRecorded(t), lambda t: Resumed(t, "x"),
    lambda t: Held(t, "x"), lambda t: PhaseSet(t, "initial", "x"), lambda t: Discharged(t, "x"),
    lambda t: OverrideSet(t, Frequency(1, 1), t.date() + timedelta(days=9), "x"),
], ids=["a report", "consent", "a resume", "a hold", "a phase", "a second discharge",
        "an override"])
def test_events_after_discharge_raise_plan_closed(make):
    story = Story().discharge()
    with pytest.raises(PlanClosed) as caught:
        fold([*story.events, make(story.clock + timedelta(days=1))], RS)
    assert caught.value.field == "status"


def test_visits_and_time_are_still_recorded_after_discharge():
    story = Story().discharge().session().time_passes(10)
    assert story.state.status == "discharged" and story.state.sessions_in_phase == 0
    assert story.decisions[-2].rules[-1] == "status.discharged"


def test_an_override_until_a_past_date_is_rejected_and_until_today_is_accepted():
    story = Story()
    now = story.clock + timedelta(days=2)
    with pytest.raises(InvalidEvent) as caught:
        evaluate(story.state, OverrideSet(now, Frequency(1, 1), now.date() - timedelta(days=1),
                                          "x"), RS)
    assert caught.value.field == "until"
    state, _ = evaluate(story.state, OverrideSet(now, Frequency(1, 1), now.date(), "x"), RS)
    assert state.override is not None


# -- nothing half-applied ----------------------------------------------------------------------

def test_a_failing_evaluate_leaves_the_state_exactly_as_it_was():
    story = Story().override(2, 1, until_days=3)
    state = story.state
    snapshot = state.to_dict()
    later = story.clock + timedelta(days=10)  # the override would expire before the error
    with pytest.raises(InvalidEvent):
        evaluate(state, OverrideSet(later, Frequency(1, 1), date(2025, 1, 1), "x"), RS)
    assert state.override is not None and state.to_dict() == snapshot and state == story.state


@pytest.mark.parametrize("closed", [True, False], ids=["discharged plan", "late event"])
def test_refused_events_leave_the_state_unchanged(closed):
    story = Story().cycle(4)
    if closed:
        story.discharge()
    state, before = story.state, story.state.to_dict()
    when = story.clock + (timedelta(days=1) if closed else -timedelta(days=1))
    with pytest.raises((PlanClosed, InvalidHistory)):
        evaluate(state, ProgressReport(when, 3), RS)
    assert state.to_dict() == before


def test_a_stored_state_with_a_missing_or_malformed_field_is_rejected_naming_it():
    stored = Story().state.to_dict()
    missing = {k: v for k, v in stored.items() if k != "phase"}
    assert field_of(lambda: state_from_dict(missing)) == "phase"
    assert field_of(lambda: state_from_dict({**stored, "start_date": "3 March"})) == "start_date"
    assert field_of(lambda: state_from_dict({**stored, "status": "paused"})) == "status"
