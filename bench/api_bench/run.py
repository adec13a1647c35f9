"""API benchmark: the service vs a bare Flask + SQLAlchemy + marshmallow app, same run, same way.

Run from the repository root (any python: it re-executes itself with .venv/bin/python):

    .venv/bin/python -m bench.api_bench                  # defaults: 10 s x 3 runs, both DBs
    .venv/bin/python bench/api_bench --seconds 3 --runs 1  # quick check (same entry point)
    .venv/bin/python bench/api_bench/run.py --databases sqlite

For each database (a SQLite file in a temp dir; PostgreSQL on a throwaway cluster when
/usr/lib/postgresql/*/bin exists, else null; default settings, fsync on, port --pg-port):
  1. `flask --app wsgi db upgrade`, an admin key from `flask --app wsgi apikey create`;
  2. the service under gunicorn (2 sync workers, 127.0.0.1, free port, no access log); through
     its HTTP API a clinic (America/Vancouver, Mon-Fri, CA-BC), a booking_system key, and
     `--plans` patients each with a plan with consent;
  3. the bare app (bench/api_bench/bare_app.py) on its own database of the same kind (same
     engine factory), `--rows` seeded rows, under gunicorn the same way;
  4. warm-up, then `wrk -t2 -c16 -d<seconds>s --latency` with Lua scripts, interleaved per run:
     service GET /api/v1/plans/{id}/next-visit, bare GET /rows/{key},
     service POST /api/v1/plans/{id}/reports, bare POST /rows.
     Each wrk thread walks its own slice of the plans (rows) round-robin, so requests are spread
     over many rows and one plan never has two reports in flight (the reports carry
     recorded_at = now at 1 s resolution; overlapping ones would be "late" reports and refold
     the plan's history, which is a different path from the one measured here).
Median of `--runs` runs per endpoint (rate, p50 and p99 each); a ratio is the ratio of the
median rates (the per-run ratios of back-to-back runs are printed too, as a noise check).
Prints a table, then exactly one JSON line:
  {"sqlite": {"next_visit_ratio", "report_ratio", "next_visit_p99_ms", "report_p99_ms", ...},
   "postgresql": {...} | null}
Targets: next_visit_ratio >= 0.6, report_ratio >= 0.4, p99 <= 50 ms. The process exits 0 even
when a target is missed (the JSON says so in "targets_met"); it exits 1 when a wrk run saw
errors or non-2xx responses (the numbers would not mean anything).

Gunicorn process groups, wrk and the PostgreSQL cluster are stopped on exit, error, Ctrl-C and
SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
VENV_PYTHON = VENV_BIN / "python"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
TARGETS = {"next_visit_ratio": 0.6, "report_ratio": 0.4, "p99_ms": 50.0}
ENDPOINTS = ("next_visit", "bare_get", "report", "bare_post")
LABELS = {
    "next_visit": "service GET  /plans/{id}/next-visit",
    "bare_get": "bare    GET  /rows/{key}",
    "report": "service POST /plans/{id}/reports",
    "bare_post": "bare    POST /rows",
}


def _reexec_in_venv() -> None:
    """Run under the project venv (flask, sqlalchemy, bare_app's imports) whatever started us."""
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        return
    if not VENV_PYTHON.exists():
        sys.exit(f"{VENV_PYTHON} is missing: run `make install` first")
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Interrupted(BaseException):
    """SIGTERM / SIGHUP: unwind through every `finally` like Ctrl-C does."""


def _on_signal(signum: int, _frame: Any) -> None:
    raise Interrupted(f"signal {signum}")


# ---------------------------------------------------------------------------------------------
# Processes: every child we start is tracked and stopped in `finally`.


class Children:
    """Long-running children (gunicorn, wrk) in their own process groups."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # gunicorn workers share the master's group: make sure none outlived it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def run_cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway cluster (as .ci/run does, on another port).


def find_pg_bin() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0],
                        reverse=True)
    for directory in candidates:
        if all((directory / b).exists() for b in ("initdb", "pg_ctl", "postgres", "createdb")):
            return directory
    return None


class PostgresCluster:
    def __init__(self, pg_bin: Path, port: int, workdir: Path) -> None:
        self.pg_bin, self.port = pg_bin, port
        self.dir = workdir / "pg"
        self.started = False

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(self._as_postgres(argv), capture_output=True, text=True,
                              timeout=120, start_new_session=True)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self.dir.mkdir()
        if os.geteuid() == 0:
            self.dir.parent.chmod(0o755)
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(self.pg_bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        self.started = True  # from here on, stop() is needed
        self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.dir / "data"),
                   "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
                   "start"])
        for name in ("cadence", "bare"):
            self._run([str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", "postgres", name])

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if not self.started:
            return
        subprocess.run(self._as_postgres([str(self.pg_bin / "pg_ctl"), "-D",
                                          str(self.dir / "data"), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120, start_new_session=True)
        self.started = False


# ---------------------------------------------------------------------------------------------
# HTTP setup through the service's API.


def call(base: str, method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}) before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def start_gunicorn(children: Children, app: str, env: dict[str, str], workdir: Path,
                   name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    errlog = workdir / f"gunicorn-{name}.log"
    proc = children.start(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "sync", "--error-logfile", str(errlog), "--log-level", "warning",
         app],  # no --access-logfile: the access log is off
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def setup_service(base: str, admin: str, plans: int) -> tuple[str, list[str]]:
    clinic = call(base, "POST", "/api/v1/clinics", admin, {
        "name": "Bench Physio", "timezone": "America/Vancouver",
        "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC"})
    key = call(base, "POST", "/api/v1/api-keys", admin, {
        "name": "bench booking", "role": "booking_system", "clinic_ids": [clinic["id"]]})["key"]
    consent_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    onset = (datetime.now(UTC) - timedelta(days=60)).date().isoformat()
    plan_ids = []
    for n in range(plans):
        patient = call(base, "POST", "/api/v1/patients", key, {
            "clinic_id": clinic["id"], "external_id": f"MRN-{n:05d}"})
        plan = call(base, "POST", "/api/v1/plans", key, {
            "patient_id": patient["id"], "condition": "lumbar myofascial pain",
            "onset_date": onset, "baseline": {"pain": 4 + n % 6, "function": 3},
            "neuropathic_symptoms": n % 5 == 0,
            "consent": {"recorded_at": consent_at, "recorded_by": "physio:bench"}})
        plan_ids.append(plan["id"])
    return key, plan_ids


# ---------------------------------------------------------------------------------------------
# wrk: Lua scripts and output parsing.

LUA_COMMON = """
local ids = {%(ids)s}
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local lo, n, i
function init(args)
  -- wrk threads are numbered 0..T-1 in setup(); each walks its own slice of the ids
  local threads = %(threads)d
  local per = math.floor(#ids / threads)
  lo = tid * per
  n = per
  i = 0
  math.randomseed(1000 + tid)
end
local function next_id()
  i = i + 1
  return ids[lo + (i %% n) + 1]
end
"""

LUA_REQUEST = {
    "next_visit": """
function request()
  return wrk.format("GET", "/api/v1/plans/" .. next_id() .. "/next-visit", headers)
end
""",
    "report": """
function request()
  local body = string.format('{"recorded_at": "%s", "pain": %d, "function": %d}',
    os.date("!%Y-%m-%dT%H:%M:%S+00:00"), math.random(0, 10), math.random(0, 10))
  return wrk.format("POST", "/api/v1/plans/" .. next_id() .. "/reports", headers, body)
end
""",
    "bare_get": """
function request()
  return wrk.format("GET", "/rows/" .. next_id(), headers)
end
""",
    "bare_post": """
function request()
  local body = string.format('{"name": "bench %d", "value": %d}',
    math.random(0, 1000000), math.random(0, 1000))
  return wrk.format("POST", "/rows", headers, body)
end
""",
}


def write_lua(path: Path, endpoint: str, ids: list[str], token: str, threads: int) -> None:
    common = LUA_COMMON % {"ids": ", ".join(f'"{i}"' for i in ids), "token": token,
                           "threads": threads}
    path.write_text(common + LUA_REQUEST[endpoint])


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s+(\d+(?:\.\d+)?)(us|ms|s|m)\s*$")


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non2xx: int
    raw: str = field(repr=False, default="")


def parse_wrk(output: str) -> WrkResult:
    percentiles: dict[str, float] = {}
    in_dist = False
    for line in output.splitlines():
        if "Latency Distribution" in line:
            in_dist = True
            continue
        if in_dist:
            match = _DURATION.match(line)
            if match:
                percentiles[match.group(1)] = float(match.group(2)) * _UNIT_MS[match.group(3)]
                continue
            in_dist = False
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    # read errors are not counted: gunicorn's sync workers close every connection after the
    # response (no keep-alive), which wrk may see as a read error on the next request
    errors = (int(socket_errors.group(1)) + int(socket_errors.group(3))
              + int(socket_errors.group(4))) if socket_errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return WrkResult(float(rps.group(1)), percentiles["50"], percentiles["99"],
                     int(total.group(1)), errors, int(non2xx.group(1)) if non2xx else 0, output)


def run_wrk(children: Children, url: str, script: Path, seconds: float, threads: int,
            connections: int) -> WrkResult:
    proc = children.start([WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s",
                           "--timeout", "5s", "--latency", "-s", str(script), url],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 60)
    finally:
        children.stop(proc)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    return parse_wrk(text)


# ---------------------------------------------------------------------------------------------
# One database.


@dataclass
class Target:
    base: str
    script: Path


def bench_database(kind: str, service_url: str, bare_url: str, args: argparse.Namespace,
                   children: Children, workdir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from bench.api_bench import bare_app

    env = {**os.environ, "DATABASE_URL": service_url, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CADENCE_TESTING", None)
    flask = str(VENV_BIN / "flask")
    log(f"{kind}: migrating, admin key")
    run_cli([flask, "--app", "wsgi", "db", "upgrade"], env)
    admin = run_cli([flask, "--app", "wsgi", "apikey", "create", "--name", "bench-admin",
                     "--role", "admin"], env).strip().splitlines()[-1]

    service, service_base = start_gunicorn(children, "wsgi:app", env, workdir, f"{kind}-service")
    wait_http(service_base + "/healthz", service)
    log(f"{kind}: service on {service_base}; creating clinic, key, {args.plans} plans")
    token, plan_ids = setup_service(service_base, admin, args.plans)

    log(f"{kind}: bare app: {args.rows} rows")
    row_ids = bare_app.init_db(bare_url, args.rows)
    bare_env = {**env, bare_app.ENV_URL: bare_url}
    bare, bare_base = start_gunicorn(children, "bench.api_bench.bare_app:app", bare_env, workdir,
                                     f"{kind}-bare")
    wait_http(f"{bare_base}/rows/{row_ids[0]}", bare)

    targets: dict[str, Target] = {}
    for endpoint in ENDPOINTS:
        script = workdir / f"{kind}-{endpoint}.lua"
        bare_side = endpoint.startswith("bare")
        write_lua(script, endpoint, row_ids if bare_side else plan_ids, token, args.threads)
        targets[endpoint] = Target(bare_base if bare_side else service_base, script)

    log(f"{kind}: warm-up {args.warmup:g} s per endpoint")
    for endpoint in ENDPOINTS:
        warm = run_wrk(children, targets[endpoint].base, targets[endpoint].script, args.warmup,
                       args.threads, args.connections)
        check(kind, endpoint, warm)

    results: dict[str, list[WrkResult]] = {e: [] for e in ENDPOINTS}
    for n in range(1, args.runs + 1):
        for endpoint in ENDPOINTS:
            result = run_wrk(children, targets[endpoint].base, targets[endpoint].script,
                             args.seconds, args.threads, args.connections)
            check(kind, endpoint, result)
            results[endpoint].append(result)
            if args.verbose:
                log(result.raw)
            log(f"{kind} run {n}/{args.runs} {endpoint:<10} {result.rps:8.1f} req/s "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms")
    children.stop(service)
    children.stop(bare)
    return summarise(results)


class BadRun(RuntimeError):
    pass


def check(kind: str, endpoint: str, result: WrkResult) -> None:
    if result.non2xx or result.errors:
        raise BadRun(f"{kind} {endpoint}: {result.non2xx} non-2xx responses, {result.errors} "
                     f"socket errors out of {result.requests}:\n{result.raw}")


def summarise(results: dict[str, list[WrkResult]]) -> dict[str, Any]:
    med = {e: {"rps": statistics.median(r.rps for r in rs),
               "p50_ms": statistics.median(r.p50_ms for r in rs),
               "p99_ms": statistics.median(r.p99_ms for r in rs),
               "runs_rps": [round(r.rps, 1) for r in rs]} for e, rs in results.items()}
    out = {
        "next_visit_ratio": round(med["next_visit"]["rps"] / med["bare_get"]["rps"], 3),
        "report_ratio": round(med["report"]["rps"] / med["bare_post"]["rps"], 3),
        "next_visit_p99_ms": round(med["next_visit"]["p99_ms"], 2),
        "report_p99_ms": round(med["report"]["p99_ms"], 2),
    }
    # the service and bare runs of one round ran back to back: their ratio is less exposed to
    # drift in machine load than the ratio of medians (printed for judging noise; extra keys)
    for key, (svc, bare) in {"next_visit_ratio": ("next_visit", "bare_get"),
                             "report_ratio": ("report", "bare_post")}.items():
        out[f"{key}_per_run"] = [round(a.rps / b.rps, 3)
                                 for a, b in zip(results[svc], results[bare], strict=True)]
    out["targets_met"] = {
        "next_visit_ratio": out["next_visit_ratio"] >= TARGETS["next_visit_ratio"],
        "report_ratio": out["report_ratio"] >= TARGETS["report_ratio"],
        "next_visit_p99_ms": out["next_visit_p99_ms"] <= TARGETS["p99_ms"],
        "report_p99_ms": out["report_p99_ms"] <= TARGETS["p99_ms"],
    }
    out["endpoints"] = {e: {"rps": round(m["rps"], 1), "p50_ms": round(m["p50_ms"], 2),
                            "p99_ms": round(m["p99_ms"], 2), "runs_rps": m["runs_rps"]}
                        for e, m in med.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Report.


def print_table(report: dict[str, dict[str, Any] | None], args: argparse.Namespace) -> None:
    print(f"IMS Cadence API benchmark: gunicorn 2 sync workers each; wrk -t{args.threads} "
          f"-c{args.connections} -d{args.seconds:g}s; median of {args.runs}")
    for kind, res in report.items():
        print()
        if res is None:
            print(f"== {kind}: not run (no server binaries / not selected)")
            continue
        print(f"== {kind}")
        print(f"  {'endpoint':<38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   runs req/s")
        for endpoint in ENDPOINTS:
            e = res["endpoints"][endpoint]
            print(f"  {LABELS[endpoint]:<38} {e['rps']:>9.1f} {e['p50_ms']:>8.2f} "
                  f"{e['p99_ms']:>8.2f}   {e['runs_rps']}")
        met = res["targets_met"]

        def mark(ok: bool) -> str:
            return "ok" if ok else "MISSED"

        print(f"  next-visit / bare GET  = {res['next_visit_ratio']:.3f}  (target >= "
              f"{TARGETS['next_visit_ratio']})  {mark(met['next_visit_ratio'])}   "
              f"per run: {res['next_visit_ratio_per_run']}")
        print(f"  reports    / bare POST = {res['report_ratio']:.3f}  (target >= "
              f"{TARGETS['report_ratio']})  {mark(met['report_ratio'])}   "
              f"per run: {res['report_ratio_per_run']}")
        print(f"  p99 next-visit {res['next_visit_p99_ms']:.2f} ms, reports "
              f"{res['report_p99_ms']:.2f} ms  (target <= {TARGETS['p99_ms']:g} ms)  "
              f"{mark(met['next_visit_p99_ms'])} / {mark(met['report_p99_ms'])}")
    print()


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
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DBs)")
    parser.add_argument("--verbose", action="store_true", help="echo wrk's output to stderr")
    args = parser.parse_args(argv)
    if args.plans < args.threads or args.rows < args.threads:
        parser.error("--plans and --rows must be at least --threads")
    return args


@contextlib.contextmanager
def signals_unwind() -> Iterator[None]:
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    # Ctrl-C -> KeyboardInterrupt even when started with SIGINT ignored (e.g. `cmd &`)
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
    _reexec_in_venv()
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
    print(json.dumps(report, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
