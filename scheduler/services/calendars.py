"""Plans as iCalendar (RFC 5545): a plan's next window and series, and a clinic's feed of
proposed follow-ups, built with the `icalendar` package.

Items are all-day VEVENTs with TRANSP:TRANSPARENT rather than VTODOs: calendar apps show
subscribed VEVENTs on their days (Google Calendar and Outlook ignore VTODO in a
subscription), and TRANSPARENT keeps a proposal from blocking anyone's free/busy time.
UIDs are named by the plan and the item's role (the window, the nth visit of the series),
so they survive every request and change. SEQUENCE is the plan's version plus its clinic's
(less 2): every change that can move a date (a plan write, a clinic calendar edit) raises
it and nothing lowers it. Only the patient's external id is written, never a name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import bindparam, select

import rules
from scheduler.db import UnitOfWork
from scheduler.models import Clinic, Patient, table
from scheduler.services.common import Scope
from scheduler.services.plan_core import load
from scheduler.services.rulesets import resolve
from scheduler.store import window_sql

TEXT_CALENDAR = "text/calendar"
PRODID = "-//IMS Cadence//Follow-up windows//EN"
DOMAIN = "ims-cadence"
SERIES_COUNT = 6
FEED_DAYS = 56  # the next 8 weeks
KINDS = {"needling": "Needling", "assessment": "Assessment", "review": "Review"}

_PATIENTS, _CLINICS = table(Patient), table(Clinic)
_PLAN_EXTRAS = (select(_PATIENTS.c.external_id, _CLINICS.c.version)
                .join(_CLINICS, _CLINICS.c.id == _PATIENTS.c.clinic_id)
                .where(_PATIENTS.c.id == bindparam("patient_id")))


@dataclass(frozen=True, slots=True)
class Item:
    """One all-day item: `first`..`last` inclusive."""

    uid: str
    first: date
    last: date
    summary: str
    description: str
    sequence: int
    modified: datetime


def window_uid(plan_id: str) -> str:
    return f"{plan_id}.window@{DOMAIN}"


def render(items: Iterable[Item], *, name: str, now: datetime) -> bytes:
    """An RFC 5545 calendar of all-day, transparent VEVENTs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        event.add("dtstart", item.first)
        event.add("dtend", item.last + timedelta(days=1))  # DTEND of an all-day item: exclusive
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        event.add("sequence", item.sequence)
        event.add("last-modified", item.modified)
        calendar.add_component(event)
    return calendar.to_ical()


def window_item(plan_id: str, external_id: str, window: rules.Window, sequence: int,
                modified: datetime) -> Item | None:
    if window.kind is None or window.earliest is None or window.latest is None:
        return None
    reasons = " ".join(r.text for r in window.reasons)
    return Item(window_uid(plan_id), window.earliest, window.latest,
                f"{KINDS[str(window.kind)]} window: {external_id}",
                f"Proposed {window.kind} visit for {external_id}, target {window.target} "
                f"(earliest {window.earliest}, latest {window.latest}). {reasons}",
                sequence, modified)


def plan_calendar(uow: UnitOfWork, plan_id: str, *, now: datetime,
                  scope: Scope = None) -> bytes:
    """The plan's next window (earliest..latest) and its series (each visit on its target)."""
    with uow:
        loaded = load(uow.session, plan_id, scope)
        external_id, clinic_version = uow.session.connection().execute(
            _PLAN_EXTRAS, {"patient_id": loaded.row.patient_id}).one()
    row, state, cal, rs = loaded.row, loaded.state, loaded.calendar, loaded.ruleset
    today = cal.local_date(now)
    window = rules.next_window(state, rs, today, cal.is_open)
    sequence = row.version + clinic_version - 2
    items: list[Item] = []
    first = window_item(row.id, external_id, window, sequence, row.updated_at)
    if first is not None:
        items.append(first)
    frequency = rules.in_force(state, today).text()
    for n, (target, earliest, latest) in enumerate(
            rules.series(state, rs, today, cal.is_open, SERIES_COUNT), start=1):
        items.append(Item(
            f"{row.id}.visit-{n}@{DOMAIN}", target, target,
            f"{KINDS[str(window.kind)]} {n}: {external_id}",
            f"Visit {n} of the series at {frequency}, each as if the one before happens on "
            f"its target: target {target} (earliest {earliest}, latest {latest}). "
            + " ".join(r.text for r in window.reasons), sequence, row.updated_at))
    return render(items, name=f"IMS Cadence: {external_id}", now=now)


def clinic_feed(connection: Any, *, clinic_id: str, clinic_name: str, clinic_version: int,
                calendar: Any, session: Any, now: datetime) -> bytes:
    """A clinic's proposed follow-ups for the next 8 weeks, one item per plan window."""
    today = calendar.local_date(now)
    rows = window_sql.feed_windows(connection, clinic_id=clinic_id, first=today,
                                   last=today + timedelta(days=FEED_DAYS - 1))
    items = []
    for row in rows:
        state = rules.state_from_dict(row.state)
        window = rules.next_window(state, resolve(session, row.ruleset), today,
                                   calendar.is_open)
        item = window_item(row.id, row.external_id, window, row.version + clinic_version - 2,
                           row.updated_at)
        if item is not None:
            items.append(item)
    return render(items, name=f"IMS Cadence follow-ups: {clinic_name}", now=now)
