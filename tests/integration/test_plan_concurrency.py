"""Concurrent writers on one plan: every report keeps its own event and decision, the stored
state is the fold of the stored events, and the version counts every write (no lost update).
Two concurrent creations of a plan for one patient: exactly one wins, the other is a Conflict.

Runs on the session's database: a SQLite file by default, PostgreSQL with TEST_DATABASE_URL
(the `postgres` variants are skipped on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from scheduler.errors import Conflict
from scheduler.services import plans, reports
from tests import builders
from tests.builders import ACTOR, replay, stored


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job at once (a barrier); return each result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as exc:  # the test inspects what each writer got
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def concurrent_reports(uow_factory, now, writers: int, per_writer: int) -> None:
    plan = builders.plan(uow_factory, now)
    later = now + timedelta(days=3)

    def writer(w: int) -> Callable[[], list[Any]]:
        def job() -> list[Any]:
            # interleaved times: writers' reports land before and after each other (late folds)
            return [reports.record_report(
                uow_factory(), plan.id, recorded_at=now + timedelta(hours=1 + w + writers * n),
                pain=7 - (w + n) % 4, actor=ACTOR, now=later) for n in range(per_writer)]
        return job

    results = run_together([writer(w) for w in range(writers)])
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    total = writers * per_writer
    found = stored(uow_factory, plan.id)
    assert found["version"] == 1 + total
    assert len(found["reports"]) == total
    report_events = {eid for eid, _, kind, _ in found["events"] if kind == "report"}
    assert {eid for _, eid in found["reports"]} == report_events and len(report_events) == total
    assert sorted(seq for _, seq, _, _ in found["events"]) == list(range(total + 2))
    assert sorted(eid for eid, _, _ in found["decisions"]) == sorted(
        eid for eid, _, _, _ in found["events"])
    assert sorted(pos for _, pos, _ in found["decisions"]) == list(range(total + 2))
    folded = replay(found)
    assert folded.state.to_dict() == found["state"]
    returned = [decision for batch in results for _, decision, _ in batch]
    assert len({d["event_id"] for d in returned}) == total


def concurrent_creations(uow_factory, now, attempts: int) -> None:
    patient_id = builders.patient(uow_factory, now).id

    def create() -> plans.PlanView:
        return plans.create_plan(uow_factory(), patient_id=patient_id, condition="neck",
                                 onset_date=date(2026, 10, 1), baseline={"pain": 5},
                                 neuropathic_symptoms=False, actor=ACTOR, now=now)

    results = run_together([create] * attempts)
    winners = [r for r in results if isinstance(r, plans.PlanView)]
    losers = [r for r in results if not isinstance(r, plans.PlanView)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in losers), losers
    assert all(r.existing_id == winners[0].id for r in losers)
    listed = plans.list_plans(uow_factory(), now=now, patient_id=patient_id)
    assert [p.id for p in listed.items] == [winners[0].id]


def test_two_writers_on_one_plan_lose_no_report(uow_factory, now):
    concurrent_reports(uow_factory, now, writers=2, per_writer=3)


def test_four_writers_on_one_plan_lose_no_report(uow_factory, now):
    concurrent_reports(uow_factory, now, writers=4, per_writer=2)


def test_two_concurrent_plan_creations_for_one_patient_give_one_plan(uow_factory, now):
    concurrent_creations(uow_factory, now, attempts=2)


@pytest.mark.postgres
def test_eight_writers_on_one_plan_lose_no_report_on_postgres(uow_factory, now):
    concurrent_reports(uow_factory, now, writers=8, per_writer=3)


@pytest.mark.postgres
def test_six_concurrent_plan_creations_give_one_plan_on_postgres(uow_factory, now):
    concurrent_creations(uow_factory, now, attempts=6)
