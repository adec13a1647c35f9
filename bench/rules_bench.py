"""Rules engine benchmark: a bare phase decision vs the engine, in one run (ratios, not seconds).

(a) bare: a minimal function deciding a phase from the same six numbers, no explanations;
(b) the engine evaluating one new report on a folded state, explanations on;
(c) folding a 12-event history; and peak RSS while streaming N synthetic histories.

    .venv/bin/python bench/rules_bench.py [--stream 1000000] [--seconds 3]

Ends with one JSON line: {"bare_per_s", "evaluate_per_s", "ratio", "fold_histories_per_s",
"peak_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules import (  # noqa: E402
    DEFAULT_RULESET,
    ConsentRecorded,
    PlanCreated,
    ProgressReport,
    VisitChanged,
    evaluate,
    fold,
)

RS = DEFAULT_RULESET
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def bare_phase(baseline_pain, pain, baseline_function, function, sessions, phase):
    """The baseline: MCID and a phase move from six numbers, no state, no explanations."""
    drop = baseline_pain - pain
    relative = drop / baseline_pain if baseline_pain else 0.0
    gain = function - baseline_function if function is not None and baseline_function else 0
    meaningful = (drop >= 2 and relative >= 0.3) or (gain >= 2 and pain <= baseline_pain)
    if phase == "initial":
        return "middle" if meaningful and sessions >= 3 else "initial"
    if phase == "middle":
        return "maintenance" if pain <= 2 else ("middle" if meaningful else "initial")
    return "maintenance" if pain < baseline_pain else "middle"


def history(seed: int) -> list:
    """A 12-event history: creation, consent, five sessions each followed by a report."""
    rnd = random.Random(seed)
    baseline = rnd.randint(4, 10)
    events = [PlanCreated(T0, start_date=T0.date(), onset_date=T0.date() - timedelta(days=30),
                          baseline_pain=baseline, baseline_function=3),
              ConsentRecorded(T0 + timedelta(hours=1), by="physio:1")]
    at, pain = T0, baseline
    for i in range(5):
        at += timedelta(days=rnd.randint(3, 8))
        events.append(VisitChanged(at, f"v{i}", "needling", "attended", at))
        pain = max(0, min(10, pain + rnd.randint(-3, 1)))
        events.append(ProgressReport(at + timedelta(hours=60), pain=pain,
                                     function=max(0, min(10, 3 + baseline - pain)),
                                     soreness_hours=24))
    return events


def rate(fn, seconds: float) -> float:
    """Calls of fn() per second, best of three runs of about seconds/3 each."""
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while time.perf_counter() < deadline:
            fn()
            n += 1
        best = max(best, n / (time.perf_counter() - start))
    return best


def batch(fn, items):
    def run():
        for item in items:
            fn(item)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--stream", type=int, default=1_000_000)
    args = parser.parse_args()

    rnd = random.Random(7)
    six = [(rnd.randint(4, 10), rnd.randint(0, 10), 3, rnd.randint(0, 10), rnd.randint(0, 8),
            rnd.choice(["initial", "middle", "maintenance"])) for _ in range(1000)]
    bare = rate(batch(lambda a: bare_phase(*a), six), args.seconds) * len(six)

    states = [fold(history(seed), RS).state for seed in range(50)]
    reports = [(states[i % 50], ProgressReport(T0 + timedelta(days=200), pain=rnd.randint(0, 10),
                                               function=rnd.randint(0, 10),
                                               soreness_hours=rnd.randint(0, 96)))
               for i in range(1000)]
    evaluated = rate(batch(lambda sr: evaluate(sr[0], sr[1], RS), reports), args.seconds)
    evaluated *= len(reports)

    histories = [history(seed) for seed in range(200)]
    folds = rate(batch(lambda h: fold(h, RS), histories), args.seconds) * len(histories)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    checkpoints = {}
    for i in range(args.stream):
        fold(history(i), RS)
        if i + 1 in (args.stream // 10, args.stream):
            checkpoints[i + 1] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ratio = evaluated / bare
    print(f"(a) bare phase decision        {bare:12,.0f} /s")
    print(f"(b) evaluate one report        {evaluated:12,.0f} /s   ratio (b)/(a) = {ratio:.3f}"
          f"  (target >= {1 / 20:.3f})")
    print(f"(c) fold a 12-event history    {folds:12,.0f} histories/s  (target >= 10,000)")
    for n, mb in checkpoints.items():
        print(f"    peak RSS after streaming {n:>9,} histories: {mb:6.1f} MB")
    print(f"    peak RSS before streaming: {rss_before:6.1f} MB")
    print(json.dumps({"bare_per_s": round(bare), "evaluate_per_s": round(evaluated),
                      "ratio": round(ratio, 4), "fold_histories_per_s": round(folds),
                      "peak_rss_mb": round(peak, 1), "streamed_histories": args.stream,
                      "rss_mb_at": {str(k): round(v, 1) for k, v in checkpoints.items()}}))


if __name__ == "__main__":
    main()
