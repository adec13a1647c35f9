"""What-if reads and the what-if job's rows, as Core statements.

A replay reads a clinic's active plans in id order (keyset pages, never all at once) and the
stored histories of one page at a time; the job rows are the only thing a what-if writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, select, update

from scheduler.models import Clinic, WhatIfItem, WhatIfJob, table
from scheduler.store.plans import EVENTS, PLANS

JOBS, ITEMS = table(WhatIfJob), table(WhatIfItem)
ACTIVE = PLANS.c.status != "discharged"


class ClinicColumns(NamedTuple):
    """What a replay needs of the clinic: its calendar's columns and its ruleset."""

    id: str
    version: int
    timezone: str
    open_weekdays: list[int]
    closures: list[str]
    holiday_region: str | None
    ruleset: str


_CLINIC = select(Clinic.id, Clinic.version, Clinic.timezone, Clinic.open_weekdays,
                 Clinic.closures, Clinic.holiday_region, Clinic.ruleset).where(
    Clinic.id == bindparam("clinic_id"))
_COUNT = select(func.count()).select_from(PLANS).where(
    PLANS.c.clinic_id == bindparam("clinic_id"), ACTIVE)
_RULESETS = (select(PLANS.c.ruleset).where(PLANS.c.clinic_id == bindparam("clinic_id"), ACTIVE)
             .group_by(PLANS.c.ruleset).order_by(PLANS.c.ruleset))
_PAGE = (select(PLANS.c.id, PLANS.c.ruleset)
         .where(PLANS.c.clinic_id == bindparam("clinic_id"), ACTIVE,
                PLANS.c.id > bindparam("after"))
         .order_by(PLANS.c.id).limit(bindparam("limit")))
# arrival order within a plan: the fold sorts by history_order, ties keep this order
_HISTORIES = (select(EVENTS.c.plan_id, EVENTS.c.payload)
              .where(EVENTS.c.plan_id.in_(bindparam("plan_ids", expanding=True)))
              .order_by(EVENTS.c.plan_id, EVENTS.c.seq))


def clinic(connection: Connection, clinic_id: str) -> ClinicColumns | None:
    found = connection.execute(_CLINIC, {"clinic_id": clinic_id}).first()
    return ClinicColumns(*found) if found is not None else None


def count_active(connection: Connection, clinic_id: str) -> int:
    """How many of the clinic's plans are not discharged."""
    return int(connection.execute(_COUNT, {"clinic_id": clinic_id}).scalar_one())


def active_rulesets(connection: Connection, clinic_id: str) -> list[str]:
    """The distinct rulesets the clinic's active plans were folded with."""
    return list(connection.execute(_RULESETS, {"clinic_id": clinic_id}).scalars())


def active_plans(connection: Connection, clinic_id: str,
                 page: int) -> Iterator[list[tuple[str, str]]]:
    """The clinic's active plans as pages of (plan id, ruleset id), in id order: one keyset
    query per page, so memory holds one page whatever the clinic's size."""
    after = ""
    while True:
        rows = [(plan_id, ruleset) for plan_id, ruleset in connection.execute(
            _PAGE, {"clinic_id": clinic_id, "after": after, "limit": page})]
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def histories(connection: Connection,
              plan_ids: Sequence[str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(plan id, its event payloads in arrival order) for each plan of `plan_ids` that has
    events, in plan id order."""
    rows = connection.execute(_HISTORIES, {"plan_ids": list(plan_ids)})
    for plan_id, group in groupby(rows, key=lambda row: row[0]):
        yield plan_id, [payload for _, payload in group]


# -- jobs -----------------------------------------------------------------------------------

_INSERT_JOB = insert(JOBS)
_JOB = select(JOBS).where(JOBS.c.id == bindparam("job_id"))
_QUEUED = (select(JOBS.c.id).where(JOBS.c.status == "queued")
           .order_by(JOBS.c.created_at, JOBS.c.id))
_STALE = (select(JOBS.c.id).where(JOBS.c.status == "running",
                                  JOBS.c.started_at < bindparam("before"))
          .order_by(JOBS.c.created_at, JOBS.c.id))
# The guarded UPDATE that claims a job: only one caller sees rowcount 1 for a given state.
_CLAIM = (update(JOBS).where(JOBS.c.id == bindparam("job_id"),
                             JOBS.c.status == bindparam("expected"),
                             JOBS.c.started_at.is_not_distinct_from(bindparam("seen_start")))
          .values(status="running", started_at=bindparam("at"),
                  claimed_by=bindparam("runner")))
_FINISH = (update(JOBS).where(JOBS.c.id == bindparam("job_id"), JOBS.c.status == "running",
                              JOBS.c.claimed_by == bindparam("runner"))
           .values(status=bindparam("outcome"),
                   result=bindparam("totals", type_=JOBS.c.result.type),
                   error=bindparam("why"), finished_at=bindparam("at")))
_INSERT_ITEMS = insert(ITEMS)
_DELETE_ITEMS = ITEMS.delete().where(ITEMS.c.job_id == bindparam("job_id"))
_ITEMS = (select(ITEMS.c.plan_id, ITEMS.c.payload)
          .where(ITEMS.c.job_id == bindparam("job_id"), ITEMS.c.plan_id > bindparam("after"))
          .order_by(ITEMS.c.plan_id).limit(bindparam("limit")))


def insert_job(connection: Connection, *, job_id: str, clinic_id: str,
               request: dict[str, Any], now: datetime) -> None:
    connection.execute(_INSERT_JOB, {"id": job_id, "clinic_id": clinic_id, "status": "queued",
                                     "request": request, "result": None, "error": None,
                                     "claimed_by": None, "created_at": now,
                                     "started_at": None, "finished_at": None})


def job(connection: Connection, job_id: str) -> Any:
    """The job row (or None)."""
    return connection.execute(_JOB, {"job_id": job_id}).first()


def claimable(connection: Connection, stale_before: datetime) -> list[tuple[str, Any]]:
    """(job id, its started_at) of queued jobs, then of running ones whose runner has been
    silent since before `stale_before` (a scheduler killed mid-job), oldest first."""
    queued = [(job_id, None) for job_id in connection.execute(_QUEUED).scalars()]
    stale = [(job_id, job(connection, job_id).started_at)
             for job_id in connection.execute(_STALE, {"before": stale_before}).scalars()]
    return queued + stale


def claim(connection: Connection, job_id: str, *, expected: str, seen_start: datetime | None,
          claimed_by: str, now: datetime) -> bool:
    """Claim a job seen in state `expected` (started at `seen_start`); False when another
    runner got there first. A re-claimed job's items are deleted, to be written again."""
    done = connection.execute(_CLAIM, {"job_id": job_id, "expected": expected,
                                       "seen_start": seen_start, "runner": claimed_by,
                                       "at": now})
    if done.rowcount != 1:
        return False
    connection.execute(_DELETE_ITEMS, {"job_id": job_id})
    return True


def add_items(connection: Connection, job_id: str, items: Sequence[dict[str, Any]]) -> None:
    if items:
        connection.execute(_INSERT_ITEMS, [{"job_id": job_id, "plan_id": item["plan_id"],
                                            "payload": item} for item in items])


def finish(connection: Connection, job_id: str, *, claimed_by: str, status: str,
           result: dict[str, Any] | None, error: str | None, now: datetime) -> bool:
    """Record the outcome, only while `claimed_by` still holds the job."""
    done = connection.execute(_FINISH, {"job_id": job_id, "runner": claimed_by,
                                        "outcome": status, "totals": result, "why": error,
                                        "at": now})
    return done.rowcount == 1


def items_page(connection: Connection, job_id: str, after: str,
               limit: int) -> list[dict[str, Any]]:
    return [payload for _, payload in connection.execute(
        _ITEMS, {"job_id": job_id, "after": after, "limit": limit})]
