"""Rule 24, the scheduler's `checkin.suggested`: once per session, only once the session is
`checkin_after_hours` old (never inside the soreness window), never after a report, only for
an active plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from scheduler.jobs import tasks
from scheduler.jobs.checkins import run_checkin_suggestions
from scheduler.services import rulesets
from tests import builders

EVENT = "checkin.suggested"


@pytest.fixture
def clinic_id(uow_factory, now) -> str:
    return builders.clinic(uow_factory, now).id


def suggested(uow_factory, plan_id: str) -> list[dict]:
    return [e.payload for e in builders.outbox(uow_factory, plan_id) if e.type == EVENT]


def test_a_session_72_hours_old_is_suggested_once(uow_factory, clinic_id, now):
    session_at = now - timedelta(hours=72)
    plan = builders.plan_with_session(uow_factory, clinic_id, now, session_at)
    hook = builders.subscribe(uow_factory, clinic_id, "https://booking.example/h", now,
                              events=(EVENT,))
    assert run_checkin_suggestions(uow_factory, now) == 1
    assert run_checkin_suggestions(uow_factory, now + timedelta(hours=1)) == 0
    assert run_checkin_suggestions(uow_factory, now + timedelta(days=5)) == 0
    assert suggested(uow_factory, plan.id) == [{
        "plan_id": plan.id, "patient_id": plan.patient_id, "clinic_id": clinic_id,
        "session_at": session_at.isoformat(), "checkin_after_hours": 72}]
    assert [d.event_type for d in builders.deliveries(uow_factory, hook.webhook.id)] == [EVENT]


def test_not_inside_the_soreness_window_nor_before_checkin_after_hours(uow_factory, clinic_id,
                                                                        now):
    plan = builders.plan_with_session(uow_factory, clinic_id, now, now - timedelta(hours=24))
    for hours in (0, 24, 47, 71):  # the session is 24..71 h old
        assert run_checkin_suggestions(uow_factory, now + timedelta(hours=hours - 24)) == 0
        assert not suggested(uow_factory, plan.id), hours
    assert run_checkin_suggestions(uow_factory, now + timedelta(hours=47, minutes=59)) == 0
    assert run_checkin_suggestions(uow_factory, now + timedelta(hours=48)) == 1


def test_not_after_a_report_since_the_session(uow_factory, clinic_id, now):
    session_at = now - timedelta(hours=80)
    plan = builders.plan_with_session(uow_factory, clinic_id, now, session_at)
    builders.report(uow_factory, plan.id, now, recorded_at=session_at + timedelta(hours=30),
                    pain=4)
    assert run_checkin_suggestions(uow_factory, now) == 0
    assert not suggested(uow_factory, plan.id)


def test_a_report_before_the_session_does_not_count(uow_factory, clinic_id, now):
    session_at = now - timedelta(hours=80)
    plan = builders.plan_with_session(uow_factory, clinic_id, now, session_at)
    builders.report(uow_factory, plan.id, now, recorded_at=session_at - timedelta(hours=2),
                    pain=4)
    assert run_checkin_suggestions(uow_factory, now) == 1


def test_not_for_a_plan_on_hold_or_discharged(uow_factory, clinic_id, now):
    held = builders.plan_with_session(uow_factory, clinic_id, now, now - timedelta(hours=90), 1)
    builders.act(uow_factory, held.id, "hold", now)
    discharged = builders.plan_with_session(uow_factory, clinic_id, now,
                                            now - timedelta(hours=90), 2)
    builders.act(uow_factory, discharged.id, "discharge", now)
    assert run_checkin_suggestions(uow_factory, now) == 0
    builders.act(uow_factory, held.id, "resume", now + timedelta(minutes=1))
    assert run_checkin_suggestions(uow_factory, now + timedelta(minutes=2)) == 1
    assert len(suggested(uow_factory, held.id)) == 1 and not suggested(uow_factory,
                                                                       discharged.id)


def test_each_new_session_is_suggested_once_more(uow_factory, clinic_id, now):
    plan = builders.plan_with_session(uow_factory, clinic_id, now, now - timedelta(hours=72))
    assert run_checkin_suggestions(uow_factory, now) == 1
    later = now + timedelta(days=4)
    builders.visit(uow_factory, plan.id, later, external_id="V-2",
                   starts_at=later - timedelta(hours=1))
    assert run_checkin_suggestions(uow_factory, later) == 0  # the new session is 1 h old
    assert run_checkin_suggestions(uow_factory, later + timedelta(hours=71)) == 1
    assert [p["session_at"] for p in suggested(uow_factory, plan.id)] == [
        (now - timedelta(hours=72)).isoformat(), (later - timedelta(hours=1)).isoformat()]


def test_a_booked_or_non_needling_visit_is_not_a_session(uow_factory, clinic_id, now):
    plan = builders.plan(uow_factory, now - timedelta(days=10), clinic_id, "MRN-X")
    builders.visit(uow_factory, plan.id, now, external_id="V-A", kind="assessment",
                   starts_at=now - timedelta(days=5))
    builders.visit(uow_factory, plan.id, now, external_id="V-B", status="no_show",
                   starts_at=now - timedelta(days=4))
    assert run_checkin_suggestions(uow_factory, now) == 0


def test_the_rulesets_own_checkin_after_hours_is_used(uow_factory, now):
    body = rulesets.example_body()
    body["parameters"] = {**body["parameters"], "checkin_after_hours": 120}
    made = rulesets.add_ruleset(uow_factory(), {**body, "name": "slow", "version": 1},
                                actor=builders.ACTOR, now=now)
    slow = builders.clinic(uow_factory, now, name="Slow", ruleset=made["id"])
    plan = builders.plan_with_session(uow_factory, slow.id, now, now - timedelta(hours=100))
    assert run_checkin_suggestions(uow_factory, now) == 0
    assert run_checkin_suggestions(uow_factory, now + timedelta(hours=20)) == 1
    assert suggested(uow_factory, plan.id)[0]["checkin_after_hours"] == 120


def test_the_scheduler_task_runs_it_on_its_clock(uow_factory, clinic_id, now):
    plan = builders.plan_with_session(uow_factory, clinic_id, now, now - timedelta(hours=73))
    tasks.configure(tasks.Runtime(uow_factory=uow_factory, clock=lambda: datetime.now(UTC),
                                  instance_id="t", started_at=now))
    try:
        with freeze_time(now):
            tasks.checkin_job()
    finally:
        tasks._runtime = None
    assert len(suggested(uow_factory, plan.id)) == 1
    assert tasks.JOBS["checkins"][0] == "scheduler.jobs.tasks:checkin_job"
