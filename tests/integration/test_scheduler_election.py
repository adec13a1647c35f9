"""What a newly elected leader's APScheduler runs first (its jobs in the real job store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.jobs.runner import build_scheduler


def test_a_new_leader_runs_webhooks_and_what_if_at_once_and_the_rest_on_their_interval(
        migrated_engine):
    # Before the fix every interval job first ran one interval after the election, so the
    # deliveries held up by an outage or a SIGKILLed leader waited longer than they had to.
    before = datetime.now(UTC)
    scheduler = build_scheduler(migrated_engine)
    scheduler.start(paused=True)
    try:
        first = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.remove_all_jobs()
        scheduler.shutdown(wait=False)
    soon = before + timedelta(seconds=2)
    assert first["webhooks"] <= soon and first["what_if"] <= soon
    assert first["heartbeat"] >= before + timedelta(seconds=14)
    assert first["sweep"] >= before + timedelta(minutes=4)
