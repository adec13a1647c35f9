"""A PostgreSQL cluster of a test's own (bench/pgcluster.py's PostgresCluster), migrated, for
tests that stop and start the server. Skipped where the binaries are not installed."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scheduler import migrate as schema
from scheduler.db import make_engine


def _pgcluster() -> Any:
    # bench/ is not an installed package (and not on pytest's path): load its one file
    path = Path(__file__).resolve().parents[2] / "bench" / "pgcluster.py"
    spec = importlib.util.spec_from_file_location("cadence_bench_pgcluster", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pgcluster = _pgcluster()
PG_BIN = pgcluster.find_pg_bin()
needs_pg_binaries = pytest.mark.skipif(PG_BIN is None, reason="no PostgreSQL binaries installed")


@contextmanager
def migrated_cluster() -> Iterator[Any]:
    """A started cluster whose `cadence` database is migrated to head; stopped afterwards."""
    assert PG_BIN is not None
    # not under pytest's tmp dir: it is private to root, and the server runs as postgres
    workdir = Path(tempfile.mkdtemp(prefix="cadence-pg-"))
    server = pgcluster.PostgresCluster(PG_BIN, pgcluster.free_port(), workdir)
    try:
        server.start()
        engine = make_engine(server.url("cadence"))
        schema.upgrade(engine, "head")
        engine.dispose()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
