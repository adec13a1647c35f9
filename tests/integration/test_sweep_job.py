"""The daytime sweep through the job function APScheduler calls, under freezegun."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from scheduler.db import utcnow
from scheduler.jobs import tasks
from tests import builders
from tests.builders import events_of, local, plan_with_session

VAN = "America/Vancouver"


@pytest.fixture
def configured(uow_factory):
    tasks.configure(tasks.Runtime(uow_factory, utcnow, "test-scheduler", datetime.now(UTC)))
    yield
    tasks.configure(None)  # type: ignore[arg-type]


def test_the_sweep_emits_followup_due_once_when_a_window_opens(uow_factory, configured):
    # Before the fix the guarded UPDATE's bind parameter was named `state`, a column of plans:
    # SQLAlchemy refused to compile it (CompileError), so every sweep run failed.
    monday = date(2026, 11, 16)
    setup_at = local(monday, 12, 0, VAN)
    kits = builders.clinic(uow_factory, setup_at)
    plan = plan_with_session(uow_factory, kits.id, setup_at, setup_at - timedelta(hours=2))
    assert plan.next_visit["earliest"] == date(2026, 11, 23)
    with freeze_time(local(date(2026, 11, 23), 10, 0, VAN)):
        tasks.sweep_job()
        tasks.sweep_job()  # the second run finds the state already recorded
    assert [e for e in events_of(uow_factory, plan.id) if e[0].startswith("followup")] == [
        ("followup.due", "2026-11-23")]
