"""What-if: replay a clinic's active plans under a candidate ruleset before it is adopted.

Each active plan's stored history is folded under the plan's own ruleset ("current": what
the plan is on, which replays to exactly its stored state) and under the candidate, at
`as_of`; nothing is written. A clinic with more than `sync_max` active plans gets a job
instead, which the scheduler process runs (`run_due_jobs`); the job's rows are all a what-if
ever stores. The replay streams the clinic's plans in id-ordered pages, in this process for
a small clinic and over a process pool of one worker per core otherwise, and merges the
pages' tallies in order, so the answer is the same however it was computed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.services.common import Scope, check_limit, decode_cursor, encode_cursor, in_scope
from scheduler.services.rulesets import resolve
from scheduler.services.what_if_fold import Tally
from scheduler.services.what_if_worker import context, init, replay_chunk, run_chunk
from scheduler.store import what_if as store

log = logging.getLogger("cadence.what_if")
CHUNK = 500  # plans per page read and per pool task (20 tasks for 10,000 plans)
SERIAL_MAX = 2000  # up to this many plans, no pool: starting one costs more than it saves
STALE_AFTER = timedelta(minutes=30)  # a running job silent this long lost its runner


def candidate_of(session: Session, candidate: Any) -> rules.Ruleset:
    """The candidate: a stored `name@version`, or a ruleset object validated like
    POST /rulesets (a bad one is a 422 naming `candidate.<parameter>`)."""
    if isinstance(candidate, str):
        try:
            return resolve(session, candidate)
        except NotFound:
            raise ValidationFailed.single(
                "candidate", f"Unknown ruleset {candidate!r}: expected the name@version of "
                "a stored ruleset, or a ruleset object.") from None
    if isinstance(candidate, dict):
        try:
            return rules.load_ruleset(candidate)
        except rules.InvalidRuleset as exc:
            raise ValidationFailed.single(f"candidate.{exc.field}", exc.message) from None
    raise ValidationFailed.single("candidate", "Must be `name@version` or a ruleset object "
                                  "{name, version, parameters}.")


def what_if(uow: UnitOfWork, *, clinic_id: str, candidate: Any, as_of: datetime | None,
            now: datetime, scope: Scope, sync_max: int, limit: int = 50,
            cursor: str | None = None) -> dict[str, Any]:
    """The replay's answer (status `done`), or for a clinic over `sync_max` active plans a
    queued job `{"id", "status"}`. `cursor` (an answer's `next_cursor`) pages the items and
    carries the first page's `as_of`; NotFound for a clinic outside `scope`."""
    check_limit(limit)
    after, cursor_as_of = _cursor(cursor)
    with uow:
        connection = uow.session.connection()
        clinic = store.clinic(connection, clinic_id)
        if clinic is None or not in_scope(scope, clinic_id):
            raise NotFound("clinic", clinic_id)
        ruleset = candidate_of(uow.session, candidate)
        if as_of is not None and cursor_as_of is not None and as_of != cursor_as_of:
            raise ValidationFailed.single("cursor", "The cursor belongs to another as_of.")
        moment = as_of or cursor_as_of or now
        count = store.count_active(connection, clinic_id)
        if count > sync_max:
            job_id = new_id("wif")
            store.insert_job(connection, job_id=job_id, clinic_id=clinic_id, now=now,
                             request={"candidate": ruleset.to_dict(),
                                      "candidate_id": ruleset.id,
                                      "as_of": moment.isoformat()})
            uow.commit()
            return {"id": job_id, "status": "queued"}
        tally = Tally()
        for chunk in _replay(uow.session, connection, clinic, ruleset, moment, count,
                             after=after, keep=limit + 1):
            tally.merge(chunk, keep=limit + 1)
    more = len(tally.items) > limit
    items = tally.items[:limit]
    return {"status": "done", **_header(clinic_id, ruleset.id, moment), **tally.summary(),
            "items": items,
            "next_cursor": encode_cursor(moment, items[-1]["plan_id"]) if more else None}


def get_job(uow: UnitOfWork, job_id: str, *, scope: Scope, limit: int = 50,
            cursor: str | None = None) -> dict[str, Any]:
    """A what-if job's status, and once done its answer with a page of items; NotFound when
    missing or of a clinic outside `scope`."""
    check_limit(limit)
    after, _ = _cursor(cursor)
    with uow:
        connection = uow.session.connection()
        row = store.job(connection, job_id)
        if row is None or not in_scope(scope, row.clinic_id):
            raise NotFound("what-if", job_id)
        answer: dict[str, Any] = {
            "id": row.id, "status": row.status,
            **_header(row.clinic_id, str(row.request.get("candidate_id")),
                      datetime.fromisoformat(row.request["as_of"]))}
        if row.status == "failed":
            answer["error"] = row.error
        if row.status != "done":
            return answer
        found = store.items_page(connection, job_id, after, limit + 1)
    items = found[:limit]
    cursor_next = (encode_cursor(datetime.fromisoformat(answer["as_of"]), items[-1]["plan_id"])
                   if len(found) > limit else None)
    return {**answer, **(row.result or {}), "items": items, "next_cursor": cursor_next}


def run_due_jobs(uow_factory: Callable[[], UnitOfWork], now: datetime, *,
                 claimed_by: str) -> int:
    """Run every queued what-if job (and any whose runner died); returns how many ran. Each
    is claimed with a guarded UPDATE first, so two runs never run one job twice."""
    with uow_factory() as uow:
        due = store.claimable(uow.session.connection(), now - STALE_AFTER)
    ran = 0
    for job_id, seen_start in due:
        with uow_factory() as uow:
            expected = "queued" if seen_start is None else "running"
            claimed = store.claim(uow.session.connection(), job_id, expected=expected,
                                  seen_start=seen_start, claimed_by=claimed_by, now=now)
            uow.commit()
        if claimed:
            run_job(uow_factory, job_id, claimed_by=claimed_by, now=now)
            ran += 1
    return ran


def run_job(uow_factory: Callable[[], UnitOfWork], job_id: str, *, claimed_by: str,
            now: datetime) -> None:
    """Replay a claimed job, writing its changed plans page by page, then its totals."""
    try:
        with uow_factory() as uow:
            connection = uow.session.connection()
            row = store.job(connection, job_id)
            clinic = store.clinic(connection, row.clinic_id)
            if clinic is None:
                raise NotFound("clinic", row.clinic_id)
            ruleset = rules.load_ruleset(row.request["candidate"])
            moment = datetime.fromisoformat(row.request["as_of"])
            count = store.count_active(connection, clinic.id)
            tally = Tally()
            for chunk in _replay(uow.session, connection, clinic, ruleset, moment, count):
                with uow_factory() as writer:
                    store.add_items(writer.session.connection(), job_id, chunk.items)
                    writer.commit()
                tally.merge(chunk, keep=0)
        result = {**tally.summary()}
        status, error = "done", None
    except Exception as exc:  # a failed job says why; the scheduler keeps running
        log.exception("what-if job %s failed", job_id)
        result, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
    with uow_factory() as uow:
        store.finish(uow.session.connection(), job_id, claimed_by=claimed_by, status=status,
                     result=result, error=error, now=now)
        uow.commit()
    log.info("what-if job %s %s", job_id, status)


def _header(clinic_id: str, candidate: str, moment: datetime) -> dict[str, Any]:
    return {"clinic_id": clinic_id, "candidate": candidate, "as_of": moment.isoformat()}


def _cursor(cursor: str | None) -> tuple[str, datetime | None]:
    """(plan id to start after, the first page's as_of) of a what-if cursor."""
    if not cursor:
        return "", None
    as_of, after = decode_cursor(cursor)  # the (instant, id) cursor every list uses
    return after, as_of


def workers() -> int:
    """One replay process per core of this machine."""
    return os.cpu_count() or 1


def _replay(session: Session, connection: Connection, clinic: store.ClinicColumns,
            candidate: rules.Ruleset, as_of: datetime, count: int, *, after: str = "",
            keep: int | None = None) -> Iterator[Tally]:
    """The tallies of the clinic's active plans, page by page in plan id order."""
    bodies = {rid: resolve(session, rid).to_dict()
              for rid in store.active_rulesets(connection, clinic.id)}
    ctx = context(clinic, bodies, candidate.to_dict(), as_of)
    pages = store.active_plans(connection, clinic.id, CHUNK)
    size = workers()
    if size == 1 or count <= SERIAL_MAX:
        for page in pages:
            yield replay_chunk(connection, ctx, page, after, keep)
        return
    url = connection.engine.url.render_as_string(hide_password=False)
    # fork: a worker starts in milliseconds with the context built above (nothing pickled)
    # and opens its own engine in init(); the parent keeps reading pages while they fold.
    with ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("fork"),
                             initializer=init, initargs=(url, ctx)) as pool:
        pending: deque[Future[Tally]] = deque()
        for page in pages:
            pending.append(pool.submit(run_chunk, page, after, keep))
            if len(pending) >= 2 * size:  # bounded: at most 2 pages per worker in flight
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
