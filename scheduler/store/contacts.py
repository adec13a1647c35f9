"""Contact log rows and the plan's outreach columns, as Core statements; and the worklist's
last-contact and attempt-count columns, correlated to the plan row of the worklist query."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Label,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from scheduler.models import PlanContact, table
from scheduler.store.plans import PLANS

CONTACTS = table(PlanContact)
_C, _P = CONTACTS.c, PLANS.c
COLUMNS = tuple(CONTACTS.c)

_INSERT = insert(CONTACTS)
_OUTREACH = (update(PLANS).where(_P.id == bindparam("plan_id"))
             .values(version=_P.version + 1, updated_at=bindparam("now"),
                     contact_snoozed_until=bindparam("snoozed",
                                                     type_=_P.contact_snoozed_until.type),
                     do_not_contact_at=bindparam("dnc", type_=_P.do_not_contact_at.type)))
_END_SNOOZE = (update(PLANS).where(_P.id == bindparam("plan_id"),
                                   _P.contact_snoozed_until.is_not(None))
               .values(contact_snoozed_until=None))


def insert_contact(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(_INSERT, values)


def set_outreach(connection: Connection, plan_id: str, *, snoozed_until: date | None,
                 do_not_contact_at: datetime | None, now: datetime) -> None:
    """Write a locked plan's outreach columns and bump its version (its view changed)."""
    connection.execute(_OUTREACH, {"plan_id": plan_id, "snoozed": snoozed_until,
                                   "dnc": do_not_contact_at, "now": now})


def end_snooze(connection: Connection, plan_id: str) -> None:
    """A new booking or visit ends a contact's snooze, as it ends rule 23's."""
    connection.execute(_END_SNOOZE, {"plan_id": plan_id})


def page(connection: Connection, plan_id: str, *, limit: int,
         before: tuple[datetime, str] | None) -> list[Any]:
    """Up to `limit` contacts of a plan, newest first, older than `before` (created_at, id)."""
    query = select(*COLUMNS).where(_C.plan_id == plan_id)
    if before is not None:
        query = query.where(or_(_C.created_at < before[0],
                                and_(_C.created_at == before[0], _C.id < before[1])))
    return list(connection.execute(query.order_by(_C.created_at.desc(), _C.id.desc())
                                   .limit(limit)).all())


# The worklist's contact columns: the plan's latest contact (one (plan_id, created_at, id)
# index probe per row of the page) and the attempts logged since the current window's
# earliest day (an index range count). Both correlate to the worklist's plan row, so a page
# of 50 is still one query.
LAST = CONTACTS.alias("last_contact")
_LATEST_ID = (select(_C.id).where(_C.plan_id == _P.id)
              .order_by(_C.created_at.desc(), _C.id.desc()).limit(1)
              .correlate(PLANS).scalar_subquery())
LAST_JOIN: ColumnElement[bool] = LAST.c.id == _LATEST_ID
ATTEMPTS: Label[Any] = (select(func.count()).select_from(CONTACTS)
                        .where(_C.plan_id == _P.id, _C.local_date >= _P.next_earliest)
                        .correlate(PLANS).scalar_subquery().label("contact_attempts"))
LAST_COLUMNS = (LAST.c.created_at.label("last_contact_at"),
                LAST.c.channel.label("last_contact_channel"),
                LAST.c.outcome.label("last_contact_outcome"),
                LAST.c.actor_key_id.label("last_contact_key_id"),
                LAST.c.actor_name.label("last_contact_name"))
