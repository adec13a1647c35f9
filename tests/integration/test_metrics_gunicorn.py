"""A real gunicorn with 2 workers (deploy/gunicorn.conf.py, multiprocess metrics): whichever
worker answers GET /metrics reports every worker's counts; the logs are the app's JSON lines,
gunicorn's own included, with no access line of gunicorn's and no query string."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scheduler.services import api_keys
from scheduler.services.common import Actor
from tests.integration.pg_support import pgcluster
from tests.integration.webhook_support import deliver

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SETUP = Actor(key_id=None, name="test-setup")
pytestmark = pytest.mark.slow


free_port = pgcluster.free_port  # one free-port probe for the benchmarks and the tests


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, token: str | None = None,
                 body: Any = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, token: str, body: Any = None,
             status: int = 200) -> Any:
        code, _, raw = self(method, path, token, body)
        assert code == status, raw
        return json.loads(raw)


@pytest.fixture
def gunicorn(database_url, engine, tmp_path):  # type: ignore[no-untyped-def]
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # from a previous run
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": database_url, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_CACHE_SECONDS": "0",
           "LOG_FORMAT": "json",
           "LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
    env.pop("CADENCE_TESTING", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "wsgi:app"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    http = Http(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if http("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield http, metrics_dir, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def scrape(http: Http, token: str) -> dict[str, list]:
    code, headers, raw = http("GET", "/metrics", token)
    assert code == 200, raw
    return {f.name: f.samples for f in text_string_to_metric_families(raw.decode())}


def total(families: dict[str, list], family: str, sample: str | None = None,
          **labels: str) -> float:
    return sum(s.value for s in families.get(family, [])
               if (sample is None or s.name == sample)
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_two_workers_metrics_aggregate_and_logs_are_the_apps(gunicorn, uow_factory,
                                                            now) -> None:
    http, metrics_dir, log = gunicorn
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    admin = api_keys.create_api_key(uow_factory(), name="a", role="admin", actor=SETUP,
                                    now=now).secret
    monitor = api_keys.create_api_key(uow_factory(), name="prom", role="monitoring",
                                      actor=SETUP, now=now).secret
    clinic = http.json("POST", "/api/v1/clinics", admin, {
        "name": "Kits", "timezone": "America/Vancouver", "open_weekdays": [0, 1, 2, 3, 4]}, 201)
    http.json("POST", "/api/v1/webhooks", admin, {
        "clinic_id": clinic["id"], "url": "https://127.0.0.1/in",
        "events": ["plan.created"]}, 201)
    booking = api_keys.create_api_key(uow_factory(), name="b", role="booking_system",
                                      clinic_ids=[clinic["id"]], actor=SETUP, now=now).secret
    patient = http.json("POST", "/api/v1/patients", booking, {
        "clinic_id": clinic["id"], "external_id": "MRN-4242"}, 201)
    plan = http.json("POST", "/api/v1/plans", booking, {
        "patient_id": patient["id"], "condition": "neck pain", "onset_date": "2026-01-05",
        "baseline": {"pain": 6}, "neuropathic_symptoms": False}, 201)
    before = scrape(http, monitor)
    assert total(before, "cadence_outbox_pending_messages") == 1

    def next_visit(_: int) -> int:
        return http("GET", f"/api/v1/plans/{plan['id']}/next-visit", booking)[0]

    with ThreadPoolExecutor(8) as pool:  # concurrent: both workers must take some
        assert set(pool.map(next_visit, range(60))) == {200}
    http.json("POST", f"/api/v1/plans/{plan['id']}/reports", booking, {
        "recorded_at": datetime.now(UTC).isoformat(), "pain": 5}, 201)
    http("GET", f"/api/v1/patients?clinic_id={clinic['id']}&external_id=MRN-4242", booking)
    deliver(uow_factory, now=datetime.now(UTC), send=lambda url, headers, body: 200)

    pids = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
    assert len(pids) >= 2, pids  # both workers counted requests
    route = "/api/v1/plans/<plan_id>/next-visit"
    for _ in range(6):  # each scrape may be answered by either worker: all agree
        after = scrape(http, monitor)
        assert total(after, "cadence_http_requests", route=route, method="GET",
                     status="200") == 60
        assert total(after, "cadence_http_request_duration_seconds",
                     "cadence_http_request_duration_seconds_count", route=route) == 60
        assert total(after, "cadence_decisions", trigger="report") == 1
        assert total(after, "cadence_decisions", trigger="visit") == 0
        assert total(after, "cadence_plans") == 1  # one plan, whatever its status
        assert total(after, "cadence_outbox_pending_messages") == 0
        assert total(after, "cadence_webhook_deliveries_by_status", status="succeeded") == 1

    lines = [json.loads(line) for line in log.read_text().splitlines()]  # all JSON
    access = [x for x in lines if x["event"] == "request"]
    assert {x["logger"] for x in lines} >= {"gunicorn.error", "cadence.access"}
    assert sum(1 for x in access if x["route"] == route) == 60
    assert "/api/v1/patients" in {x["route"] for x in access}
    assert "MRN-4242" not in log.read_text()  # neither gunicorn's access line nor ours
