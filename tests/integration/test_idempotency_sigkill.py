"""A gunicorn worker SIGKILLed in the middle of a keyed POST (tests/integration/fault_wsgi.py),
then a retry with the same key: exactly one report, one decision and one outbox event, and
the retry answers at once (201), on SQLite and, with TEST_DATABASE_URL, PostgreSQL.

The finding: a worker killed after the view's commit left the key in flight, so the retry got
409 for ten minutes (ABANDONED_AFTER) and then ran the POST a second time."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.services import api_keys
from scheduler.services.common import Actor
from tests.builders import footprint, outbox
from tests.integration.pg_support import pgcluster

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SETUP = Actor(key_id=None, name="test-setup")
pytestmark = pytest.mark.slow


free_port = pgcluster.free_port  # one free-port probe for the benchmarks and the tests


def call(port: int, method: str, path: str, token: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One request on a fresh connection; (0, {}, None) when the worker died under it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, None if body is None else json.dumps(body),
                           {"Authorization": f"Bearer {token}",
                            "Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else None
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        return 0, {}, None
    finally:
        connection.close()


@pytest.fixture
def serve(database_url, engine, tmp_path):  # type: ignore[no-untyped-def]
    """serve(fault) -> (port, marker): one gunicorn worker with that fault (the master
    replaces a killed worker)."""
    procs: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "gunicorn.log"

    def start(fault: str) -> tuple[int, Path]:
        port, marker = free_port(), tmp_path / f"killed-{fault}"
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "json",
               "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), "CADENCE_FAULT": fault,
               "CADENCE_FAULT_MARKER": str(marker), "METRICS_ENABLED": "false"}
        env.pop("CADENCE_TESTING", None)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with log.open("a") as out:
            proc = subprocess.Popen(
                [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", "tests.integration.fault_wsgi:app"], cwd=ROOT, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        wait_healthy(port, proc, log)
        return port, marker

    yield start
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if call(port, "GET", "/healthz", "-")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


@pytest.mark.parametrize("fault", ["after-change", "response", "after-stored"])
def test_a_worker_killed_mid_request_then_a_retry_stores_one_of_each(
        serve, uow, uow_factory, fault) -> None:
    port, marker = serve(fault)
    now = datetime.now(UTC)
    admin = api_keys.create_api_key(uow_factory(), name="a", role="admin", actor=SETUP,
                                    now=now).secret
    status, _, clinic = call(port, "POST", "/api/v1/clinics", admin, {
        "name": "Kits", "timezone": "America/Vancouver", "open_weekdays": [0, 1, 2, 3, 4]})
    assert status == 201, clinic
    booking = api_keys.create_api_key(uow_factory(), name="b", role="booking_system",
                                      clinic_ids=[clinic["id"]], actor=SETUP, now=now).secret
    _, _, patient = call(port, "POST", "/api/v1/patients", booking,
                         {"clinic_id": clinic["id"], "external_id": "MRN-9"})
    status, _, plan = call(port, "POST", "/api/v1/plans", booking, {
        "patient_id": patient["id"], "condition": "neck pain", "onset_date": "2026-01-05",
        "baseline": {"pain": 6}, "neuropathic_symptoms": False,
        "consent": {"recorded_at": (now - timedelta(hours=2)).isoformat(),
                    "recorded_by": "physio:1"}})
    assert status == 201, plan
    before = footprint(uow, plan["id"])
    events_before = len(outbox(uow_factory, plan["id"]))
    report = {"recorded_at": (now - timedelta(minutes=30)).isoformat(), "pain": 4}
    keyed = {"Idempotency-Key": f'"rpt-{fault}"'}
    path = f"/api/v1/plans/{plan['id']}/reports"

    killed = call(port, "POST", path, booking, report, keyed)
    assert killed[0] == 0 and marker.exists(), killed  # the worker died under the request
    deadline = time.monotonic() + 30
    while (retry := call(port, "POST", path, booking, report, keyed))[0] in (0, 502, 503):
        assert time.monotonic() < deadline, retry  # the master is forking a new worker
        time.sleep(0.2)
    assert retry[0] == 201, retry  # not 409 (a key left in flight), not a second report
    if fault == "after-stored":
        assert retry[1].get("Idempotent-Replayed") == "true"  # it had committed: replayed
    after = footprint(uow, plan["id"])
    assert after["reports"] == before["reports"] + 1
    assert after["decisions"] == before["decisions"] + 1
    assert len(outbox(uow_factory, plan["id"])) == events_before + 1
