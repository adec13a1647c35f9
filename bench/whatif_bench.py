"""What-if benchmark: one clinic of N plans with 12-event histories (creation, consent, five
needling sessions each followed by a report), replayed under `mcid_pain_points` 3 instead of
2, beside the bare rate of reading the same rows (the same store queries: plan pages and
their histories, no event parsing, no folding) in the same run, on a SQLite file and on
PostgreSQL (a throwaway cluster, when the server binaries are installed).

    .venv/bin/python bench/whatif_bench.py                    # 10,000 plans (synchronous)
    .venv/bin/python bench/whatif_bench.py --plans 1000000    # through the job path

Up to WHAT_IF_SYNC_MAX (20,000) plans the what-if is the synchronous service call the POST
makes; above it, the job the scheduler runs (queued by the same call, then run_due_jobs).
The histories are synthetic but real: payloads are `rules.Event.to_dict()` of events that
fold (20 start dates x 4 clinical templates), inserted with multi-row Core inserts. Each
measured phase runs in its own child process; peak RSS is the largest process of the
what-if (the parent or any pool worker). Ends with one JSON line:
{"sqlite": {"plans", "seconds", "ratio_to_read", "peak_rss_mb", ...}, "postgresql": {...}}
(ratio_to_read = what-if seconds / bare read seconds).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pgcluster import database  # noqa: E402

NOW = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
CLINIC = "cln_bench"
SYNC_MAX = 20_000
# (baseline pain, neuropathic, five report pains): responders by 2 points (whom mcid 3
# keeps at 2/week), clear responders, slow ones and a mild case
TEMPLATES = [(6, True, [4, 4, 3, 3, 2]), (8, False, [5, 4, 3, 2, 2]),
             (7, False, [6, 6, 5, 5, 4]), (5, False, [4, 3, 3, 2, 1])]
STARTS = 20


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def candidate() -> dict:
    from rules import DEFAULT_RULESET
    return {"name": "ims-default", "version": 2,
            "parameters": {**DEFAULT_RULESET.parameters(), "mcid_pain_points": 3}}


def histories() -> list[tuple[list[tuple[str, datetime, str]], dict]]:
    """Per (start, template): the 12 events as (kind, at, payload JSON) and the plan row's
    state columns (the fold of those events, as the service would store them)."""
    import rules
    from scheduler.calendar import clinic_calendar
    from scheduler.store.plans import state_columns
    cal = clinic_calendar(CLINIC, 1, "America/Vancouver", [0, 1, 2, 3, 4], [], "CA-BC")
    out = []
    for s in range(STARTS):
        start = datetime(2026, 9, 1, 17, tzinfo=UTC) + timedelta(days=s)
        for pain, neuropathic, reports in TEMPLATES:
            events: list[rules.Event] = [
                rules.PlanCreated(start, cal.local_date(start), date(2026, 8, 1), pain, None,
                                  neuropathic),
                rules.ConsentRecorded(start + timedelta(hours=1), "physio:1")]
            for k, reported in enumerate(reports):
                at = start + timedelta(days=4 * k + 1)
                events += [rules.VisitChanged(at, f"v{k}", "needling", "attended", at),
                           rules.ProgressReport(at + timedelta(hours=60), pain=reported)]
            folded = rules.fold(events, rules.DEFAULT_RULESET, cal.local_date)
            columns = state_columns(folded.state, rules.DEFAULT_RULESET, cal, NOW)
            out.append(([(e.kind, e.at, json.dumps(e.to_dict())) for e in events], columns))
    return out


def populate(url: str, plans: int) -> None:
    """The clinic, its patients and plans (Core multi-row inserts) and the plans' events:
    pre-serialised payloads through the driver's fastest bulk path (sqlite3 executemany,
    PostgreSQL COPY), 12 per plan."""
    from sqlalchemy import insert

    from scheduler import migrate as schema
    from scheduler.db import make_engine
    from scheduler.models import Clinic, Patient, Plan
    engine = make_engine(url)
    schema.upgrade(engine)
    templates = histories()
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(insert(Clinic), [{
            "id": CLINIC, "name": "Bench Physio", "timezone": "America/Vancouver",
            "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC", "closures": [],
            "ruleset": "ims-default@1", "version": 1, "created_at": NOW, "updated_at": NOW}])
    # SQLite stores UtcDateTime as naive UTC text; PostgreSQL's COPY takes aware datetimes
    stamp = (lambda at: at) if postgres else (
        lambda at: at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    created = stamp(NOW)
    rows_of = [[(kind, stamp(at), payload) for kind, at, payload in history]
               for history, _ in templates]
    chunk = 10_000
    for first in range(0, plans, chunk):
        patients, rows, events = [], [], []
        for i in range(first, min(plans, first + chunk)):
            t = (i * 7919) % len(templates)
            plan_id = f"pln_{i:08d}"
            patients.append({"id": f"pat_{i:08d}", "clinic_id": CLINIC,
                             "external_id": f"EXT-{i}", "display_name": None, "created_at": NOW})
            rows.append({"id": plan_id, "clinic_id": CLINIC, "patient_id": f"pat_{i:08d}",
                         "condition": "synthetic", "ruleset": "ims-default@1", "version": 13,
                         "window_state": None, "nightly_date": None, "created_at": NOW,
                         **templates[t][1]})
            events += [(f"evt_{i:08d}_{seq:02d}", plan_id, seq, kind, at, payload, created)
                       for seq, (kind, at, payload) in enumerate(rows_of[t])]
        with engine.begin() as conn:
            conn.execute(insert(Patient), patients)
            conn.execute(insert(Plan), rows)
            raw = conn.connection.driver_connection
            columns = "id, plan_id, seq, kind, at, payload, created_at"
            if postgres:
                with raw.cursor() as cursor, cursor.copy(
                        f"COPY plan_events ({columns}) FROM STDIN") as copy:
                    for row in events:
                        copy.write_row(row)
            else:
                raw.executemany(f"INSERT INTO plan_events ({columns}) VALUES (?,?,?,?,?,?,?)",
                                events)
        if (first // chunk) % 10 == 0:
            log(f"  inserted {min(plans, first + chunk):,} plans")
    if postgres:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


def child_whatif(url: str) -> dict:
    from scheduler.db import UnitOfWork, make_engine, make_session_factory
    from scheduler.services import what_if
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    start = time.perf_counter()
    answer = what_if.what_if(UnitOfWork(sessions), clinic_id=CLINIC, candidate=candidate(),
                             as_of=NOW, now=NOW, scope=None, sync_max=SYNC_MAX)
    path = "sync"
    if answer["status"] == "queued":
        path = "job"
        what_if.run_due_jobs(lambda: UnitOfWork(sessions), NOW, claimed_by="bench")
        answer = what_if.get_job(UnitOfWork(sessions), answer["id"], scope=None)
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu_seconds(), "path": path,
            "plans": answer["plans"], "changed": answer["changed"], "errors": answer["errors"],
            "visits_per_week": answer["visits_per_week"], "workers": what_if.workers(),
            "workers_peak_rss_mb": round(children, 1)}


def child_read(url: str) -> dict:
    """The same rows through the same store queries, nothing parsed or folded."""
    from scheduler.db import make_engine
    from scheduler.services.what_if import CHUNK
    from scheduler.store import what_if as store
    engine = make_engine(url)
    start, plans, events = time.perf_counter(), 0, 0
    with engine.connect() as conn:
        for page in store.active_plans(conn, CLINIC, CHUNK):
            for _, payloads in store.histories(conn, [plan_id for plan_id, _ in page]):
                plans += 1
                events += len(payloads)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds(),
            "plans": plans, "events": events}


def cpu_seconds() -> float:
    """CPU time of this process and its (joined) pool workers; the database server's own
    processes are not counted. On a shared machine the wall time swings with the others'
    load; this does not."""
    used = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        used += usage.ru_utime + usage.ru_stime
    return round(used, 2)


def run_child(kind: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        log(out.stderr)
        raise RuntimeError(f"the {kind} child failed with exit code {out.returncode}")
    log(f"  {kind}: {out.stdout.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(url: str, plans: int) -> dict:
    log(f"  populating {plans:,} plans (12 events each)")
    started = time.perf_counter()
    populate(url, plans)
    log(f"  populated in {time.perf_counter() - started:.0f} s")
    read = run_child("read", url)
    whatif = run_child("whatif", url)
    peak = max(whatif["peak_rss_mb"], whatif["workers_peak_rss_mb"])
    return {"plans": whatif["plans"], "seconds": round(whatif["seconds"], 2),
            "ratio_to_read": round(whatif["seconds"] / read["seconds"], 2),
            "peak_rss_mb": peak, "read_seconds": round(read["seconds"], 2),
            "cpu_seconds": whatif["cpu_seconds"], "read_cpu_seconds": read["cpu_seconds"],
            "read_events": read["events"], "path": whatif["path"],
            "changed": whatif["changed"], "errors": whatif["errors"],
            "workers": whatif["workers"], "parent_peak_rss_mb": whatif["peak_rss_mb"],
            "workers_peak_rss_mb": whatif["workers_peak_rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        result = {"whatif": child_whatif, "read": child_read}[args.child](args.url)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="cadence-whatif-") as tmp:
        Path(tmp).chmod(0o755)  # the postgres user must reach its cluster directory
        for kind in args.databases.split(","):
            log(f"== {kind}, {args.plans:,} plans")
            with database(kind, Path(tmp) / kind) as url:
                report[kind] = measure(url, args.plans) if url else None
    for kind, figures in report.items():
        if figures is None:
            print(f"{kind:>10}: not measured (no server binaries)")
            continue
        print(f"{kind:>10}: {figures['plans']:,} plans ({figures['path']}) what-if "
              f"{figures['seconds']} s, bare read {figures['read_seconds']} s, ratio "
              f"{figures['ratio_to_read']} (CPU {figures['cpu_seconds']} s vs "
              f"{figures['read_cpu_seconds']} s); {figures['changed']:,} changed; peak RSS "
              f"{figures['peak_rss_mb']} MB (parent {figures['parent_peak_rss_mb']}, largest "
              f"worker {figures['workers_peak_rss_mb']}); {figures['workers']} workers")
    print(json.dumps({kind: figures for kind, figures in report.items()}))


if __name__ == "__main__":
    main()
