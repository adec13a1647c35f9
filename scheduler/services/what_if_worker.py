"""One chunk of a what-if replay: read the stored histories of a page of plans and fold them.

Runs in the calling process for small clinics and in each process of the replay's pool
otherwise: `init` (the pool's initializer) gives a worker its own engine and the replay's
fixed inputs, built from plain values; `run_chunk` is the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import util
from typing import Any

from sqlalchemy import Connection, Engine

import rules
from scheduler.calendar import clinic_calendar
from scheduler.db import make_engine
from scheduler.services.what_if_fold import Moment, Tally, replay_plan
from scheduler.store import what_if as store


@dataclass(frozen=True, slots=True)
class Context:
    """The fixed inputs of one replay: each plan's own ruleset by id, the candidate, and when."""

    rulesets: dict[str, rules.Ruleset]
    candidate: rules.Ruleset
    moment: Moment


def context(clinic: Sequence[Any], rulesets: dict[str, dict[str, Any]],
            candidate: dict[str, Any], as_of: datetime) -> Context:
    """A Context from plain values: the clinic's calendar columns (id, version, timezone,
    open weekdays, closures, holiday region) and ruleset bodies (`Ruleset.to_dict()`)."""
    calendar = clinic_calendar(*clinic[:6])
    moment = Moment(as_of, calendar.local_date(as_of), calendar.local_date, calendar.is_open)
    return Context({rid: rules.load_ruleset(body) for rid, body in rulesets.items()},
                   rules.load_ruleset(candidate), moment)


def replay_chunk(connection: Connection, ctx: Context, plans: Sequence[tuple[str, str]],
                 after: str = "", keep: int | None = None) -> Tally:
    """The tally of `plans` ((plan id, ruleset id), in id order) at the context's moment."""
    tally = Tally()
    ruleset_of = dict(plans)
    for plan_id, payloads in store.histories(connection, [plan_id for plan_id, _ in plans]):
        current = ctx.rulesets.get(ruleset_of[plan_id])
        try:
            events = [rules.event_from_dict(payload) for payload in payloads]
        except rules.RulesError:
            events = []
        if current is None or not events:
            tally.errors += 1
            continue
        replay_plan(plan_id, events, current, ctx.candidate, ctx.moment, tally,
                    after=after, keep=keep)
    return tally


_engine: Engine | None = None
_context: Context | None = None


def init(database_url: str, ctx: Context) -> None:
    """A pool process's initializer: its own engine (never one inherited from the parent) and
    the replay's context, built by the parent before it forked (the calendar's holiday and
    time-zone tables are costly to build; a forked worker inherits them)."""
    global _engine, _context
    _engine = make_engine(database_url)
    util.Finalize(None, _engine.dispose, exitpriority=10)  # close connections on exit
    _context = ctx


def run_chunk(plans: Sequence[tuple[str, str]], after: str, keep: int | None) -> Tally:
    """A pool task: one chunk, on this process's engine."""
    if _engine is None or _context is None:
        raise RuntimeError("run_chunk runs in a process set up by init()")
    with _engine.connect() as connection:
        return replay_chunk(connection, _context, plans, after, keep)
