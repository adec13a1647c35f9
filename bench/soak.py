"""Soak: the service as deployed under mixed traffic while the database, a scheduler and a
webhook receiver fail, then an account of every write, effect and webhook.

    .venv/bin/python bench/soak.py --minutes 3      # a short, still meaningful run
    .venv/bin/python bench/soak.py --minutes 10     # the README's figures

Its parts are in bench/soaking/ (traffic, receivers, accounting).

It starts and owns a throwaway PostgreSQL cluster (bench/pgcluster.py), gunicorn as deployed
(deploy/gunicorn.conf.py, 2 sync workers) and two `python -m scheduler` processes (a leader
and a hot standby), with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true for its local receivers: two
healthy ones (204 at once) and one that accepts connections and never answers, all three
subscribed to every event of the clinic. 16 client threads (http.client, keep-alive) send
mixed traffic: keyed POSTs of plans, sessions and reports (the key also the X-Request-Id; 30 %
sent twice on purpose with the same key; a 503 or 409 is retried with the same key), hold /
resume with If-Match, and reads (next-visit, a plan, follow-ups). Faults, relative to the
duration: at 25 % PostgreSQL is stopped (pg_ctl stop -m fast) for 20 s and started again; at
55 % the leading scheduler is SIGKILLed (the standby takes over; a new standby is started 5 s
later). After the traffic, a drain (up to --drain seconds) waits for the healthy receivers'
deliveries to succeed. Then one JSON line:

  {"server_errors_not_503", "lost_writes", "duplicate_effects", "webhooks_lost",
   "healthy_delivery_p99_s", "requests", "redeliveries", ...}

lost_writes: ids answered with a 2xx (patients, plans, visits, reports, action events) not in
the database at the end. duplicate_effects: keys with more than one plan, visit, report, decision or
outbox event of one type for one plan. webhooks_lost: events with a delivery for a healthy
subscription that its receiver never got. healthy_delivery_p99_s: p99 of (first receipt -
the outbox event's created_at). Redeliveries of a webhook-id (at least once) are counted apart.
Exit status 1 when a target is missed (0 5xx but 503, 0 lost, 0 duplicates, p99 <= 10 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # when run as a script

from bench.api_bench.procs import (  # noqa: E402
    Children,
    Interrupted,
    call,
    log,
    run_cli,
    signals_unwind,
    start_gunicorn,
    wait_http,
)
from bench.pgcluster import PostgresCluster, find_pg_bin, free_port  # noqa: E402
from bench.soaking import accounting, receivers, traffic  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
EVENTS = ["plan.created", "plan.phase_changed", "plan.frequency_changed",
          "plan.status_changed", "plan.review_required", "followup.due", "followup.overdue"]
OUTAGE_SECONDS = 20.0


def _reexec_in_venv() -> None:
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        return
    python = VENV_BIN / "python"
    if not python.exists():
        sys.exit(f"{python} is missing: run `make install` first")
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/soak.py",
                                     description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("--minutes", type=float, default=10, help="traffic duration")
    parser.add_argument("--connections", type=int, default=16, help="client threads")
    parser.add_argument("--plans", type=int, default=40, help="plans created before traffic")
    parser.add_argument("--drain", type=float, default=120, help="max seconds of drain")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    if args.minutes * 60 * 0.25 < 10:
        parser.error("--minutes must leave room for the faults (at least 0.7)")
    return args


class Schedulers:
    """`python -m scheduler` processes; the leader is read from the heartbeats table."""

    def __init__(self, children: Children, env: dict[str, str], workdir: Path) -> None:
        self.children, self.env, self.workdir = children, env, workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        n = len(self.procs)
        out = open(self.workdir / f"scheduler-{n}.log", "ab")  # noqa: SIM115 - the child's
        self.procs.append(self.children.start([str(VENV_BIN / "python"), "-m", "scheduler"],
                                              cwd=REPO, env=self.env, stdout=out,
                                              stderr=subprocess.STDOUT))

    def kill_leader(self, engine: Any) -> int | None:
        from sqlalchemy import text
        with engine.connect() as conn:
            pid = conn.execute(text(
                "SELECT pid FROM scheduler_heartbeats WHERE role = 'leader' "
                "ORDER BY beat_at DESC LIMIT 1")).scalar()
        alive = {p.pid for p in self.procs if p.poll() is None}
        if pid not in alive:
            return None
        os.kill(int(pid), signal.SIGKILL)
        return int(pid)


def faults(cluster: PostgresCluster, schedulers: Schedulers, engine: Any, seconds: float,
           stop: threading.Event, done: list[str]) -> None:
    started = time.monotonic()

    def at(fraction: float) -> bool:
        return not stop.wait(max(0.0, started + fraction * seconds - time.monotonic()))

    if at(0.25):
        log("fault: PostgreSQL stopped (pg_ctl stop -m fast)")
        cluster.pause()
        time.sleep(OUTAGE_SECONDS)
        cluster.resume()
        log("fault over: PostgreSQL started again")
        done.append(f"database stopped {OUTAGE_SECONDS:g} s")
    if at(0.55):
        for _ in range(30):  # the leader beats every 15 s: it may be a moment in coming
            try:
                killed = schedulers.kill_leader(engine)
            except Exception:  # noqa: BLE001 - the database coming back
                killed = None
            if killed:
                break
            time.sleep(1)
        log(f"fault: scheduler leader pid {killed} SIGKILLed")
        if killed:
            done.append(f"scheduler {killed} SIGKILLed")
        time.sleep(5)
        schedulers.start()  # a standby again


def setup(base: str, admin: str, plans: int,
          urls: list[str]) -> tuple[str, str, list[str], list[str], dict[str, str]]:
    clinic = call(base, "POST", "/api/v1/clinics", admin, {
        "name": "Soak Physio", "timezone": "America/Vancouver",
        "open_weekdays": [0, 1, 2, 3, 4, 5, 6], "holiday_region": "CA-BC"})["id"]
    key = call(base, "POST", "/api/v1/api-keys", admin, {
        "name": "soak booking", "role": "booking_system", "clinic_ids": [clinic]})["key"]
    hooks = {url: call(base, "POST", "/api/v1/webhooks", key, {
        "clinic_id": clinic, "url": url, "events": EVENTS})["id"] for url in urls}
    consent = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    onset = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
    patients, plan_ids = [], []
    for n in range(plans):
        patient = call(base, "POST", "/api/v1/patients", key, {
            "clinic_id": clinic, "external_id": f"SOAK-{n:04d}"})["id"]
        patients.append(patient)
        plan_ids.append(call(base, "POST", "/api/v1/plans", key, {
            "patient_id": patient, "condition": "lumbar myofascial pain", "onset_date": onset,
            "baseline": {"pain": 5 + n % 4, "function": 3}, "neuropathic_symptoms": False,
            "consent": {"recorded_at": consent, "recorded_by": "physio:soak"}})["id"])
    return clinic, key, patients, plan_ids, hooks


def undelivered(engine: Any, hook_ids: list[str]) -> int:
    from sqlalchemy import bindparam, text
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM webhook_deliveries WHERE webhook_id IN :ids "
            "AND status <> 'succeeded'").bindparams(bindparam("ids", expanding=True)),
            {"ids": hook_ids}).scalar() or 0)


def stored_state(engine: Any, healthy: dict[str, str]) -> dict[str, Any]:
    """What the database holds at the end, for the accounting."""
    from sqlalchemy import bindparam, text
    with engine.connect() as conn:
        def ids(sql: str) -> set[str]:
            return {row[0] for row in conn.execute(text(sql))}

        def per_key(sql: str) -> dict[str, int]:
            return {row[0]: int(row[1]) for row in conn.execute(text(sql))}

        stored = {"plans": ids("SELECT id FROM plans"), "visits": ids("SELECT id FROM visits"),
                  "reports": ids("SELECT id FROM reports"),
                  "patients": ids("SELECT id FROM patients"),
                  "plan_events": ids("SELECT id FROM plan_events")}
        effects = {
            "plans": per_key("SELECT condition, count(*) FROM plans WHERE condition LIKE "
                             "'soak soak-%' GROUP BY condition"),
            "visits": per_key("SELECT external_id, count(*) FROM visits WHERE external_id "
                              "LIKE 'soak-%' GROUP BY external_id"),
            "reports": per_key("SELECT notes, count(*) FROM reports WHERE notes LIKE 'soak-%' "
                               "GROUP BY notes"),
            "report_decisions": per_key(
                "SELECT r.notes, count(d.id) FROM reports r JOIN decisions d ON "
                "d.event_id = r.event_id WHERE r.notes LIKE 'soak-%' GROUP BY r.notes"),
            "outbox": per_key(
                "SELECT request_id || ' ' || type || ' ' || coalesce(plan_id, ''), count(*) "
                "FROM outbox_events WHERE request_id LIKE 'soak-%' "
                "GROUP BY request_id, type, plan_id"),
        }
        owed: dict[str, set[str]] = {}
        for url, hook in healthy.items():
            owed[url] = {row[0] for row in conn.execute(text(
                "SELECT event_id FROM webhook_deliveries WHERE webhook_id = :h"), {"h": hook})}
        created = {row[0]: row[1].timestamp() for row in conn.execute(text(
            "SELECT id, created_at FROM outbox_events WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": sorted(set().union(*owed.values()))
                                                or [""]})}
        states = dict(conn.execute(text(
            "SELECT status, count(*) FROM webhook_deliveries GROUP BY status")).all())
    return {"stored": stored, "effects": effects, "owed": owed, "created": created,
            "delivery_states": {k: int(v) for k, v in states.items()}}


def soak(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    from sqlalchemy import create_engine

    pg_bin = find_pg_bin()
    if pg_bin is None:
        sys.exit("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    cluster = PostgresCluster(pg_bin, free_port(), workdir)
    try:
        cluster.start()
        return _soak(args, children, workdir, cluster, create_engine)
    finally:
        children.stop_all()
        cluster.stop()


def _soak(args: argparse.Namespace, children: Children, workdir: Path,
          cluster: PostgresCluster, create_engine: Any) -> dict[str, Any]:
    url = cluster.url("cadence")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1",
           "RATE_LIMIT": "100000000/minute", "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
           "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
           "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus")}
    for name in ("CADENCE_TESTING", "SCHEDULER_METRICS_PORT"):
        env.pop(name, None)
    flask = str(VENV_BIN / "flask")
    run_cli([flask, "--app", "wsgi", "db", "upgrade"], env)
    admin = run_cli([flask, "--app", "wsgi", "apikey", "create", "--name", "soak-admin",
                     "--role", "admin"], env).strip().splitlines()[-1]
    server, base = start_gunicorn(children, "wsgi:app", env, workdir, "service",
                                  ["-c", str(REPO / "deploy" / "gunicorn.conf.py")])
    wait_http(base + "/healthz", server)
    schedulers = Schedulers(children, env, workdir)
    schedulers.start()
    schedulers.start()
    healthy = [receivers.Healthy("a"), receivers.Healthy("b")]
    hanging = receivers.Hanging()
    clinic, key, patients, plans, hooks = setup(
        base, admin, args.plans, [h.url for h in healthy] + [hanging.url])
    engine = create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"),
                           pool_pre_ping=True)
    seconds = args.minutes * 60
    log(f"service on {base}, 2 schedulers, {args.plans} plans; traffic for {seconds:g} s at "
        f"{args.connections} connections")
    tally, stop, done = traffic.Tally(), threading.Event(), []
    threads = [threading.Thread(target=traffic.worker, daemon=True, args=(
        base, key, plans, patients, clinic, tally, stop, n)) for n in range(args.connections)]
    fault = threading.Thread(target=faults, args=(cluster, schedulers, engine, seconds, stop,
                                                  done), daemon=True)
    started = time.monotonic()
    for thread in [*threads, fault]:
        thread.start()
    try:
        while time.monotonic() - started < seconds:
            time.sleep(5)
            log(f"{time.monotonic() - started:5.0f} s: {len(tally.statuses)} answers "
                f"{dict(sorted(tally.by_status.items()))}")
    finally:
        stop.set()
    for thread in threads:
        thread.join(120)
    fault.join(120)
    traffic_s = time.monotonic() - started
    healthy_ids = [hooks[h.url] for h in healthy]
    drain_start = time.monotonic()
    while time.monotonic() - drain_start < args.drain:
        try:
            if undelivered(engine, healthy_ids) == 0:
                break
        except Exception:  # noqa: BLE001
            pass
        time.sleep(1)
    drained_s = time.monotonic() - drain_start
    state = stored_state(engine, {h.url: hooks[h.url] for h in healthy})
    engine.dispose()
    hooks_seen = accounting.webhook_accounting(
        state["owed"], {h.url: list(h.received) for h in healthy}, state["created"])
    effects = state["effects"]
    line = accounting.summary(
        statuses=tally.statuses,
        lost=accounting.lost_writes(tally.acknowledged, state["stored"]),
        duplicates=accounting.duplicate_effects(effects),
        hooks=hooks_seen,
        replays_with_another_id=tally.replays_differing,
        by_status={str(k): v for k, v in sorted(tally.by_status.items())},
        lost_by_table=accounting.lost_by_table(tally.acknowledged, state["stored"]),
        by_kind=dict(sorted(tally.by_kind.items())), problems=tally.problems,
        connection_errors=tally.connection_errors,
        acknowledged={k: len(v) for k, v in sorted(tally.acknowledged.items())},
        keys=len(tally.keys),
        healthy_deliveries=sum(len(v) for v in state["owed"].values()),
        delivery_states=state["delivery_states"], hanging_connections=hanging.accepted,
        faults=done, traffic_s=round(traffic_s, 1), drain_s=round(drained_s, 1),
        load_average=[round(x, 2) for x in os.getloadavg()])
    for h in healthy:
        h.close()
    hanging.close()
    return line


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _reexec_in_venv()
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-soak."))
    try:
        with signals_unwind():
            line = soak(args, children, workdir)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({str(exc) or 'Ctrl-C'}); stopped gunicorn, schedulers, PostgreSQL")
        return 130
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    missed = accounting.missed(line)
    line["targets_missed"] = missed
    print(json.dumps(line, separators=(", ", ": ")))
    return 1 if missed or len(line["faults"]) < 2 else 0  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
