"""Event sourcing holds: folding a plan's stored events with rules.fold reproduces the stored
state JSON and every stored decision exactly, also after late reports were folded in."""

from __future__ import annotations

from datetime import timedelta

from tests import builders
from tests.builders import act, replay, report, stored


def test_a_plan_with_a_late_report_replays_to_its_stored_state(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    day = timedelta(days=1)
    for n, pain in enumerate((7, 5, 4)):
        at = now + (3 * n + 1) * day
        builders.visit(uow_factory, plan.id, at, external_id=f"V{n}", starts_at=at)
        report(uow_factory, plan.id, at + day, recorded_at=at + day, pain=pain, function=5,
               soreness_hours=24)
    late_now = now + 12 * day
    # between sessions 1 and 2
    report(uow_factory, plan.id, late_now, recorded_at=now + 3 * day, pain=6)
    found = stored(uow_factory, plan.id)
    folded = replay(found)
    assert folded.state.to_dict() == found["state"]
    positions = {position: payload for _, position, payload in found["decisions"]}
    assert positions == {d.seq: d.to_dict() for d in folded.decisions}
    assert found["version"] == 1 + 7


def test_actions_and_overrides_replay_too(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    later = now + timedelta(days=2)
    act(uow_factory, plan.id, "override", later, reason="travel",
        frequency={"frequency": 1, "period": 1, "period_unit": "wk"},
        until=(now + timedelta(days=20)).date())
    act(uow_factory, plan.id, "hold", later + timedelta(hours=1), reason="imaging")
    report(uow_factory, plan.id, later + timedelta(hours=2), recorded_at=now + timedelta(days=1),
           pain=6)
    act(uow_factory, plan.id, "resume", later + timedelta(days=1), reason="clear")
    found = stored(uow_factory, plan.id)
    assert replay(found).state.to_dict() == found["state"]
    assert [kind for _, _, kind, _ in found["events"]][-1] == "resume"


def test_every_report_points_at_its_own_stored_event(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    for n in range(3):
        report(uow_factory, plan.id, now + timedelta(hours=n),
               recorded_at=now - timedelta(hours=n), pain=6 - n)
    found = stored(uow_factory, plan.id)
    event_ids = {eid for eid, _, kind, _ in found["events"] if kind == "report"}
    assert {eid for _, eid in found["reports"]} == event_ids and len(event_ids) == 3
    assert {eid for eid, _, _ in found["decisions"]} == {e[0] for e in found["events"]}
