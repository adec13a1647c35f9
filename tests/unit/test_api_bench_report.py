"""The API benchmark's observability overhead: the median of adjacent on/off pairs."""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ is not an installed package: its scripts put the repository root on the path too
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.api_bench.report import ENDPOINTS, summarise  # noqa: E402
from bench.api_bench.wrk import WrkResult  # noqa: E402


def _runs(*rates: float) -> list[WrkResult]:
    return [WrkResult(rps=r, p50_ms=1.0, p99_ms=2.0, requests=1000, errors=0, non2xx=0)
            for r in rates]


def _results(on: list[float], off: list[float]) -> dict[str, list[WrkResult]]:
    flat = _runs(*[100.0] * len(on))
    results = {e: flat for e in ENDPOINTS}
    results.update(next_visit=_runs(*on), next_visit_off=_runs(*off),
                   report=flat, report_off=flat)
    return results


def test_a_load_swing_between_pairs_does_not_count_as_overhead() -> None:
    # each pair ran at the same speed on and off, but the machine slowed between pairs: the
    # ratio of the medians (1 - 100/200) would call that a 50 % overhead
    out = summarise(_results(on=[100.0, 300.0, 50.0], off=[100.0, 300.0, 200.0]),
                    {e: [1.0] for e in ENDPOINTS})
    assert out["observability_overhead_by_endpoint"]["next_visit"] == 0.0
    assert out["observability_overhead_of_medians"]["next_visit"] == 0.5
    assert out["observability_overhead_spread"]["next_visit"] == [0.0, 0.75]
    assert out["observability_overhead_per_run"]["next_visit"] == [0.0, 0.0, 0.75]


def test_the_overhead_is_the_larger_endpoints_median_pair() -> None:
    out = summarise(_results(on=[90.0, 96.0, 80.0], off=[100.0, 100.0, 100.0]),
                    {e: [1.0] for e in ENDPOINTS})
    assert out["observability_overhead"] == 0.1  # pairs 0.1, 0.04, 0.2: median 0.1
    assert out["observability_overhead_by_endpoint"]["report"] == 0.0
    assert out["targets_met"]["observability_overhead"] is False
