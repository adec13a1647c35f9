"""Slow clients (issue #11): trickling one header line at a time stalls gunicorn's sync
workers when they face clients directly, and stalls nothing behind the recommended nginx
(deploy/nginx/cadence.conf), which reads requests whole before passing them on.

Everything listens on 127.0.0.1 only. Needs Debian's nginx (`apt-get install nginx`);
without it the nginx half is skipped, like the PostgreSQL tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler import migrate as schema
from scheduler.db import make_engine
from tests.integration.pg_support import pgcluster

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "cadence.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                  else None)
SLOW_CLIENTS = 6  # three per sync worker
pytestmark = pytest.mark.slow


free_port = pgcluster.free_port  # one free-port probe for the benchmarks and the tests


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The API under gunicorn as the README's production recipe runs it (sync workers on
    127.0.0.1), here with 2 workers on a scratch SQLite file."""
    workdir = tmp_path_factory.mktemp("slowloris")
    url = f"sqlite:///{workdir / 'cadence.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "60", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield port
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def nginx(gunicorn: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """deploy/nginx/cadence.conf, unchanged but for its two addresses, in a private nginx."""
    if NGINX is None:
        pytest.skip("needs nginx (apt-get install nginx)")
    prefix = tmp_path_factory.mktemp("nginx")
    prefix.chmod(0o777)  # nginx's workers drop root for nobody; they write temp files here
    port = free_port()
    site = NGINX_CONF.read_text()
    site, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site, upstreams = re.subn(r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{gunicorn};",
                              site)
    assert listens == upstreams == 1, "deploy/nginx/cadence.conf changed shape"
    (prefix / "cadence.conf").write_text(site)
    (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/cadence.conf;
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # its error log is in `prefix`
    try:
        wait_listening(port, proc)
        yield port
    finally:
        stop(proc)


class Slowloris:
    """`count` sockets that send a request line, then one header line every `interval`
    seconds, never the blank line that ends the headers."""

    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> Slowloris:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets.append(sock)
        self.thread.start()
        time.sleep(0.5)  # let the server accept them (and, direct, the workers take them)
        return self

    def _trickle(self) -> None:
        n = 0
        while not self.stopping.wait(self.interval):
            n += 1
            for sock in self.sockets:
                try:
                    sock.sendall(f"X-Trickle-{n}: a\r\n".encode())
                except OSError:
                    pass  # cut off by the server: that is the point

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def answer_time(port: int, timeout: float) -> float | None:
    """Seconds a plain GET /healthz takes, or None when it did not answer within `timeout`."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            assert r.status == 200
    except OSError:
        return None
    return time.monotonic() - start


def test_slow_clients_stall_gunicorn_sync_workers_facing_clients_directly(gunicorn):
    """The control: without the proxy the attack works (so the next test can fail)."""
    assert answer_time(gunicorn, timeout=5) is not None
    with Slowloris(gunicorn, SLOW_CLIENTS):
        assert answer_time(gunicorn, timeout=3) is None


def test_behind_nginx_slow_clients_stall_nothing(nginx, gunicorn):
    with Slowloris(nginx, SLOW_CLIENTS * 5):
        times = [answer_time(nginx, timeout=3) for _ in range(20)]
        assert None not in times, times
        assert max(t for t in times if t is not None) < 1.0, times
        # a slow body is buffered by nginx too: gunicorn never waits for it
        slow_body = socket.create_connection(("127.0.0.1", nginx), timeout=5)
        try:
            slow_body.sendall(b"POST /api/v1/patients HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            times = [answer_time(nginx, timeout=3) for _ in range(10)]
            assert None not in times, times
        finally:
            slow_body.close()
    assert answer_time(gunicorn, timeout=5) is not None  # and the workers were never taken


def test_nginx_cuts_off_a_client_that_never_finishes_its_headers(nginx):
    """client_header_timeout: the whole header within 10 s, however slowly it trickles."""
    with Slowloris(nginx, 1, interval=1.0) as slow:
        sock = slow.sockets[0]
        sock.settimeout(20)
        start = time.monotonic()
        data = b""
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except OSError:
            pass
        elapsed = time.monotonic() - start
    assert 8 <= elapsed <= 15, elapsed
    assert data == b"" or b"408" in data.split(b"\r\n", 1)[0]


def test_nginx_answers_an_oversized_body_with_a_problem(nginx):
    request = urllib.request.Request(f"http://127.0.0.1:{nginx}/api/v1/patients",
                                     data=b"x" * (3 * 1024 * 1024), method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    with caught.value as answer:
        assert answer.code == 413
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert b"body-too-large" in answer.read()
