"""The what-if service: the process pool gives the serial answer, and a job claimed by one
runner is never run by another."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler.services import clinics, what_if
from scheduler.store import what_if as store
from tests.api.test_what_if_api import AFTER, STRICTER, seed
from tests.builders import ACTOR


@pytest.fixture
def clinic_id(uow_factory: Any, now: Any) -> str:
    clinic = clinics.create_clinic(uow_factory(), name="Kits Physio",
                                   timezone="America/Vancouver", open_weekdays=[0, 1, 2, 3, 4],
                                   holiday_region="CA-BC", actor=ACTOR, now=now)
    seed(uow_factory, clinic.id, 3, baseline=6, neuropathic=True, report_pain=4, tag="a")
    seed(uow_factory, clinic.id, 2, baseline=8, neuropathic=False, report_pain=5, tag="b")
    return clinic.id


def ask(uow_factory: Any, clinic_id: str, **extra: Any) -> dict[str, Any]:
    return what_if.what_if(uow_factory(), clinic_id=clinic_id, candidate=STRICTER, as_of=None,
                           now=AFTER, scope=None, sync_max=20_000, **extra)


def test_the_process_pool_gives_the_serial_answer(uow_factory: Any, clinic_id: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    serial = ask(uow_factory, clinic_id)
    monkeypatch.setattr(what_if, "CHUNK", 2)  # 3 pages of plans over the pool
    monkeypatch.setattr(what_if, "SERIAL_MAX", 0)
    monkeypatch.setattr(what_if, "workers", lambda: 2)
    pooled = ask(uow_factory, clinic_id)
    assert pooled == serial
    assert (serial["plans"], serial["changed"]) == (5, 3)
    first = ask(uow_factory, clinic_id, limit=2)
    second = ask(uow_factory, clinic_id, limit=2, cursor=first["next_cursor"])
    assert first["items"] + second["items"] == serial["items"]


def test_a_claimed_job_is_not_claimed_again_until_its_runner_is_silent(
        uow_factory: Any, clinic_id: str) -> None:
    job = what_if.what_if(uow_factory(), clinic_id=clinic_id, candidate=STRICTER, as_of=None,
                          now=AFTER, scope=None, sync_max=1)
    assert job["status"] == "queued"
    with uow_factory() as uow:
        assert store.claim(uow.session.connection(), job["id"], expected="queued",
                           seen_start=None, claimed_by="dead-runner", now=AFTER)
        uow.commit()
    assert what_if.run_due_jobs(uow_factory, AFTER + timedelta(minutes=5), claimed_by="b") == 0
    assert what_if.get_job(uow_factory(), job["id"], scope=None)["status"] == "running"
    later = AFTER + what_if.STALE_AFTER + timedelta(minutes=1)
    assert what_if.run_due_jobs(uow_factory, later, claimed_by="b") == 1
    done = what_if.get_job(uow_factory(), job["id"], scope=None)
    assert (done["status"], done["changed"], len(done["items"])) == ("done", 3, 3)


def test_a_job_that_cannot_run_is_failed_with_its_reason(uow_factory: Any,
                                                         clinic_id: str) -> None:
    job = what_if.what_if(uow_factory(), clinic_id=clinic_id, candidate=STRICTER, as_of=None,
                          now=AFTER, scope=None, sync_max=1)
    with uow_factory() as uow:  # a request no runner can read (hand-edited, say)
        uow.session.execute(store.JOBS.update().where(store.JOBS.c.id == job["id"])
                            .values(request={"candidate": {}, "as_of": AFTER.isoformat()}))
        uow.commit()
    assert what_if.run_due_jobs(uow_factory, AFTER, claimed_by="a") == 1
    failed = what_if.get_job(uow_factory(), job["id"], scope=None)
    assert failed["status"] == "failed" and "InvalidRuleset" in failed["error"]
