"""The soak's accounting: pure functions from what the clients saw, what the receivers got and
what the database holds at the end, to the figures of its one JSON line."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TARGET_P99_S = 10.0
FIRST_KEYS = ("server_errors_not_503", "lost_writes", "duplicate_effects", "webhooks_lost",
              "healthy_delivery_p99_s", "requests")


def p99(values: Iterable[float]) -> float | None:
    """The nearest-rank 99th percentile (None without values)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def server_errors_not_503(statuses: Iterable[int]) -> int:
    return sum(1 for s in statuses if 500 <= s < 600 and s != 503)


def lost_writes(acknowledged: Mapping[str, set[str]], stored: Mapping[str, set[str]]) -> int:
    """Ids a 2xx answered with (per table) that the database does not hold at the end."""
    return sum(len(ids - stored.get(table, set())) for table, ids in acknowledged.items())


def lost_by_table(acknowledged: Mapping[str, set[str]],
                  stored: Mapping[str, set[str]]) -> dict[str, int]:
    """lost_writes per table, for the diagnosis of a miss."""
    return {table: len(ids - stored.get(table, set())) for table, ids in acknowledged.items()}


def duplicate_effects(effects_per_key: Mapping[str, Mapping[str, int]]) -> int:
    """Keys with more than one effect of a kind: {kind: {key: rows}} -> keys over 1."""
    return sum(1 for per_key in effects_per_key.values() for n in per_key.values() if n > 1)


@dataclass(frozen=True)
class Webhooks:
    lost: int  # events owed to a healthy receiver that it never got
    redeliveries: int  # receipts of a webhook-id it had already got (at least once)
    latencies: list[float]  # first receipt - event created, seconds


def webhook_accounting(owed: Mapping[str, set[str]],
                       received: Mapping[str, list[tuple[str, float]]],
                       created: Mapping[str, float]) -> Webhooks:
    """owed: receiver -> event ids the database has deliveries of for its subscription;
    received: receiver -> (webhook-id, receive time) in arrival order; created: event id ->
    the outbox event's creation time (same clock: seconds since the epoch)."""
    lost = redeliveries = 0
    latencies: list[float] = []
    for name, events in owed.items():
        first: dict[str, float] = {}
        for event_id, at in received.get(name, []):
            if event_id in first:
                redeliveries += 1
            else:
                first[event_id] = at
        lost += len(events - first.keys())
        latencies += [first[e] - created[e] for e in events & first.keys() if e in created]
    return Webhooks(lost, redeliveries, latencies)


def summary(*, statuses: list[int], lost: int, duplicates: int, hooks: Webhooks,
            **extra: object) -> dict[str, object]:
    """The JSON line: the six figures first, in the issue's order, then `extra`."""
    p = p99(hooks.latencies)
    return {"server_errors_not_503": server_errors_not_503(statuses), "lost_writes": lost,
            "duplicate_effects": duplicates, "webhooks_lost": hooks.lost,
            "healthy_delivery_p99_s": None if p is None else round(p, 3),
            "requests": len(statuses), "redeliveries": hooks.redeliveries, **extra}


def missed(line: Mapping[str, object]) -> list[str]:
    """The targets a summary misses (empty: all met). No deliveries measured is a miss."""
    out = [k for k in ("server_errors_not_503", "lost_writes", "duplicate_effects",
                       "webhooks_lost") if line[k] != 0]
    p = line["healthy_delivery_p99_s"]
    if not isinstance(p, int | float) or p > TARGET_P99_S:
        out.append("healthy_delivery_p99_s")
    return out
