"""Every benchmark still starts: its imports resolve and its options parse (`--help`).

Benchmarks run by hand or in CI's measuring steps, not in `make test`; without this a
refactor that renames what one imports goes unnoticed until someone measures (it happened:
bench/observability_bench.py imported a module the core consolidation had removed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if p.name != "__init__.py")
PACKAGES = sorted(p.parent.name for p in (ROOT / "bench").glob("*/__main__.py"))


def _help(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_benchmark_script_starts(script: Path) -> None:
    if "argparse" not in script.read_text():
        pytest.skip("a helper module, not a script")
    done = _help([str(script)])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_each_benchmark_package_starts(package: str) -> None:
    done = _help(["-m", f"bench.{package}"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
