"""Where the staff pages' CPU goes: cProfile of N renders of each page, in process.

    .venv/bin/python bench/ui_profile.py                 # 200 renders of each page
    .venv/bin/python bench/ui_profile.py --renders 500 --top 40 --sort tottime

The data is bench/ui_bench.py's (set up the same way, through the service under gunicorn:
a clinic of 60 plans, 8 of them with 40 reports, a signed-in physiotherapist); gunicorn is
then stopped and the pages are rendered with the Flask test client on the same SQLite file,
with that session's cookie, after 20 unprofiled renders. Prints the CPU time per render of
each page (and of the bare app's GET, the same way, for scale) and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # when run as a script

from bench import ui_bench  # noqa: E402
from bench.api_bench.procs import Children, log, reexec_in_venv, run_cli  # noqa: E402

WARM = 20


def _cpu_per_call(fn: Any, count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - start) / count


def main(argv: list[str] | None = None) -> int:
    reexec_in_venv(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=200, help="profiled renders per page")
    parser.add_argument("--top", type=int, default=30, help="functions printed per page")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    args = parser.parse_args(argv)
    bench_args = ui_bench.parse_args(["--seconds", "1"])
    workdir = Path(tempfile.mkdtemp(prefix="cadence-ui-profile."))
    children = Children()
    try:
        url = f"sqlite:///{workdir / 'cadence.db'}"
        env = {**os.environ, "DATABASE_URL": url, "RATE_LIMIT": bench_args.rate_limit,
               "WEB_PLAIN_HTTP": "true", "LOG_LEVEL": "WARNING"}
        env.pop("CADENCE_TESTING", None)
        flask = str(ui_bench.VENV_BIN / "flask")
        run_cli([flask, "--app", "wsgi", "db", "upgrade"], env)
        admin = run_cli([flask, "--app", "wsgi", "apikey", "create", "--name", "profile",
                         "--role", "admin"], env).strip().splitlines()[-1]
        conf = ["-c", str(ui_bench.REPO / "deploy" / "gunicorn.conf.py")]
        service, base = ui_bench.start_gunicorn(children, "wsgi:app", env, workdir, "svc", conf)
        ui_bench.wait_http(base + "/healthz", service)
        log("setting up through the service")
        clinic_id, plans = ui_bench.setup_service(base, admin, bench_args)
        run_cli([flask, "--app", "wsgi", "staff", "create", "--email", "p@example.org",
                 "--name", "Profile", "--role", "physiotherapist", "--clinic", clinic_id], env,
                stdin=ui_bench.PASSWORD + "\n")
        cookie = ui_bench.sign_in(base, "p@example.org", ui_bench.PASSWORD)
        children.stop_all()

        os.environ.update({k: v for k, v in env.items() if k != "CADENCE_TESTING"})
        from app_factory import build_app
        from bench.api_bench import bare_app
        from config import Settings

        app = build_app(Settings.from_env())
        client = app.test_client()
        client.set_cookie("cadence_session", cookie)
        bare_url = f"sqlite:///{workdir / 'bare.db'}"
        row = bare_app.init_db(bare_url, 10)[0]
        bare = bare_app.create_app(bare_url).test_client()
        pages = {"followups_page": [f"/app/clinics/{clinic_id}/followups"],
                 "plan_page": [f"/app/plans/{p}" for p in plans],
                 "bare_get": [f"/rows/{row}"]}
        for name, paths in pages.items():
            target = bare if name == "bare_get" else client
            index = [0]

            def render(target: Any = target, paths: list[str] = paths,
                       index: list[int] = index) -> None:
                index[0] += 1
                response = target.get(paths[index[0] % len(paths)])
                assert response.status_code == 200, response.status_code

            _cpu_per_call(render, WARM)
            cpu = _cpu_per_call(render, args.renders)
            print(f"== {name}: {cpu * 1000:.2f} ms CPU per render ({args.renders} renders, "
                  f"unprofiled; load average {os.getloadavg()[0]:.2f})")
            if name == "bare_get":
                continue
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.renders):
                render()
            profile.disable()
            pstats.Stats(profile, stream=sys.stdout).strip_dirs().sort_stats(args.sort) \
                .print_stats(args.top)
    finally:
        children.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
