"""Event sourcing holds: folding a plan's stored events with rules.fold reproduces the stored
state JSON and every stored decision exactly, also after late reports were folded in."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.services import plans, reports, visits
from tests.integration.plan_builders import ACTOR, a_plan, replay, stored


def report(uow_factory, plan_id: str, at: datetime, pain: int, now: datetime, **extra):
    return reports.record_report(uow_factory(), plan_id, recorded_at=at, pain=pain, actor=ACTOR,
                                 now=now, **extra)


def test_a_plan_with_a_late_report_replays_to_its_stored_state(uow_factory, now):
    plan = a_plan(uow_factory, now)
    day = timedelta(days=1)
    for n, pain in enumerate((7, 5, 4)):
        at = now + (3 * n + 1) * day
        visits.record_visit(uow_factory(), plan.id, external_id=f"V{n}", kind="needling",
                            starts_at=at, status="attended", actor=ACTOR, now=at)
        report(uow_factory, plan.id, at + day, pain, at + day, function=5, soreness_hours=24)
    late_now = now + 12 * day
    report(uow_factory, plan.id, now + 3 * day, 6, late_now)  # between sessions 1 and 2
    found = stored(uow_factory, plan.id)
    folded = replay(found)
    assert folded.state.to_dict() == found["state"]
    positions = {position: payload for _, position, payload in found["decisions"]}
    assert positions == {d.seq: d.to_dict() for d in folded.decisions}
    assert found["version"] == 1 + 7


def test_actions_and_overrides_replay_too(uow_factory, now):
    plan = a_plan(uow_factory, now)
    later = now + timedelta(days=2)
    plans.act(uow_factory(), plan.id, {"action": "override",
                                       "frequency": {"frequency": 1, "period": 1,
                                                     "period_unit": "wk"},
                                       "until": (now + timedelta(days=20)).date(),
                                       "reason": "travel"},
              expected_version=None, actor=ACTOR, now=later)
    plans.act(uow_factory(), plan.id, {"action": "hold", "reason": "imaging"},
              expected_version=None, actor=ACTOR, now=later + timedelta(hours=1))
    report(uow_factory, plan.id, now + timedelta(days=1), 6, later + timedelta(hours=2))
    plans.act(uow_factory(), plan.id, {"action": "resume", "reason": "clear"},
              expected_version=None, actor=ACTOR, now=later + timedelta(days=1))
    found = stored(uow_factory, plan.id)
    assert replay(found).state.to_dict() == found["state"]
    assert [kind for _, _, kind, _ in found["events"]][-1] == "resume"


def test_every_report_points_at_its_own_stored_event(uow_factory, now):
    plan = a_plan(uow_factory, now)
    for n in range(3):
        report(uow_factory, plan.id, now - timedelta(hours=n), 6 - n, now + timedelta(hours=n))
    found = stored(uow_factory, plan.id)
    event_ids = {eid for eid, _, kind, _ in found["events"] if kind == "report"}
    assert {eid for _, eid in found["reports"]} == event_ids and len(event_ids) == 3
    assert {eid for eid, _, _ in found["decisions"]} == {e[0] for e in found["events"]}
