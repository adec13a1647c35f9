"""The soak's accounting (bench/soaking/accounting.py): what counts as lost, duplicated or late.

The soak's verdict is only as good as these functions, so each is pinned on small cases that a
wrong implementation (counting a redelivery as a loss, a replay as a duplicate, a 503 as a server
error) would fail."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not installed

from bench.soaking import accounting  # noqa: E402
from bench.soaking.traffic import _kind  # noqa: E402


def test_only_5xx_other_than_503_are_server_errors() -> None:
    assert accounting.server_errors_not_503([200, 201, 409, 412, 422, 503, 503]) == 0
    assert accounting.server_errors_not_503([500, 502, 503, 504]) == 3


def test_a_lost_write_is_an_acknowledged_id_missing_from_its_table() -> None:
    acknowledged = {"reports": {"rep_1", "rep_2"}, "visits": {"vis_1"}}
    stored = {"reports": {"rep_1", "rep_2", "rep_3"}, "visits": set()}
    assert accounting.lost_writes(acknowledged, stored) == 1
    assert accounting.lost_by_table(acknowledged, stored) == {"reports": 0, "visits": 1}
    assert accounting.lost_writes({"plans": {"pln_1"}}, {}) == 1  # a table not read at all


def test_a_duplicate_is_a_key_with_more_than_one_effect_of_a_kind() -> None:
    effects = {"reports": {"soak-a": 1, "soak-b": 2}, "outbox": {"soak-a plan.created p": 1}}
    assert accounting.duplicate_effects(effects) == 1
    assert accounting.duplicate_effects({"reports": {"soak-a": 1}}) == 0


def test_webhooks_redeliveries_are_counted_apart_from_losses() -> None:
    owed = {"a": {"evt_1", "evt_2", "evt_3"}}
    received = {"a": [("evt_1", 10.0), ("evt_2", 11.0), ("evt_1", 12.0)]}
    created = {"evt_1": 9.0, "evt_2": 8.0, "evt_3": 8.0}
    hooks = accounting.webhook_accounting(owed, received, created)
    assert (hooks.lost, hooks.redeliveries) == (1, 1)
    assert sorted(hooks.latencies) == [1.0, 3.0]  # first receipts only


def test_p99_is_the_nearest_rank() -> None:
    assert accounting.p99([]) is None
    assert accounting.p99(range(1, 101)) == 99
    assert accounting.p99([5.0]) == 5.0


def test_the_summary_leads_with_the_issues_six_keys_and_misses_are_named() -> None:
    hooks = accounting.Webhooks(lost=0, redeliveries=2, latencies=[0.5, 1.5])
    line = accounting.summary(statuses=[200, 503], lost=0, duplicates=0, hooks=hooks, faults=[])
    assert tuple(line)[:6] == accounting.FIRST_KEYS
    assert line["healthy_delivery_p99_s"] == 1.5 and line["requests"] == 2
    assert accounting.missed(line) == []
    slow = accounting.summary(statuses=[500], lost=1, duplicates=0,
                              hooks=accounting.Webhooks(0, 0, [11.0]))
    assert accounting.missed(slow) == ["server_errors_not_503", "lost_writes",
                                       "healthy_delivery_p99_s"]
    none = accounting.summary(statuses=[], lost=0, duplicates=0,
                              hooks=accounting.Webhooks(0, 0, []))
    assert accounting.missed(none) == ["healthy_delivery_p99_s"]  # nothing measured: a miss


def test_routes_are_tallied_without_ids_or_queries() -> None:
    assert _kind("/plans/pln_1/visits") == "plans/visits"
    assert _kind("/followups?clinic_id=cln_1") == "followups"
    assert _kind("/plans/pln_1") == "plans"
