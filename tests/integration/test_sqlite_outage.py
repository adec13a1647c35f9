"""SQLite outages: a file made read-only and a full disk answer 503 problem+json
(`...:database-unavailable`, Retry-After), never a 500, and the same app serves again once the
cause is gone. Each runs in a process of its own (tests/integration/sqlite_outage_scenario.py):
permissions do not bind root, and the file-size limit must not reach pytest's own files.
A database locked past the busy timeout: tests/api/test_database_unavailable.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNAVAILABLE = "urn:ims-cadence:problem:database-unavailable"


def is_unavailable(answer: dict[str, Any]) -> bool:
    return (answer["status"] == 503 and answer["type"] == UNAVAILABLE
            and answer["mimetype"] == "application/problem+json"
            and int(answer["retry_after"]) > 0)


@pytest.fixture
def scratch() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="cadence-sqlite-outage-"))
    directory.chmod(0o777)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def play(kind: str, directory: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.integration.sqlite_outage_scenario", kind,
               str(directory)]
    if os.geteuid() == 0:  # root writes read-only files: drop the capabilities that let it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "LOG_LEVEL": "CRITICAL"})
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["readonly", "full"])
def test_a_read_only_or_full_database_is_503_then_recovers(scratch, kind) -> None:
    result = play(kind, scratch)
    assert result["before"]["status"] == 201
    writes = result["during"][:2]
    assert all(is_unavailable(a) for a in writes), result
    for other in result["during"][2:]:  # reads may still work from a read-only file
        assert other["status"] == 200 or is_unavailable(other), result
    assert [a["status"] for a in result["after"]] == [201, 200], result


