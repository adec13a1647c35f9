"""Benchmark processes: children in their own process groups, the CLI, signals that unwind
through every `finally`, and the service under gunicorn with HTTP setup through its API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.pgcluster import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"


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


def reexec_in_venv(script: Path) -> None:
    """Run `script` under the project venv (flask, sqlalchemy, ...) whatever started us."""
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        return
    python = VENV_BIN / "python"
    if not python.exists():
        sys.exit(f"{python} is missing: run `make install` first")
    os.execv(str(python), [str(python), str(script.resolve()), *sys.argv[1:]])


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          input=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


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


# The service under gunicorn, and HTTP setup through its API.


def call(base: str, method: str, path: str, token: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            found: dict[str, Any] = json.loads(resp.read())
            return found
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
                   name: str, config: list[str] = ()) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    errlog = workdir / f"gunicorn-{name}.log"
    proc = children.start(
        [str(VENV_BIN / "gunicorn"), *config, "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "sync", "--error-logfile", str(errlog), "--log-level", "warning",
         app],  # no --access-logfile: gunicorn's access log is off (the app writes its own)
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"
