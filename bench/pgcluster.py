"""A throwaway PostgreSQL cluster for benchmarks (as .ci/run starts one, on another port)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])



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
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    def start(self) -> None:
        self.dir.mkdir()
        if os.geteuid() == 0:
            self.dir.parent.chmod(0o755)
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(self.pg_bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        self.started = True  # from here on, stop() is needed
        self.resume()
        for name in ("cadence", "bare"):
            self._run([str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                       "-U", "postgres", name])

    def resume(self) -> None:
        """Start the server (again) on the cluster's data: an outage's end."""
        self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.dir / "data"),
                   "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                   "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
                   "start"])

    def pause(self) -> None:
        """Stop the server, keeping its data (`resume` starts it again): an outage."""
        self._run([str(self.pg_bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast",
                   "-w", "stop"])

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if not self.started:
            return
        subprocess.run(self._as_postgres([str(self.pg_bin / "pg_ctl"), "-D",
                                          str(self.dir / "data"), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120, start_new_session=True)
        self.started = False


class database:  # noqa: N801 - used as a context manager, like open()
    """A fresh database of one kind in `directory`: a SQLite file, or a throwaway PostgreSQL
    cluster on a free port (its URL; None when no PostgreSQL binaries are installed)."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind, self.dir, self.cluster = kind, directory, None
        self.dir.mkdir()

    def __enter__(self) -> str | None:
        if self.kind == "sqlite":
            return f"sqlite:///{self.dir / 'cadence.db'}"
        pg_bin = find_pg_bin()
        if pg_bin is None:
            return None
        self.cluster = PostgresCluster(pg_bin, free_port(), self.dir)
        self.cluster.start()
        return self.cluster.url("cadence")

    def __exit__(self, *exc: object) -> None:
        if self.cluster is not None:
            self.cluster.stop()

