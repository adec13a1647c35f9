"""In-process cost of logging and metrics per request: the Flask test client, no HTTP server.

    .venv/bin/python bench/observability_bench.py [--rounds 15] [--requests 300]

Two apps on one SQLite file: logging and metrics on (the access line rendered to /dev/null as
JSON, HTTP counters and latency histogram in this process's registry) and off (ACCESS_LOG=false,
METRICS_ENABLED=false, LOG_LEVEL=WARNING). Each round times `--requests` GET next-visit and
POST report on each app, alternating which goes first; the figure is this process's CPU time
per request (time.process_time), which other work on a shared machine disturbs far less than
wall-clock rates. Prints one JSON line: per endpoint the median microseconds on and off, the
relative overhead of the medians and of the fastest rounds (the least disturbed), and
"observability_overhead", the larger of the two endpoints' median overheads. Multiprocess mode
(gunicorn) adds ~10 us of mmap writes per request on top; bench/api_bench measures that setup.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api import create_app  # noqa: E402
from config import Settings  # noqa: E402
from scheduler import log_setup  # noqa: E402
from scheduler.db import UnitOfWork, make_engine, make_session_factory  # noqa: E402
from scheduler.services import api_keys, clinics, ops, patients, plans  # noqa: E402
from scheduler.services.common import Actor  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='cadence-obs-bench.')}/bench.db"
    engine = make_engine(url)
    ops.upgrade_database(engine)
    log_setup.configure("INFO", "json", open("/dev/null", "w"))  # noqa: SIM115
    unlimited = "100000000/minute"  # the limiter stays on, above the offered load
    quiet = create_app(Settings(database_url=url, log_level="WARNING", access_log=False,
                                metrics_enabled=False, rate_limit=unlimited))
    loud = create_app(Settings(database_url=url, log_level="INFO",  # last: "cadence" at INFO
                               rate_limit=unlimited))
    sessions = make_session_factory(engine)
    uow, actor, now = (lambda: UnitOfWork(sessions)), Actor(None, "bench"), datetime.now(UTC)
    clinic = clinics.create_clinic(uow(), name="Bench", timezone="America/Vancouver",
                                   open_weekdays=[0, 1, 2, 3, 4], holiday_region="CA-BC",
                                   actor=actor, now=now)
    token = api_keys.create_api_key(uow(), name="b", role="booking_system",
                                    clinic_ids=[clinic.id], actor=actor, now=now).secret
    ids = []
    for n in range(2 * args.rounds * 2):  # a plan per (round, app) for the reports
        patient = patients.create_patient(uow(), clinic_id=clinic.id, external_id=f"B-{n}",
                                          actor=actor, now=now)
        ids.append(plans.create_plan(
            uow(), patient_id=patient.id, condition="bench", onset_date=now.date()
            - timedelta(days=90), baseline={"pain": 6}, neuropathic_symptoms=False,
            consent={"recorded_at": now - timedelta(hours=1), "recorded_by": "b"},
            actor=actor, now=now).id)
    headers = {"Authorization": f"Bearer {token}"}
    plan_ids = iter(ids)

    def next_visit(client, n: int) -> None:  # type: ignore[no-untyped-def]
        for _ in range(n):
            assert client.get(f"/api/v1/plans/{ids[0]}/next-visit",
                              headers=headers).status_code == 200

    def report(client, n: int) -> None:  # type: ignore[no-untyped-def]
        plan_id = next(plan_ids)
        for i in range(n):  # after the plan's creation, in order, within the 5 min of skew
            at = (now + timedelta(seconds=i + 1)).isoformat()
            assert client.post(f"/api/v1/plans/{plan_id}/reports", headers=headers,
                               json={"recorded_at": at, "pain": 5}).status_code == 201

    apps = {"on": loud.test_client(), "off": quiet.test_client()}
    results: dict[str, dict[str, list[float]]] = {
        e: {"on": [], "off": []} for e in ("next_visit", "report")}
    for client in apps.values():  # warm-up
        next_visit(client, 50)
    for r in range(args.rounds):
        order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
        for endpoint, work in (("next_visit", next_visit), ("report", report)):
            for name in order:
                started = time.process_time()
                work(apps[name], args.requests if endpoint == "next_visit" else 60)
                count = args.requests if endpoint == "next_visit" else 60
                results[endpoint][name].append((time.process_time() - started) / count * 1e6)
    out: dict[str, object] = {}
    for endpoint, runs in results.items():
        on, off = statistics.median(runs["on"]), statistics.median(runs["off"])
        fastest_on, fastest_off = min(runs["on"]), min(runs["off"])  # least disturbed rounds
        out[endpoint] = {"on_us": round(on, 1), "off_us": round(off, 1),
                         "overhead": round(on / off - 1, 3),
                         "overhead_of_fastest_rounds": round(fastest_on / fastest_off - 1, 3)}
    out["observability_overhead"] = max(v["overhead"] for k, v in out.items()  # type: ignore
                                        if isinstance(v, dict))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
