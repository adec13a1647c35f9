"""Core statements of patient check-ins: a link by its token's hash, the single-use claim, and
rule 24's candidates (active plans whose last session is old enough, with no report since and
no suggestion for it yet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, select, update

from scheduler.models import Checkin, CheckinSuggestion, Plan, Report, Visit, table

CHECKINS = table(Checkin)
_PLANS, _VISITS, _REPORTS = table(Plan), table(Visit), table(Report)
_SUGGESTIONS = table(CheckinSuggestion)

_BY_HASH = select(CHECKINS).where(CHECKINS.c.token_hash == bindparam("token_hash"))
# The claim: only an unused, unrevoked, unexpired link is marked used (one statement, so two
# answers sent at once cannot both pass).
_CLAIM = (update(CHECKINS)
          .where(CHECKINS.c.id == bindparam("checkin_id"), CHECKINS.c.used_at.is_(None),
                 CHECKINS.c.revoked_at.is_(None), CHECKINS.c.expires_at > bindparam("now"))
          .values(used_at=bindparam("now"), report_id=bindparam("report_id")))
_INSERT_SUGGESTION = insert(_SUGGESTIONS)

_LAST_SESSION = (select(_VISITS.c.plan_id, func.max(_VISITS.c.starts_at).label("session_at"))
                 .where(_VISITS.c.kind == "needling", _VISITS.c.status == "attended")
                 .group_by(_VISITS.c.plan_id).subquery("last_session"))
_REPORT_SINCE = exists().where(_REPORTS.c.plan_id == _PLANS.c.id,
                               _REPORTS.c.recorded_at >= _LAST_SESSION.c.session_at)
_SUGGESTED = exists().where(_SUGGESTIONS.c.plan_id == _PLANS.c.id,
                            _SUGGESTIONS.c.session_at == _LAST_SESSION.c.session_at)
_CANDIDATES = (select(_PLANS.c.id, _LAST_SESSION.c.session_at)
               .join(_LAST_SESSION, _LAST_SESSION.c.plan_id == _PLANS.c.id)
               .where(_PLANS.c.status == "active", _PLANS.c.ruleset == bindparam("ruleset"),
                      _PLANS.c.id > bindparam("after"),
                      _LAST_SESSION.c.session_at <= bindparam("cutoff"),
                      ~_REPORT_SINCE, ~_SUGGESTED)
               .order_by(_PLANS.c.id).limit(bindparam("size")))
_ONE_CANDIDATE = (select(_LAST_SESSION.c.session_at)
                  .select_from(_PLANS.join(_LAST_SESSION, _LAST_SESSION.c.plan_id == _PLANS.c.id))
                  .where(and_(_PLANS.c.id == bindparam("plan_id"), _PLANS.c.status == "active",
                              _LAST_SESSION.c.session_at <= bindparam("cutoff"),
                              ~_REPORT_SINCE, ~_SUGGESTED)))
_ACTIVE_RULESETS = select(_PLANS.c.ruleset).where(_PLANS.c.status == "active").distinct()


def by_hash(connection: Connection, token_hash: str) -> Any:
    """The link row whose token hashes to `token_hash`, or None."""
    return connection.execute(_BY_HASH, {"token_hash": token_hash}).first()


def claim(connection: Connection, checkin_id: str, report_id: str, now: datetime) -> bool:
    """Mark the link used by `report_id` unless it is used, revoked or expired already."""
    return bool(connection.execute(_CLAIM, {"checkin_id": checkin_id, "report_id": report_id,
                                            "now": now}).rowcount)


def active_rulesets(connection: Connection) -> list[str]:
    """The rulesets active plans run under (each has its own `checkin_after_hours`)."""
    return list(connection.execute(_ACTIVE_RULESETS).scalars())


def candidates(connection: Connection, ruleset: str, cutoff: datetime, size: int,
               after: str = "") -> list[tuple[str, datetime]]:
    """Up to `size` (plan id, last session) of rule 24 under `ruleset`, in plan id order after
    `after`: active, the last attended needling session at or before `cutoff`, no report since
    it, not yet suggested."""
    return [(row.id, row.session_at) for row in connection.execute(
        _CANDIDATES, {"ruleset": ruleset, "cutoff": cutoff, "size": size, "after": after})]


def still_candidate(connection: Connection, plan_id: str, cutoff: datetime) -> datetime | None:
    """The plan's last session if it is still a candidate (re-read under the plan's lock)."""
    return connection.execute(_ONE_CANDIDATE, {"plan_id": plan_id, "cutoff": cutoff}).scalar()


def record_suggestion(connection: Connection, plan_id: str, session_at: datetime,
                      event_id: str, now: datetime) -> None:
    connection.execute(_INSERT_SUGGESTION, {"plan_id": plan_id, "session_at": session_at,
                                            "event_id": event_id, "created_at": now})
