"""The contact log: the front desk's outreach attempts on a plan, their snooze and the
patient's do-not-contact request (issue 13).

Contacts are not events of the engine's history: they never change a frequency or a window,
so the fold, its replay invariant and what-if never see them. Their effect on outreach is
held by two plan columns written here (`contact_snoozed_until`, `do_not_contact_at`); a
contact that changes either bumps the plan's version, since the plan's view changes
(`flags`, `next_visit.snoozed_until`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scheduler.db import UnitOfWork
from scheduler.errors import ValidationFailed
from scheduler.ids import new_id
from scheduler.services import audit
from scheduler.services.common import (
    Actor,
    Page,
    Scope,
    check_limit,
    decode_cursor,
    encode_cursor,
)
from scheduler.services.plan_core import load
from scheduler.services.plan_views import DO_NOT_CONTACT
from scheduler.services.plans import ensure_open
from scheduler.store import contacts as store

CHANNELS = ("phone", "sms", "email", "in_person")
OUTCOMES = ("reached", "left_message", "no_answer", "booked", "declined", DO_NOT_CONTACT)
MAX_NOTE = 2000
MAX_SNOOZE_DAYS = 90


@dataclass(frozen=True, slots=True)
class ContactView:
    """One logged contact; `actor` is who logged it (the X-Actor or staff:<id>, else the
    API key's id)."""

    id: str
    plan_id: str
    clinic_id: str
    channel: str
    outcome: str
    note: str | None
    snooze_until: date | None
    actor: str | None
    created_at: datetime


def actor_label(key_id: str | None, name: str | None) -> str | None:
    """How a contact names its author: the person if known, else the key."""
    return name or key_id


def _view(row: Any) -> ContactView:
    return ContactView(row.id, row.plan_id, row.clinic_id, row.channel, row.outcome, row.note,
                       row.snooze_until, actor_label(row.actor_key_id, row.actor_name),
                       row.created_at)


def _check(channel: str, outcome: str, note: str | None, snooze_until: date | None,
           today: date) -> None:
    """Every invalid field at once, named (a rejected contact changes nothing)."""
    errors: dict[str, list[str]] = {}
    if channel not in CHANNELS:
        errors["channel"] = [f"One of {', '.join(CHANNELS)}."]
    if outcome not in OUTCOMES:
        errors["outcome"] = [f"One of {', '.join(OUTCOMES)}."]
    if note is not None and len(note) > MAX_NOTE:
        errors["note"] = [f"At most {MAX_NOTE} characters."]
    if snooze_until is not None and snooze_until < today:
        errors["snooze_until"] = [f"Must not be before the clinic's today ({today})."]
    elif snooze_until is not None and snooze_until > today + timedelta(days=MAX_SNOOZE_DAYS):
        errors["snooze_until"] = [f"At most {MAX_SNOOZE_DAYS} days ahead "
                                  f"({today + timedelta(days=MAX_SNOOZE_DAYS)})."]
    if errors:
        raise ValidationFailed(errors)


def log_contact(uow: UnitOfWork, plan_id: str, *, channel: str, outcome: str,
                note: str | None = None, snooze_until: date | None = None, actor: Actor,
                now: datetime, scope: Scope = None) -> ContactView:
    """Log a contact attempt on an open plan at `now`, with an audit entry.

    `snooze_until` (the clinic's today .. +90 days) keeps the plan off the worklist through
    that day, replacing an earlier contact's snooze; outcome `do_not_contact` sets the plan's
    flag until a physiotherapist clears it (plan action `clear_do_not_contact`). Raises
    ValidationFailed naming the field, NotFound outside `scope`, Conflict on a discharged plan.
    """
    note = note or None  # an empty note (a form's blank field) is no note
    with uow:
        session = uow.session
        loaded = load(session, plan_id, scope, lock=True)
        row = loaded.row
        today = loaded.calendar.local_date(now)
        _check(channel, outcome, note, snooze_until, today)
        ensure_open(loaded)
        connection = session.connection()
        contact_id = new_id("con")
        contact = {"id": contact_id, "plan_id": row.id, "clinic_id": row.clinic_id,
                   "channel": channel, "outcome": outcome, "note": note,
                   "snooze_until": snooze_until, "actor_key_id": actor.key_id,
                   "actor_name": actor.name, "local_date": today, "created_at": now}
        store.insert_contact(connection, contact)
        before = outreach_of(row.contact_snoozed_until, row.do_not_contact_at)
        snoozed = snooze_until if snooze_until is not None else row.contact_snoozed_until
        dnc = row.do_not_contact_at or (now if outcome == DO_NOT_CONTACT else None)
        if (snoozed, dnc) != (row.contact_snoozed_until, row.do_not_contact_at):
            store.set_outreach(connection, row.id, snoozed_until=snoozed,
                               do_not_contact_at=dnc, now=now)
        audit.record(session, at=now, actor=actor, action="contact.logged",
                     clinic_id=row.clinic_id, plan_id=row.id, before=before,
                     after={**outreach_of(snoozed, dnc), "contact_id": contact_id,
                            "channel": channel, "outcome": outcome,
                            "snooze_until": snooze_until and snooze_until.isoformat(),
                            "note": note is not None})  # the note itself stays in its row
        uow.commit()
    return ContactView(contact_id, row.id, row.clinic_id, channel, outcome, note,
                       snooze_until, actor_label(actor.key_id, actor.name), now)


def outreach_of(snoozed_until: date | None, do_not_contact_at: datetime | None
                ) -> dict[str, Any]:
    """The plan's outreach columns as an audit entry shows them."""
    return {"contact_snoozed_until": snoozed_until and snoozed_until.isoformat(),
            "do_not_contact": do_not_contact_at is not None}


def list_contacts(uow: UnitOfWork, plan_id: str, *, scope: Scope = None, limit: int = 50,
                  cursor: str | None = None) -> Page[ContactView]:
    """A plan's contacts, newest first; NotFound when the plan is missing or outside
    `scope`."""
    check_limit(limit)
    before = decode_cursor(cursor) if cursor else None
    with uow:
        load(uow.session, plan_id, scope)
        rows = store.page(uow.session.connection(), plan_id, limit=limit + 1, before=before)
    more, rows = len(rows) > limit, rows[:limit]
    return Page(tuple(_view(r) for r in rows),
                encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)
