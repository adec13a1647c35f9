"""API benchmark: the service vs a bare Flask + SQLAlchemy + marshmallow app, same run, same way.

Run from the repository root (any python: it re-executes itself with .venv/bin/python):

    .venv/bin/python -m bench.api_bench                  # defaults: 10 s x 3 runs, both DBs
    .venv/bin/python bench/api_bench --seconds 3 --runs 1  # quick check (same entry point)
    .venv/bin/python bench/api_bench/run.py --databases sqlite
    (fractional --warmup / --seconds are not accepted by wrk: use whole seconds)

For each database (a SQLite file in a temp dir; PostgreSQL on a throwaway cluster when
/usr/lib/postgresql/*/bin exists, else null; default settings, fsync on, port --pg-port):
  1. `flask --app wsgi db upgrade`, an admin key from `flask --app wsgi apikey create`;
  2. the service under gunicorn as deployed (deploy/gunicorn.conf.py: 2 sync workers,
     127.0.0.1, free port; JSON logs with the app's access line to the log file, multiprocess
     metrics), and beside it the same service with logging and metrics off (ACCESS_LOG=false,
     METRICS_ENABLED=false, LOG_LEVEL=WARNING, no PROMETHEUS_MULTIPROC_DIR) on the same
     database; through its HTTP API a clinic (America/Vancouver, Mon-Fri, CA-BC), a
     booking_system key, and `--plans` patients each with a plan with consent;
  3. the bare app (bench/api_bench/bare_app.py) on its own database of the same kind (same
     engine factory), `--rows` seeded rows, under gunicorn the same way;
  4. warm-up, then `wrk -t2 -c16 -d<seconds>s --latency` with Lua scripts, interleaved per run:
     service GET /api/v1/plans/{id}/next-visit (on, off), bare GET /rows/{key},
     service GET /api/v1/plans/{id}/fhir (the FHIR Bundle, on 50 plans of its own with 10
     reports each, which the report POSTs never touch), service POST
     /cds-services/ims-cadence-visit-window (a CDS Hooks appointment-book call: two
     appointments, one inside the window, one 60 days out, so one `info` card) twice: at
     -c16 like the rest, and at -c2 (one connection per worker, nothing queued: the answer
     time an EHR sees, which `cds_p99_ms` reports; `cds_p99_ms_c16` is the queued figure),
     service POST /api/v1/plans/{id}/reports (on, off), bare POST /rows, and the patient's
     check-in form POST /c/{token} (bench/api_bench/checkin_links.py: fresh single-use links
     for every run on plans of their own, one page session's cookie and CSRF token; the same
     report path, plus the link's lookup and claim); each on/off pair swaps order every
     other run.
     Each wrk thread walks its own slice of the plans (rows) round-robin, so requests are spread
     over many rows and one plan never has two reports in flight (the reports carry
     recorded_at = now at 1 s resolution; overlapping ones would be "late" reports and refold
     the plan's history, which is a different path from the one measured here). The report
     runs add reports to the plans, so later runs' FHIR Bundles carry more Observations
     (a few dozen per plan by the last run): the FHIR figure is a conservative one.
Median of `--runs` runs per endpoint (rate, p50 and p99 each); a ratio is the ratio of the
median rates (the per-run ratios of back-to-back runs are printed too, as a noise check).
Prints a table, then exactly one JSON line:
  {"observability_overhead": <SQLite's>,
   "sqlite": {"next_visit_ratio", "report_ratio", "next_visit_p99_ms", "report_p99_ms",
              "fhir_ratio", "cds_p99_ms", "checkin_ratio", "observability_overhead",
              "observability_overhead_by_endpoint", ...},
   "postgresql": {...} | null}
observability_overhead = the larger, over next-visit and reports, of the median over runs of
1 - rate(on) / rate(off) for each run's adjacent on/off pair (0.03 = 3 % slower with logging
and metrics on); observability_overhead_spread gives each endpoint's lowest and highest pair,
observability_overhead_of_medians the ratio of the median rates (the figure before
2026-12-03). Ratios against the bare app use the "on" runs.
Also reported: the servers' CPU time per request (gunicorn master + workers, from /proc) and
observability_cpu_overhead (on / off - 1 of it), which moves less with the machine's load.
Targets: next_visit_ratio >= 0.6, report_ratio >= 0.4, p99 <= 50 ms, overhead <= 0.05;
fhir_ratio (FHIR GET vs bare GET) >= 0.3, cds_p99_ms <= 20, checkin_ratio (check-in POST vs
bare POST) >= 0.3. The process exits 0 even when a
target is missed (the JSON says so in "targets_met"); it exits 1 when a wrk run saw errors or
non-2xx responses (the numbers would not mean anything).

Gunicorn process groups, wrk and the PostgreSQL cluster are stopped on exit, error, Ctrl-C and
SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # when run as a script

from bench.api_bench import checkin_links  # noqa: E402
from bench.api_bench.procs import (  # noqa: E402
    Children,
    Interrupted,
    call,
    log,
    reexec_in_venv,
    run_cli,
    signals_unwind,
    start_gunicorn,
    wait_http,
)
from bench.api_bench.report import (  # noqa: E402
    ANSWER_CONNECTIONS,
    ENDPOINTS,
    PAIRS,
    print_table,
    summarise,
)
from bench.api_bench.wrk import WRK, WrkResult, run_wrk, write_lua  # noqa: E402
from bench.pgcluster import PostgresCluster, find_pg_bin  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
# The service as deployed (deploy/gunicorn.conf.py: JSON logs, the app's access line to the
# log file, multiprocess metrics) and the same service with the access line, the HTTP metrics
# and GET /metrics off (LOG_LEVEL=WARNING), on one database; "_off" endpoints run on the latter.
OBSERVED_OFF = {"ACCESS_LOG": "false", "METRICS_ENABLED": "false", "LOG_LEVEL": "WARNING"}


FHIR_PLANS, FHIR_REPORTS = 50, 10  # the FHIR GET's own plans: a course's worth of reports


def setup_service(base: str, admin: str,
                  plans: int) -> tuple[str, list[str], list[str], list[str]]:
    clinic = call(base, "POST", "/api/v1/clinics", admin, {
        "name": "Bench Physio", "timezone": "America/Vancouver",
        "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC"})
    key = call(base, "POST", "/api/v1/api-keys", admin, {
        "name": "bench booking", "role": "booking_system", "clinic_ids": [clinic["id"]]})["key"]
    consent_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    onset = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()

    def new_plan(external_id: str, pain: int, neuropathic: bool) -> str:
        patient = call(base, "POST", "/api/v1/patients", key, {
            "clinic_id": clinic["id"], "external_id": external_id})
        return str(call(base, "POST", "/api/v1/plans", key, {
            "patient_id": patient["id"], "condition": "lumbar myofascial pain",
            "onset_date": onset, "baseline": {"pain": pain, "function": 3},
            "neuropathic_symptoms": neuropathic,
            "consent": {"recorded_at": consent_at, "recorded_by": "physio:bench"}})["id"])

    plan_ids = [new_plan(f"MRN-{n:05d}", 4 + n % 6, n % 5 == 0) for n in range(plans)]
    # The FHIR Bundle grows with a plan's reports (one Observation each): it is measured on
    # plans of its own that the report POSTs never touch, so every run reads the same bundles.
    fhir_ids = [new_plan(f"FHIR-{n:05d}", 7, False) for n in range(FHIR_PLANS)]
    for plan_id in fhir_ids:
        for r in range(FHIR_REPORTS):
            at = (datetime.now(UTC) - timedelta(minutes=50 - 4 * r)).isoformat(timespec="seconds")
            call(base, "POST", f"/api/v1/plans/{plan_id}/reports", key,
                 {"recorded_at": at, "pain": max(0, 7 - r // 2), "function": 3 + r // 3})
    # The check-in POSTs answer plans of their own (a report each), apart from the report POSTs'
    checkin_ids = [new_plan(f"CHK-{n:05d}", 4 + n % 6, False) for n in range(plans)]
    return key, plan_ids, fhir_ids, checkin_ids


# ---------------------------------------------------------------------------------------------
# One database.


@dataclass
class Target:
    base: str
    script: Path
    server: int  # the gunicorn master's pid (its workers' CPU time is counted)


_TICK = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(master: int) -> float:
    """User + system CPU time of a gunicorn master and its workers so far (from /proc).

    CPU time per request moves far less than req/s when other work shares the machine, so
    it is reported beside the throughput comparison as a steadier view of the same cost."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(entry) == master or int(fields[1]) == master:  # fields[1]: ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / _TICK


def bench_database(kind: str, service_url: str, bare_url: str, args: argparse.Namespace,
                   children: Children, workdir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from bench.api_bench import bare_app

    # The per-key rate limiter stays on (in-memory, as by default), with a limit the
    # benchmark's one key never reaches: its cost is measured, not its refusals.
    env = {**os.environ, "DATABASE_URL": service_url, "PYTHONDONTWRITEBYTECODE": "1",
           "RATE_LIMIT": args.rate_limit, "CHECKIN_ADDRESS_LIMIT": args.rate_limit}
    env.pop("CADENCE_TESTING", None)
    flask = str(VENV_BIN / "flask")
    log(f"{kind}: migrating, admin key")
    run_cli([flask, "--app", "wsgi", "db", "upgrade"], env)
    admin = run_cli([flask, "--app", "wsgi", "apikey", "create", "--name", "bench-admin",
                     "--role", "admin"], env).strip().splitlines()[-1]

    conf = ["-c", str(REPO / "deploy" / "gunicorn.conf.py")]
    metrics_dir = workdir / f"prometheus-{kind}"
    on_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_FORMAT": "json",
              "LOG_LEVEL": "INFO"}
    service, service_base = start_gunicorn(children, "wsgi:app", on_env, workdir,
                                           f"{kind}-service", conf)
    wait_http(service_base + "/healthz", service)
    off_env = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    quiet, quiet_base = start_gunicorn(children, "wsgi:app", {**off_env, **OBSERVED_OFF},
                                       workdir, f"{kind}-service-off", conf)
    wait_http(quiet_base + "/healthz", quiet)
    log(f"{kind}: service on {service_base} (and {quiet_base} with logging and metrics off);"
        f" creating clinic, key, {args.plans} plans")
    token, plan_ids, fhir_ids, checkin_ids = setup_service(service_base, admin, args.plans)

    log(f"{kind}: bare app: {args.rows} rows")
    row_ids = bare_app.init_db(bare_url, args.rows)
    bare_env = {**env, bare_app.ENV_URL: bare_url}
    bare, bare_base = start_gunicorn(children, "bench.api_bench.bare_app:app", bare_env, workdir,
                                     f"{kind}-bare")
    wait_http(f"{bare_base}/rows/{row_ids[0]}", bare)

    targets: dict[str, Target] = {}
    patients = [f"MRN-{n:05d}" for n in range(len(plan_ids))]
    today = datetime.now(UTC).date()
    appointments = {"soon": f"{today + timedelta(days=1)}T18:00:00Z",
                    "later": f"{today + timedelta(days=60)}T18:00:00Z"}
    for endpoint in ENDPOINTS:
        script = workdir / f"{kind}-{endpoint}.lua"
        bare_side = endpoint.startswith("bare")
        hook = endpoint.startswith("cds")
        ids = (row_ids if bare_side else patients if hook else fhir_ids if endpoint == "fhir"
               else plan_ids)
        if endpoint != "checkin":  # its script is written before each run (fresh links)
            write_lua(script, "cds" if hook else endpoint.removesuffix("_off"), ids, token,
                      args.threads, appointments if hook else None)
        base = bare_base if bare_side else quiet_base if endpoint.endswith("_off") \
            else service_base
        server = (bare if bare_side else quiet if endpoint.endswith("_off") else service).pid
        targets[endpoint] = Target(base, script, server)

    with checkin_links.issuer(service_url) as issuer:
        cookie, csrf = checkin_links.page_session(service_base,
                                                  issuer.links(checkin_ids, 1)[0])
        return _measure(kind, targets, args, children, (service, quiet, bare),
                        checkin=checkin_links.CheckinRuns(issuer, checkin_ids, cookie, csrf))


def _measure(kind: str, targets: dict[str, Target], args: argparse.Namespace,
             children: Children, servers: tuple[subprocess.Popen[bytes], ...], *,
             checkin: checkin_links.CheckinRuns) -> dict[str, Any]:
    def one(endpoint: str, seconds: float) -> WrkResult:
        links = checkin.prepare(targets[endpoint].script, seconds, args.threads) \
            if endpoint == "checkin" else None
        result = run_wrk(children, targets[endpoint].base, targets[endpoint].script, seconds,
                         args.threads, connections(endpoint, args))
        check(kind, endpoint, result)
        if links is not None:
            if result.requests > links:
                raise BadRun(f"{kind} checkin: {result.requests} requests but {links} links")
            checkin.last_rps = result.rps
        return result

    log(f"{kind}: warm-up {args.warmup:g} s per endpoint")
    for endpoint in ENDPOINTS:
        one(endpoint, args.warmup)

    results: dict[str, list[WrkResult]] = {e: [] for e in ENDPOINTS}
    cpu_us: dict[str, list[float]] = {e: [] for e in ENDPOINTS}  # server CPU per request
    for n in range(1, args.runs + 1):
        order = list(ENDPOINTS)
        if n % 2 == 0:  # on/off pairs swap places every other run (drift hits both alike)
            for on, off in PAIRS:
                i, j = order.index(on), order.index(off)
                order[i], order[j] = order[j], order[i]
        for endpoint in order:
            before = server_cpu_seconds(targets[endpoint].server)
            result = one(endpoint, args.seconds)
            used = server_cpu_seconds(targets[endpoint].server) - before
            results[endpoint].append(result)
            cpu_us[endpoint].append(used / max(result.requests, 1) * 1e6)
            if args.verbose:
                log(result.raw)
            log(f"{kind} run {n}/{args.runs} {endpoint:<10} {result.rps:8.1f} req/s "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
                f"server CPU {cpu_us[endpoint][-1]:7.0f} us/request")
    for server in servers:
        children.stop(server)
    return summarise(results, cpu_us)


def connections(endpoint: str, args: argparse.Namespace) -> int:
    return ANSWER_CONNECTIONS if endpoint == "cds_answer" else args.connections


class BadRun(RuntimeError):
    pass


def check(kind: str, endpoint: str, result: WrkResult) -> None:
    if result.non2xx or result.errors:
        raise BadRun(f"{kind} {endpoint}: {result.non2xx} non-2xx responses, {result.errors} "
                     f"socket errors out of {result.requests}:\n{result.raw}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="wrk duration per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per endpoint (median)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c")
    parser.add_argument("--plans", type=int, default=200, help="plans (and patients) created")
    parser.add_argument("--rows", type=int, default=200, help="rows seeded in the bare app")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated subset of sqlite,postgresql")
    parser.add_argument("--pg-port", type=int, default=54331)
    parser.add_argument("--rate-limit", default="100000000/minute",
                        help="RATE_LIMIT of the service (on, but above the offered load)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DBs)")
    parser.add_argument("--verbose", action="store_true", help="echo wrk's output to stderr")
    args = parser.parse_args(argv)
    if args.plans < args.threads or args.rows < args.threads:
        parser.error("--plans and --rows must be at least --threads")
    return args


def main(argv: list[str] | None = None) -> int:
    reexec_in_venv(Path(__file__))
    args = parse_args(argv)
    wanted = {d.strip() for d in args.databases.split(",") if d.strip()}
    if not os.access(WRK, os.X_OK):
        sys.exit(f"wrk not found ({WRK})")
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-api-bench."))
    report: dict[str, dict[str, Any] | None] = {"sqlite": None, "postgresql": None}
    cluster: PostgresCluster | None = None
    status = 0
    try:
        with signals_unwind():
            if "sqlite" in wanted:
                report["sqlite"] = bench_database(
                    "sqlite", f"sqlite:///{workdir / 'cadence.db'}",
                    f"sqlite:///{workdir / 'bare.db'}", args, children, workdir)
            pg_bin = find_pg_bin() if "postgresql" in wanted else None
            if pg_bin is not None:
                log(f"postgresql: throwaway cluster from {pg_bin} on port {args.pg_port}")
                cluster = PostgresCluster(pg_bin, args.pg_port, workdir)
                cluster.start()
                report["postgresql"] = bench_database(
                    "postgresql", cluster.url("cadence"), cluster.url("bare"), args, children,
                    workdir)
            elif "postgresql" in wanted:
                log("postgresql: no server binaries under /usr/lib/postgresql/*/bin; null")
    except BadRun as exc:
        log(str(exc))
        status = 1
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({str(exc) or 'Ctrl-C'}); stopping gunicorn, wrk and PostgreSQL")
        status = 130
    finally:
        children.stop_all()
        if cluster is not None:
            cluster.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if status:
        return status
    print_table(report, args)
    sqlite = report["sqlite"]
    line = {"observability_overhead": sqlite["observability_overhead"] if sqlite else None,
            **report}
    print(json.dumps(line, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
