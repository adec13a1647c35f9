"""Nightly-pass benchmark: the real pass beside a bare read-evaluate-write loop, same rows,
same run, on a SQLite file and on PostgreSQL (a throwaway cluster, when the server binaries
are installed). Also the front desk's worklist query for one clinic among all the plans.

Synthetic plans: targets spread over -10..+30 days around the night, each clinic's booking
system subscribed to every webhook event, and 1 plan in 500 with a physiotherapist's override
that ended the day before (folded through the engine, as a real night would).

    .venv/bin/python bench/nightly_bench.py                 # 100k then 1M plans, 100 clinics
    .venv/bin/python bench/nightly_bench.py --plans 20000   # a quick run (one size)

Each measured phase runs in its own child process, so its peak RSS is its own. Ends with one
JSON line: {"sqlite": {"plans", "ratio", "peak_rss_mb", "worklist_p99_ms", ...},
"postgresql": {...}} (ratio = nightly plans/s divided by bare plans/s).
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

NOW = datetime(2026, 11, 21, 11, 45, tzinfo=UTC)  # 03:45 in Vancouver: every clinic is due
TODAY = date(2026, 11, 21)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def synthetic_state() -> tuple[dict, dict]:
    """A real folded state (JSON) and the same with an override that ended yesterday."""
    import rules
    start = datetime(2026, 10, 1, 17, tzinfo=UTC)
    events = [rules.PlanCreated(start, start.date(), date(2026, 6, 1), 7, 3, False),
              rules.ConsentRecorded(start + timedelta(hours=1), "physio:1")]
    for i in range(4):
        at = start + timedelta(days=4 * i + 1)
        events += [rules.VisitChanged(at, f"v{i}", "needling", "attended", at),
                   rules.ProgressReport(at + timedelta(hours=60), pain=6 - i, function=4 + i)]
    events.append(rules.OverrideSet(start + timedelta(days=20), rules.Frequency(1, 2),
                                    TODAY - timedelta(days=1), "travel", "physio:1"))
    with_override = rules.fold(events, rules.DEFAULT_RULESET).state.to_dict()
    return rules.fold(events[:-1], rules.DEFAULT_RULESET).state.to_dict(), with_override


def populate(url: str, plans: int, clinics: int) -> None:
    from sqlalchemy import insert

    from rules import window_state
    from scheduler import migrate as schema
    from scheduler.db import make_engine
    from scheduler.models import Clinic, Patient, Plan, Webhook
    from scheduler.webhooks.outbox import EVENT_TYPES
    engine = make_engine(url)
    schema.upgrade(engine)
    plain, overridden = synthetic_state()
    with engine.begin() as conn:
        conn.execute(insert(Clinic), [
            {"id": f"cln_{c:04d}", "name": f"Clinic {c}", "timezone": "America/Vancouver",
             "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC", "closures": [],
             "ruleset": "ims-default@1", "version": 1, "created_at": NOW, "updated_at": NOW}
            for c in range(clinics)])
        # every clinic's booking system subscribes to every event, as an integrated one would
        conn.execute(insert(Webhook), [
            {"id": f"whk_{c:04d}", "clinic_id": f"cln_{c:04d}", "url": "https://booking.invalid/h",
             "events": list(EVENT_TYPES), "secret": "whsec_" + "A" * 43, "created_at": NOW,
             "deleted_at": None} for c in range(clinics)])
    chunk = 20_000
    for first in range(0, plans, chunk):
        patients, rows = [], []
        for i in range(first, min(plans, first + chunk)):
            target = TODAY + timedelta(days=(i * 7919) % 41 - 10)
            row = {"id": f"pln_{i:08d}", "clinic_id": f"cln_{i % clinics:04d}",
                   "patient_id": f"pat_{i:08d}", "condition": "synthetic", "status": "active",
                   "phase": "initial", "ruleset": "ims-default@1", "version": 1,
                   "state": overridden if i % 500 == 0 else plain, "next_kind": "needling",
                   "next_earliest": target - timedelta(days=2), "next_target": target,
                   "next_latest": target + timedelta(days=2),
                   "lapse_after": target + timedelta(days=9), "booked_until": None,
                   "override_until": TODAY - timedelta(days=1) if i % 500 == 0 else None,
                   "nightly_date": TODAY - timedelta(days=1), "created_at": NOW,
                   "updated_at": NOW}
            row["window_state"] = str(window_state(
                TODAY - timedelta(days=1), row["next_earliest"], row["next_latest"],
                row["lapse_after"], row["booked_until"]))
            patients.append({"id": row["patient_id"], "clinic_id": row["clinic_id"],
                             "external_id": f"EXT-{i}", "display_name": None,
                             "created_at": NOW})
            rows.append(row)
        with engine.begin() as conn:
            conn.execute(insert(Patient), patients)
            conn.execute(insert(Plan), rows)
        log(f"  inserted {min(plans, first + chunk):,} plans")
    engine.dispose()


def child_nightly(url: str) -> dict:
    from scheduler.db import UnitOfWork, make_engine, make_session_factory
    from scheduler.jobs.nightly import run_nightly
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    start = time.perf_counter()
    stats = run_nightly(lambda: UnitOfWork(sessions), NOW, batch=1000)
    return {"seconds": time.perf_counter() - start, "plans": stats.plans,
            "events": stats.events, "overrides_expired": stats.overrides_expired}


def child_bare(url: str) -> dict:
    """Read a batch, evaluate each row's window state, write it back: nothing else."""
    from sqlalchemy import bindparam, select, update

    from rules import window_state
    from scheduler.db import make_engine
    from scheduler.models import Plan
    engine = make_engine(url)
    columns = (Plan.id, Plan.next_earliest, Plan.next_latest, Plan.lapse_after,
               Plan.booked_until, Plan.window_state)
    write = (update(Plan.__table__).where(Plan.__table__.c.id == bindparam("pid"))
             .values(window_state=bindparam("ws"), nightly_date=bindparam("nd")))
    start, processed, last = time.perf_counter(), 0, ""
    while True:
        with engine.begin() as conn:
            rows = conn.execute(select(*columns).where(Plan.id > last).order_by(Plan.id)
                                .limit(1000)).all()
            if not rows:
                break
            conn.execute(write, [{"pid": r.id, "nd": TODAY,
                                  "ws": str(window_state(TODAY, r.next_earliest, r.next_latest,
                                                         r.lapse_after, r.booked_until))}
                                 for r in rows])
        processed += len(rows)
        last = rows[-1].id
    return {"seconds": time.perf_counter() - start, "plans": processed}


def child_worklist(url: str) -> dict:
    from scheduler.db import UnitOfWork, make_engine, make_session_factory
    from scheduler.services.proposals import followups
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    timings = []
    for i in range(300):
        start = time.perf_counter()
        followups(UnitOfWork(sessions), clinic_id=f"cln_{i % 7:04d}", on=TODAY, now=NOW,
                  limit=50)
        timings.append((time.perf_counter() - start) * 1000)
    timings = sorted(timings[20:])  # the first calls warm caches
    return {"p50_ms": timings[len(timings) // 2], "p99_ms": timings[int(len(timings) * .99)]}


def run_child(kind: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(url: str, plans: int, clinics: int) -> dict:
    log(f"  populating {plans:,} plans in {clinics} clinics")
    populate(url, plans, clinics)
    nightly = run_child("nightly", url)
    reset(url)
    bare = run_child("bare", url)
    worklist = run_child("worklist", url)
    nightly_rate = nightly["plans"] / nightly["seconds"]
    bare_rate = bare["plans"] / bare["seconds"]
    return {"plans": plans, "ratio": round(nightly_rate / bare_rate, 3),
            "peak_rss_mb": nightly["peak_rss_mb"],
            "worklist_p99_ms": round(worklist["p99_ms"], 2),
            "worklist_p50_ms": round(worklist["p50_ms"], 2),
            "nightly_plans_per_s": round(nightly_rate), "bare_plans_per_s": round(bare_rate),
            "nightly_seconds": round(nightly["seconds"], 1),
            "bare_seconds": round(bare["seconds"], 1), "bare_peak_rss_mb": bare["peak_rss_mb"],
            "events": nightly["events"], "overrides_expired": nightly["overrides_expired"]}


def reset(url: str) -> None:
    from sqlalchemy import text

    from scheduler.db import make_engine
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE plans SET nightly_date = :d"), {"d": TODAY - timedelta(1)})
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, help="one size only (default: 100000 and 1000000)")
    parser.add_argument("--clinics", type=int, default=100)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        result = {"nightly": child_nightly, "bare": child_bare,
                  "worklist": child_worklist}[args.child](args.url)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return
    sizes = [args.plans] if args.plans else [100_000, 1_000_000]
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="cadence-nightly-") as tmp:
        Path(tmp).chmod(0o755)  # the postgres user must reach its cluster directory
        for kind in args.databases.split(","):
            runs = []
            for size in sizes:
                log(f"== {kind}, {size:,} plans")
                with database(kind, Path(tmp) / f"{kind}-{size}") as url:
                    runs.append(measure(url, size, args.clinics) if url else None)
            report[kind] = runs[-1]
            if report[kind] and len(runs) > 1:
                report[kind]["peak_rss_mb_by_plans"] = {
                    str(r["plans"]): r["peak_rss_mb"] for r in runs if r}
    for kind, figures in report.items():
        if figures is None:
            print(f"{kind:>10}: not measured (no server binaries)")
            continue
        print(f"{kind:>10}: {figures['plans']:,} plans  nightly {figures['nightly_plans_per_s']:,}"
              f"/s ({figures['nightly_seconds']} s)  bare {figures['bare_plans_per_s']:,}/s  "
              f"ratio {figures['ratio']} (target >= 0.3)  peak RSS {figures['peak_rss_mb']} MB "
              f"(target <= 200)  worklist p99 {figures['worklist_p99_ms']} ms (target <= 20)")
        if "peak_rss_mb_by_plans" in figures:
            print(f"{'':>10}  peak RSS by plans: {figures['peak_rss_mb_by_plans']}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
