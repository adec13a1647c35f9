"""Scheduler jobs as operators see them: JSON lines with the job, clinic, batch and counts,
and job errors counted by job and logged without their message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from prometheus_client import REGISTRY

from scheduler.db import utcnow
from scheduler.jobs import tasks
from scheduler.metrics import SchedulerState
from tests.builders import clinic, local, plan_with_session

VAN = "America/Vancouver"


@pytest.fixture
def state(uow_factory):  # type: ignore[no-untyped-def]
    state = SchedulerState("test-scheduler")
    tasks.configure(tasks.Runtime(uow_factory, utcnow, "test-scheduler", datetime.now(UTC),
                                  state=state))
    yield state
    tasks.configure(None)  # type: ignore[arg-type]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_nightly_job_logs_the_job_the_clinic_batches_and_counts(uow_factory, state,
                                                                    json_logs) -> None:
    monday = date(2026, 11, 16)
    setup_at = local(monday, 12, 0, VAN)
    kits = clinic(uow_factory, setup_at)
    for n in range(3):
        plan_with_session(uow_factory, kits.id, setup_at, setup_at - timedelta(hours=2), n=n)
    runs = sample("cadence_scheduler_job_duration_seconds_count", job="nightly")
    with freeze_time(local(monday + timedelta(days=1), 3, 45, VAN)):
        tasks.nightly_job()
    [clinic_line] = json_logs.events("nightly pass done")
    assert clinic_line["job"] == "nightly" and clinic_line["clinic_id"] == kits.id
    assert (clinic_line["plans"], clinic_line["batches"], clinic_line["local_date"]) == (
        3, 1, "2026-11-17")
    assert clinic_line["duration_ms"] >= 0 and clinic_line["logger"] == "cadence.scheduler"
    batches = json_logs.events("nightly batch")
    assert [(b["batch"], b["plans"], b["clinic_id"]) for b in batches] == [(1, 3, kits.id)]
    [run] = json_logs.events("nightly run done")
    assert (run["job"], run["clinics"], run["plans"]) == ("nightly", 1, 3)
    assert sample("cadence_scheduler_job_duration_seconds_count", job="nightly") == runs + 1
    assert sample("cadence_nightly_pass_duration_seconds", clinic_id=kits.id) >= 0
    assert sample("cadence_nightly_last_completion_timestamp_seconds", clinic_id=kits.id) > 0


def test_the_heartbeat_job_moves_the_instances_heartbeat(state) -> None:
    assert state.last_beat is None
    tasks.heartbeat_job()
    assert state.last_beat is not None


def test_a_failing_job_is_counted_and_logged_by_type_only(state, json_logs,
                                                          monkeypatch) -> None:
    def broken(*_, **__):  # type: ignore[no-untyped-def]
        raise RuntimeError("MRN-1001 in a message")

    monkeypatch.setattr(tasks, "run_sweep", broken)
    errors = sample("cadence_scheduler_job_errors_total", job="sweep")
    with pytest.raises(RuntimeError):
        tasks.sweep_job()
    assert sample("cadence_scheduler_job_errors_total", job="sweep") == errors + 1
    [line] = json_logs.events("job failed")
    assert line["job"] == "sweep" and line["level"] == "error"
    assert line["exception"].startswith("RuntimeError\n")
    assert "MRN-1001" not in json_logs.text()
