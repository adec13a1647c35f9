"""Staff pages benchmark: the follow-ups page and the plan page vs the bare GET, same run.

Run from the repository root (any python: it re-executes itself with .venv/bin/python):

    .venv/bin/python bench/ui_bench.py                    # defaults: 10 s x 3 runs, SQLite
    .venv/bin/python bench/ui_bench.py --seconds 3 --runs 1   # quick check

On a SQLite file in a temp dir:
  1. `flask --app wsgi db upgrade`, an admin key (`flask --app wsgi apikey create`);
  2. the service under gunicorn as deployed (deploy/gunicorn.conf.py, 2 sync workers,
     127.0.0.1, free port, WEB_PLAIN_HTTP=true); through its HTTP API a clinic
     (America/Vancouver, Mon-Fri), a booking_system key, `--plans` patients each with a plan
     with consent, and `--report-plans` of them with `--reports` progress reports each
     (one a day, oldest first);
  3. a physiotherapist of the clinic from `flask --app wsgi staff create` (password on
     standard input), signed in through GET + POST /app/login with the form's CSRF token:
     its session cookie goes with every page request (physiotherapists see the most: every
     action form, the contact log and the audit trail);
  4. the bare app (bench/api_bench/bare_app.py) on its own SQLite file, under gunicorn the
     same way;
  5. each page is checked once (the follow-ups page has `--rows` rows, the plan page its
     reports), then warm-up and `wrk -t2 -c16 -d<seconds>s --latency`, interleaved per run:
     bare GET /rows/{key}, GET /app/clinics/{id}/followups, GET /app/plans/{id} (round-robin
     over the report plans).
Median of `--runs` runs per endpoint; a ratio is the ratio of median rates. Also reported:
the servers' CPU time per request (gunicorn master + workers, from /proc) and the load
average at the start and the end. Prints a table, then exactly one JSON line:
  {"followups_page_ratio", "plan_page_ratio", "followups_page_p99_ms", "plan_page_p99_ms",
   "bare_p99_ms", ...}
Targets: each page's ratio >= 0.25, each page's p99 <= 3x the bare GET's p99. Exits 0 even
when a target is missed ("targets_met" says so), 1 when a wrk run saw errors or non-2xx
responses (a redirect to the sign-in page would count as a 3xx: the page check catches it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # when run as a script

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
from bench.api_bench.run import server_cpu_seconds  # noqa: E402
from bench.api_bench.wrk import WRK, WrkResult, run_wrk, write_lua  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
ENDPOINTS = ("bare_get", "followups_page", "plan_page")
LABELS = {"bare_get": "bare    GET /rows/{key}",
          "followups_page": "service GET /app/clinics/{id}/followups",
          "plan_page": "service GET /app/plans/{id}"}
RATIO_TARGET, P99_FACTOR = 0.25, 3.0
PASSWORD = "bench-password-0123"  # a throwaway user on a throwaway database
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_COOKIE = re.compile(r"(?:^|[\s,])cadence_session=([^;,\s]+)")


# ---------------------------------------------------------------------------------------------
# Pure parts (tests/unit/test_ui_bench.py).


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    if found is None:
        raise RuntimeError("no csrf_token field on the page")
    return found.group(1)


def session_cookie(set_cookie: list[str]) -> str | None:
    """The cadence_session value among a response's Set-Cookie headers (None: not set)."""
    for header in set_cookie:
        found = _COOKIE.search(header)
        if found is not None:
            return found.group(1)
    return None


def row_links(html: str) -> int:
    """How many rows of the follow-ups table link to a plan page."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return len(re.findall(r'<a href="/app/plans/[^"]+"', body))


def summarise(results: dict[str, list[WrkResult]],
              cpu_us: dict[str, list[float]]) -> dict[str, Any]:
    """Medians per endpoint, the ratios and p99s against the bare GET, and targets met."""
    med = {e: {"rps": statistics.median(r.rps for r in rs),
               "p99_ms": statistics.median(r.p99_ms for r in rs)} for e, rs in results.items()}
    bare = med["bare_get"]
    out: dict[str, Any] = {}
    for page in ("followups_page", "plan_page"):
        out[f"{page}_ratio"] = round(med[page]["rps"] / bare["rps"], 3)
    for page in ("followups_page", "plan_page"):
        out[f"{page}_p99_ms"] = round(med[page]["p99_ms"], 2)
    out["bare_p99_ms"] = round(bare["p99_ms"], 2)
    out["rps"] = {e: round(m["rps"], 1) for e, m in med.items()}
    out["per_run_ratio"] = {
        page: [round(a.rps / b.rps, 3) for a, b in zip(results[page], results["bare_get"],
                                                        strict=True)]
        for page in ("followups_page", "plan_page")}
    out["server_cpu_us_per_request"] = {e: round(statistics.median(v)) for e, v in
                                        cpu_us.items() if v}
    out["targets_met"] = {
        page: out[f"{page}_ratio"] >= RATIO_TARGET
        and out[f"{page}_p99_ms"] <= P99_FACTOR * out["bare_p99_ms"]
        for page in ("followups_page", "plan_page")}
    return out


# ---------------------------------------------------------------------------------------------
# Setup through the service's HTTP API, the staff CLI and the sign-in form.


def setup_service(base: str, admin: str, args: argparse.Namespace) -> tuple[str, list[str]]:
    """A clinic with `args.plans` plans; returns its id and the plans with reports."""
    clinic = call(base, "POST", "/api/v1/clinics", admin, {
        "name": "Bench Physio", "timezone": "America/Vancouver",
        "open_weekdays": [0, 1, 2, 3, 4], "holiday_region": "CA-BC"})
    key = call(base, "POST", "/api/v1/api-keys", admin, {
        "name": "bench booking", "role": "booking_system", "clinic_ids": [clinic["id"]]})["key"]
    now = datetime.now(UTC)
    consent_at = (now - timedelta(days=args.reports + 2)).isoformat(timespec="seconds")
    onset = (now - timedelta(days=args.reports + 30)).date().isoformat()
    plan_ids = []
    for n in range(args.plans):
        patient = call(base, "POST", "/api/v1/patients", key, {
            "clinic_id": clinic["id"], "external_id": f"MRN-{n:05d}",
            "display_name": f"Bench Patient {n}"})
        plan_ids.append(str(call(base, "POST", "/api/v1/plans", key, {
            "patient_id": patient["id"], "condition": "lumbar myofascial pain",
            "onset_date": onset, "baseline": {"pain": 4 + n % 6, "function": 3},
            "neuropathic_symptoms": n % 5 == 0,
            "consent": {"recorded_at": consent_at, "recorded_by": "physio:bench"}})["id"]))
    with_reports = plan_ids[:args.report_plans]
    for plan_id in with_reports:
        for r in range(args.reports):
            at = (now - timedelta(days=args.reports - r, hours=1)).isoformat(timespec="seconds")
            call(base, "POST", f"/api/v1/plans/{plan_id}/reports", key,
                 {"recorded_at": at, "pain": max(0, 8 - r // 5), "function": min(10, 2 + r // 6)})
    return str(clinic["id"]), with_reports


def _request(base: str, method: str, path: str, cookie: str | None = None,
             form: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    """(status, body, Set-Cookie headers) of one request, redirects not followed."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Cookie": f"cadence_session={cookie}"} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return (response.status, response.read().decode(errors="replace"),
                response.headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()


def sign_in(base: str, email: str, password: str) -> str:
    """The session cookie of a staff user signed in through the sign-in form."""
    status, html, cookies = _request(base, "GET", "/app/login")
    first = session_cookie(cookies)
    if status != 200 or first is None:
        raise RuntimeError(f"GET /app/login: {status}, session cookie {first is not None}")
    status, _, cookies = _request(base, "POST", "/app/login", first, {
        "email": email, "password": password, "csrf_token": csrf_token(html), "next": ""})
    signed = session_cookie(cookies)
    if status != 303 or signed is None:
        raise RuntimeError(f"POST /app/login: {status} (a 303 with a new cookie expected)")
    return signed


def check_pages(base: str, cookie: str, followups: str, plans: list[str],
                args: argparse.Namespace) -> None:
    """Each page answers 200 with what it is meant to show (not the sign-in page)."""
    status, html, _ = _request(base, "GET", followups, cookie)
    if status != 200 or row_links(html) != args.rows:
        raise RuntimeError(f"{followups}: {status}, {row_links(html)} rows ({args.rows} wanted)")
    for path in plans:
        status, html, _ = _request(base, "GET", path, cookie)
        if status != 200 or "Progress chart" not in html:
            raise RuntimeError(f"{path}: {status}, no progress chart")


# ---------------------------------------------------------------------------------------------
# The run.


class BadRun(RuntimeError):
    pass


def bench(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    from bench.api_bench import bare_app

    url = f"sqlite:///{workdir / 'cadence.db'}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1",
           "RATE_LIMIT": args.rate_limit, "WEB_PLAIN_HTTP": "true"}
    env.pop("CADENCE_TESTING", None)
    flask = str(VENV_BIN / "flask")
    log("migrating, admin key")
    run_cli([flask, "--app", "wsgi", "db", "upgrade"], env)
    admin = run_cli([flask, "--app", "wsgi", "apikey", "create", "--name", "bench-admin",
                     "--role", "admin"], env).strip().splitlines()[-1]
    conf = ["-c", str(REPO / "deploy" / "gunicorn.conf.py")]
    service, base = start_gunicorn(children, "wsgi:app", env, workdir, "service", conf)
    wait_http(base + "/healthz", service)
    log(f"service on {base}: clinic, {args.plans} plans, {args.report_plans} x "
        f"{args.reports} reports")
    clinic_id, report_plans = setup_service(base, admin, args)
    staff = run_cli([flask, "--app", "wsgi", "staff", "create", "--email", "bench@example.org",
                     "--name", "Bench Physio", "--role", "physiotherapist", "--clinic",
                     clinic_id], env, stdin=PASSWORD + "\n").strip().splitlines()[-1]
    cookie = sign_in(base, "bench@example.org", PASSWORD)
    log(f"signed in as {staff}")
    followups = f"/app/clinics/{clinic_id}/followups"
    plan_paths = [f"/app/plans/{p}" for p in report_plans]
    check_pages(base, cookie, followups, plan_paths, args)

    row_ids = bare_app.init_db(f"sqlite:///{workdir / 'bare.db'}", args.bare_rows)
    bare, bare_base = start_gunicorn(children, "bench.api_bench.bare_app:app",
                                     {**env, bare_app.ENV_URL: f"sqlite:///{workdir / 'bare.db'}"},
                                     workdir, "bare")
    wait_http(f"{bare_base}/rows/{row_ids[0]}", bare)

    page_headers = {"Cookie": f"cadence_session={cookie}"}
    scripts = {e: workdir / f"{e}.lua" for e in ENDPOINTS}
    write_lua(scripts["bare_get"], "bare_get", row_ids, "unused", args.threads)
    write_lua(scripts["followups_page"], "page", [followups] * args.threads, None, args.threads,
              headers=page_headers)
    write_lua(scripts["plan_page"], "page", plan_paths, None, args.threads, headers=page_headers)
    targets = {"bare_get": (bare_base, bare.pid), "followups_page": (base, service.pid),
               "plan_page": (base, service.pid)}

    def one(endpoint: str, seconds: float) -> WrkResult:
        result = run_wrk(children, targets[endpoint][0], scripts[endpoint], seconds,
                         args.threads, args.connections)
        if result.non2xx or result.errors:
            raise BadRun(f"{endpoint}: {result.non2xx} non-2xx, {result.errors} socket errors "
                         f"of {result.requests}:\n{result.raw}")
        return result

    log(f"warm-up {args.warmup:g} s per endpoint")
    for endpoint in ENDPOINTS:
        one(endpoint, args.warmup)
    results: dict[str, list[WrkResult]] = {e: [] for e in ENDPOINTS}
    cpu_us: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    for n in range(1, args.runs + 1):
        for endpoint in ENDPOINTS:
            before = server_cpu_seconds(targets[endpoint][1])
            result = one(endpoint, args.seconds)
            used = server_cpu_seconds(targets[endpoint][1]) - before
            results[endpoint].append(result)
            cpu_us[endpoint].append(used / max(result.requests, 1) * 1e6)
            log(f"run {n}/{args.runs} {endpoint:<15} {result.rps:8.1f} req/s  p50 "
                f"{result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  server CPU "
                f"{cpu_us[endpoint][-1]:6.0f} us/request  load {os.getloadavg()[0]:.2f}")
    return summarise(results, cpu_us)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per endpoint (median)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c")
    parser.add_argument("--plans", type=int, default=60,
                        help="plans in the clinic (the follow-ups page shows the first 50)")
    parser.add_argument("--report-plans", type=int, default=8,
                        help="plans with reports (the plan page requests walk them)")
    parser.add_argument("--reports", type=int, default=40, help="reports per report plan")
    parser.add_argument("--bare-rows", type=int, default=200, help="rows of the bare app")
    parser.add_argument("--rate-limit", default="100000000/minute", help="the API's RATE_LIMIT")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DBs)")
    args = parser.parse_args(argv)
    args.rows = min(args.plans, 50)  # the page's size
    if args.report_plans < args.threads or args.report_plans > args.plans:
        parser.error("--report-plans must be between --threads and --plans")
    return args


def print_table(report: dict[str, Any], load: tuple[float, ...]) -> None:
    print(f"{'endpoint':<42} {'req/s':>9} {'ratio':>7} {'p99 ms':>8} {'CPU us/req':>11}")
    for endpoint in ENDPOINTS:
        ratio = "1" if endpoint == "bare_get" else f"{report[endpoint + '_ratio']:.3f}"
        p99 = report["bare_p99_ms" if endpoint == "bare_get" else endpoint + "_p99_ms"]
        print(f"{LABELS[endpoint]:<42} {report['rps'][endpoint]:>9.1f} {ratio:>7} {p99:>8.2f} "
              f"{report['server_cpu_us_per_request'][endpoint]:>11}")
    print(f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}; targets: "
          f"ratio >= {RATIO_TARGET}, p99 <= {P99_FACTOR:g}x bare p99")


def main(argv: list[str] | None = None) -> int:
    reexec_in_venv(Path(__file__))
    args = parse_args(argv)
    if not os.access(WRK, os.X_OK):
        sys.exit(f"wrk not found ({WRK})")
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-ui-bench."))
    load = os.getloadavg()
    try:
        with signals_unwind():
            report = bench(args, children, workdir)
    except BadRun as exc:
        log(str(exc))
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({str(exc) or 'Ctrl-C'}); stopping gunicorn and wrk")
        return 130
    finally:
        children.stop_all()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(report, load)
    report["load_average"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(report, separators=(", ", ": ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
