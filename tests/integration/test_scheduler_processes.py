"""Real scheduler processes: one leader at a time with a hot standby, and a nightly pass
killed with SIGKILL half-way that resumes without processing any plan twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select

from scheduler.jobs.nightly import run_nightly
from scheduler.models import ClinicNightly, Patient, Plan, SchedulerHeartbeat
from tests import builders
from tests.builders import count_events
from tests.integration.pg_support import pgcluster

ROOT = Path(__file__).resolve().parents[2]


def spawn(args: list[str], database_url: str, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "LOG_FORMAT": "json", **extra}
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def roles(uow_factory) -> dict[int, str]:
    with uow_factory() as uow:
        return {pid: role for pid, role in uow.session.execute(
            select(SchedulerHeartbeat.pid, SchedulerHeartbeat.role))}


free_port = pgcluster.free_port  # one free-port probe for the benchmarks and the tests


def scrape(port: int) -> dict[str, list]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def leader_gauge(port: int) -> float | None:
    try:
        samples = scrape(port).get("cadence_scheduler_leader", [])
    except OSError:
        return None
    return samples[0].value if samples else None


def test_one_leader_a_hot_standby_and_a_handover_when_the_leader_dies(uow_factory,
                                                                       database_url):
    first = spawn(["-m", "scheduler"], database_url)
    try:
        wait_for(lambda: roles(uow_factory).get(first.pid) == "leader")
        port = free_port()
        second = spawn(["-m", "scheduler"], database_url, SCHEDULER_METRICS_PORT=str(port))
        try:
            wait_for(lambda: roles(uow_factory).get(second.pid) == "standby")
            time.sleep(3)  # the standby keeps waiting while the leader lives
            assert roles(uow_factory)[second.pid] == "standby"
            assert leader_gauge(port) == 0.0  # its own metrics: a standby
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            wait_for(lambda: roles(uow_factory).get(second.pid) == "leader")
            wait_for(lambda: leader_gauge(port) == 1.0)
            families = scrape(port)
            ages = families["cadence_scheduler_heartbeat_age_seconds"]
            assert len(ages) == 1 and 0 <= ages[0].value < 30
            runs = {s.labels["job"] for s in families["cadence_scheduler_job_duration_seconds"]
                    if s.name.endswith("_count")}
            assert "heartbeat" in runs
        finally:
            second.terminate()
            output = second.communicate(timeout=20)[0]
        assert second.returncode == 0, output
        lines = [json.loads(line) for line in output.splitlines()]  # every line is JSON
        assert [x["event"] for x in lines].count("leader") == 1  # APScheduler started once
        assert all({"timestamp", "level", "logger", "event"} <= x.keys() for x in lines)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)


def insert_due_plans(uow_factory, clinic_id: str, n: int, today: date, now: datetime) -> None:
    with uow_factory() as uow:
        uow.session.execute(insert(Patient), [
            {"id": f"pat_bulk{i:06d}", "clinic_id": clinic_id, "external_id": f"B{i}",
             "display_name": None, "created_at": now} for i in range(n)])
        uow.session.execute(insert(Plan), [
            {"id": f"pln_bulk{i:06d}", "clinic_id": clinic_id, "patient_id": f"pat_bulk{i:06d}",
             "condition": "synthetic", "status": "active", "phase": "initial",
             "ruleset": "ims-default@1", "state": {}, "version": 1, "next_kind": "needling",
             "next_earliest": today - timedelta(days=1), "next_target": today,
             "next_latest": today + timedelta(days=1), "lapse_after": today + timedelta(days=8),
             "created_at": now, "updated_at": now} for i in range(n)])
        uow.commit()


def test_a_nightly_pass_killed_half_way_resumes_and_processes_each_plan_once(uow_factory,
                                                                             database_url):
    now = datetime(2026, 11, 20, 11, 45, tzinfo=UTC)  # 03:45 in Vancouver
    today, total = date(2026, 11, 20), 3000
    kits = builders.clinic(uow_factory, now - timedelta(days=1))
    insert_due_plans(uow_factory, kits.id, total, today, now)
    script = ("from datetime import datetime; from scheduler.db import *; "
              "from scheduler.jobs.nightly import run_nightly; "
              f"e = make_engine({database_url!r}); f = make_session_factory(e); "
              f"run_nightly(lambda: UnitOfWork(f), datetime.fromisoformat({now.isoformat()!r}),"
              " batch=25)")
    worker = spawn(["-c", script], database_url)

    def stamped() -> int:
        with uow_factory() as uow:
            return uow.session.scalar(select(func.count()).select_from(Plan)
                                      .where(Plan.nightly_date == today)) or 0

    try:
        wait_for(lambda: stamped() >= 200)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=10)
    done_before_restart = stamped()
    assert 0 < done_before_restart < total, "the kill should land in the middle of the pass"
    assert count_events(uow_factory, "followup.due") == done_before_restart
    run_nightly(uow_factory, now, batch=25)
    assert stamped() == total
    assert count_events(uow_factory, "followup.due") == total  # one per plan, none twice
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ClinicNightly)) == 1
