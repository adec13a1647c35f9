"""The nightly pass, through the job function APScheduler calls, under freezegun."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from scheduler.db import utcnow
from scheduler.jobs import tasks
from scheduler.jobs.nightly import clinics_due
from scheduler.models import ClinicNightly, Plan
from scheduler.services import plans as plan_service
from tests import builders
from tests.builders import act, events_of, local, plan_with_session

VAN = "America/Vancouver"


@pytest.fixture
def configured(uow_factory):
    tasks.configure(tasks.Runtime(uow_factory, utcnow, "test-scheduler", datetime.now(UTC)))
    yield
    tasks.configure(None)  # type: ignore[arg-type]


def passes(uow_factory) -> list[tuple[str, date]]:
    with uow_factory() as uow:
        return list(uow.session.execute(select(ClinicNightly.clinic_id, ClinicNightly.local_date)
                                        .order_by(ClinicNightly.local_date)).all())


def test_a_week_of_nights_marks_due_then_overdue_once_each(uow_factory, configured):
    monday = date(2026, 11, 16)
    setup_at = local(monday, 12, 0, VAN)
    kits = builders.clinic(uow_factory, setup_at)
    plan = plan_with_session(uow_factory, kits.id, setup_at, setup_at - timedelta(hours=2))
    # 1 per week after Monday the 16th: earliest Fri 21 -> Mon 23, target Mon 23, latest Wed 25
    assert (plan.next_visit["earliest"], plan.next_visit["latest"]) == (date(2026, 11, 23),
                                                                       date(2026, 11, 25))
    for offset in range(1, 18):
        night = local(monday + timedelta(days=offset), 3, 45, VAN)
        with freeze_time(night):
            tasks.nightly_job()
            tasks.nightly_job()  # a second run the same night finds nothing to do
    assert [d for _, d in passes(uow_factory)] == [monday + timedelta(days=o)
                                                    for o in range(1, 18)]
    assert [e for e in events_of(uow_factory, plan.id) if e[0].startswith("followup")] == [
        ("followup.due", "2026-11-23"), ("followup.overdue", "2026-11-26")]
    with uow_factory() as uow:
        row = uow.session.get(Plan, plan.id)
        assert (row.window_state, row.nightly_date) == ("lapsed", date(2026, 12, 3))


@pytest.mark.parametrize(("day", "before", "after"), [
    (date(2027, 3, 14), datetime(2027, 3, 14, 10, 29, tzinfo=UTC),
     datetime(2027, 3, 14, 10, 30, tzinfo=UTC)),   # spring forward: 03:30 PDT = 10:30 UTC
    (date(2026, 11, 1), datetime(2026, 11, 1, 11, 29, tzinfo=UTC),
     datetime(2026, 11, 1, 11, 30, tzinfo=UTC)),   # fall back: 03:30 PST = 11:30 UTC
], ids=["spring-forward", "fall-back"])
def test_the_pass_starts_at_0330_local_on_daylight_saving_days(uow_factory, configured, day,
                                                               before, after):
    kits = builders.clinic(uow_factory, before - timedelta(days=3))
    with freeze_time(before):
        assert (kits.id, day) not in clinics_due(uow_factory(), utcnow())
        tasks.nightly_job()
    assert passes(uow_factory) == []
    for moment in (after, after + timedelta(minutes=15), after + timedelta(hours=5)):
        with freeze_time(moment):
            tasks.nightly_job()
    assert passes(uow_factory) == [(kits.id, day)]


def test_each_clinic_runs_in_its_own_time_zone(uow_factory, configured):
    start = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
    van = builders.clinic(uow_factory, start, name="Vancouver")
    tokyo = builders.clinic(uow_factory, start, name="Tokyo", timezone="Asia/Tokyo",
                            holiday_region="JP")
    expected = []
    for moment, ran in [
        (datetime(2026, 11, 20, 11, 29, tzinfo=UTC), (tokyo.id, date(2026, 11, 20))),
        (datetime(2026, 11, 20, 11, 30, tzinfo=UTC), (van.id, date(2026, 11, 20))),  # 03:30 PST
        (datetime(2026, 11, 20, 18, 29, tzinfo=UTC), None),  # 03:29 in Tokyo on the 21st
        (datetime(2026, 11, 20, 18, 30, tzinfo=UTC), (tokyo.id, date(2026, 11, 21))),
    ]:
        with freeze_time(moment):
            tasks.nightly_job()
        expected += [ran] if ran else []
        assert sorted(passes(uow_factory)) == sorted(expected), moment


def test_a_window_on_a_holiday_or_closure_comes_due_on_the_next_open_day(uow_factory,
                                                                          configured):
    # Session Wed 4 Nov, 1/week: earliest Mon 9 is a clinic closure -> Tue 10; the target
    # Wed 11 is Remembrance Day (BC statutory holiday) -> Tue 10 (a tie goes earlier);
    # latest Fri 13. Due on the 10th, overdue on Saturday the 14th.
    setup_at = local(date(2026, 11, 4), 12, 0, VAN)
    kits = builders.clinic(uow_factory, setup_at, closures=[date(2026, 11, 9)])
    plan = plan_with_session(uow_factory, kits.id, setup_at, setup_at - timedelta(hours=1))
    assert (plan.next_visit["earliest"], plan.next_visit["target"],
            plan.next_visit["latest"]) == (date(2026, 11, 10), date(2026, 11, 10),
                                           date(2026, 11, 13))
    for day in range(5, 16):
        with freeze_time(local(date(2026, 11, day), 4, 0, VAN)):
            tasks.nightly_job()
    followups = [e for e in events_of(uow_factory, plan.id) if e[0].startswith("followup")]
    assert followups == [("followup.due", "2026-11-10"), ("followup.overdue", "2026-11-14")]


def test_an_expired_override_is_folded_by_the_nightly_pass(uow_factory, configured):
    setup_at = local(date(2026, 11, 16), 12, 0, VAN)
    kits = builders.clinic(uow_factory, setup_at)
    plan = plan_with_session(uow_factory, kits.id, setup_at, setup_at - timedelta(hours=2))
    act(uow_factory, plan.id, "override", setup_at, reason="travel",
        frequency={"frequency": 1, "period": 3}, until=date(2026, 11, 18))
    for day in (18, 19, 20):
        with freeze_time(local(date(2026, 11, day), 3, 40, VAN)):
            tasks.nightly_job()
    with uow_factory() as uow:
        row = uow.session.get(Plan, plan.id)
        assert row.state["override"] is None and row.override_until is None
    decisions = plan_service.get_plan(uow_factory(), plan.id, now=setup_at)
    assert decisions.frequency == {"frequency": 1, "period": 1, "period_unit": "wk"}


def test_an_authorization_the_date_makes_low_is_flagged_and_announced_once(uow_factory,
                                                                          configured):
    monday = date(2026, 11, 16)
    setup_at = local(monday, 12, 0, VAN)
    kits = builders.clinic(uow_factory, setup_at)
    plan = builders.plan(uow_factory, setup_at, kits.id, authorization={
        "visits_allowed": 10, "valid_until": monday + timedelta(days=10),
        "count_no_shows": False})
    assert "authorization_low" not in plan.flags
    for offset in range(1, 6):  # low from valid_until - 7 days: the night of the 19th
        with freeze_time(local(monday + timedelta(days=offset), 3, 45, VAN)):
            tasks.nightly_job()
            tasks.nightly_job()
    low = [e for e in builders.outbox(uow_factory, plan.id) if e.type == "plan.authorization_low"]
    assert len(low) == 1 and low[0].created_at.date() == date(2026, 11, 19)
    with freeze_time(local(monday + timedelta(days=6), 9, 0, VAN)):
        shown = plan_service.get_plan(uow_factory(), plan.id, now=utcnow())
    assert "authorization_low" in shown.flags
    assert shown.authorization["visits_left"] == 10
