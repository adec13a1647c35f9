"""Two real scheduler processes (a leader and a hot standby) on a PostgreSQL server of the
test's own, which is stopped for several seconds and started again: both processes survive
(they used to exit: the standby on its first failed poll, the leader with code 3), exactly one
leads afterwards, its jobs run again, and no two processes ever led at the same time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.models import SchedulerHeartbeat
from tests.integration.pg_support import migrated_cluster, needs_pg_binaries

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, needs_pg_binaries]


@pytest.fixture
def cluster() -> Iterator[Any]:
    with migrated_cluster() as server:
        yield server


def spawn(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_FORMAT": "json",
           "LOG_LEVEL": "INFO"}
    env.pop("SCHEDULER_METRICS_PORT", None)
    return subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def heartbeats(url: str) -> dict[int, tuple[str, datetime]]:
    engine = make_engine(url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            return {pid: (role, at) for pid, role, at in uow.session.execute(
                select(SchedulerHeartbeat.pid, SchedulerHeartbeat.role,
                       SchedulerHeartbeat.beat_at))}
    except Exception:  # noqa: BLE001 - the server is down or starting: not yet
        return {}
    finally:
        engine.dispose()


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def leading_spans(lines: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(from, to) timestamps of each time the process led."""
    spans: list[tuple[str, str | None]] = []
    for line in lines:
        if line["event"] == "leader":
            spans.append((line["timestamp"], None))
        elif line["event"].startswith(("leadership lost", "database unavailable while")):
            if spans and spans[-1][1] is None:
                spans[-1] = (spans[-1][0], line["timestamp"])
    return spans


def test_an_outage_keeps_both_schedulers_alive_and_one_leads_afterwards(cluster) -> None:
    url = cluster.url("cadence")
    first = spawn(url)
    second: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: heartbeats(url).get(first.pid, ("",))[0] == "leader")
        second = spawn(url)
        wait_for(lambda: heartbeats(url).get(second.pid, ("",))[0] == "standby")
        cluster.pause()
        time.sleep(8)  # longer than a poll, a heartbeat job's failure and a standby beat
        assert first.poll() is None and second.poll() is None
        resumed = datetime.now(UTC)
        cluster.resume()

        def one_fresh_leader() -> bool:
            beats = heartbeats(url)
            leaders = [pid for pid, (role, at) in beats.items()
                       if role == "leader" and at >= resumed]
            return len(leaders) == 1

        wait_for(one_fresh_leader)
        assert first.poll() is None and second.poll() is None  # neither died of the outage
    finally:
        outputs = []
        for proc in (first, second):
            if proc is None:
                continue
            proc.terminate()
            outputs.append(proc.communicate(timeout=30)[0])
    assert [p.returncode for p in (first, second) if p is not None] == [0, 0], outputs
    logs = [[json.loads(line) for line in out.splitlines() if line.startswith("{")]
            for out in outputs]
    events = [x["event"] for process in logs for x in process]
    assert any(e.startswith(("database unavailable", "leadership lost")) for e in events)
    spans = sorted(span for process in logs for span in leading_spans(process))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end is not None and end <= start, spans  # one leader at a time
