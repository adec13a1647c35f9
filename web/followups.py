"""The front desk's follow-ups page: one clinic and day, filtered by state, paged."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for

from scheduler.services import clinics, proposals
from web import auth
from web.context import wiring

# Tabs in the page's order: the ones that need a call today first.
STATES = ("overdue", "lapsed", "due", "upcoming", "booked")
PAGE_SIZE = 50
MAX_PAGE = 1000
SKIP_CHUNK = 200  # the service's largest page: how far one call skips towards page N


def _query(errors: dict[str, list[str]]) -> tuple[str | None, date | None, int]:
    """state, on and page from the query string; a bad one is named in `errors`."""
    state = request.args.get("state") or None
    if state is not None and state not in STATES:
        errors["state"] = [f"One of {', '.join(STATES)}."]
        state = None
    on = None
    if request.args.get("on"):
        try:
            on = date.fromisoformat(request.args["on"])
        except ValueError:
            errors["on"] = ["A date as YYYY-MM-DD."]
    page = 1
    if request.args.get("page"):
        raw = request.args["page"]
        if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
            page = int(raw)
        else:
            errors["page"] = [f"A page number from 1 to {MAX_PAGE}."]
    return state, on, page


def _page(clinic_id: str, on: date, state: str | None, page: int,
          snoozed: bool) -> tuple[list[Any], bool]:
    """The rows of page `page` (1-based) and whether another follows. Keyset pages have no
    offset: earlier pages are skipped in the service's largest steps."""
    wired, scope = wiring(), auth.scope()
    cursor, skip = None, (page - 1) * PAGE_SIZE
    while skip > 0:
        step = min(skip, SKIP_CHUNK)
        skipped = proposals.followups(wired.uow(read_only=True), clinic_id=clinic_id, on=on,
                                      now=wired.now(), state=state, scope=scope, limit=step,
                                      cursor=cursor, include_snoozed=snoozed)
        cursor, skip = skipped.next_cursor, skip - step
        if cursor is None:
            return [], False
    found = proposals.followups(wired.uow(read_only=True), clinic_id=clinic_id, on=on,
                                now=wired.now(), state=state, scope=scope, limit=PAGE_SIZE,
                                cursor=cursor, include_snoozed=snoozed)
    return list(found.items), found.next_cursor is not None


def link(clinic_id: str, **args: Any) -> str:
    """This page's URL with the given filters (empty ones left out)."""
    kept = {k: v for k, v in args.items()
            if v is not None and v is not False and v != "" and not (k == "page" and v == 1)}
    return url_for("pages.followups", clinic_id=clinic_id, **kept)


@auth.staff_required()
def followups(clinic_id: str) -> Any:
    wired = wiring()
    clinic = clinics.get_clinic(wired.uow(read_only=True), clinic_id, scope=auth.scope())
    today = clinic.calendar().local_date(wired.now())
    errors: dict[str, list[str]] = {}
    state, on, page = _query(errors)
    day = on or today
    # Snoozed and do-not-contact plans are off the list unless asked for (the API's
    # include_snoozed).
    snoozed = request.args.get("snoozed") == "1"
    items, more = ([], False) if errors else _page(clinic_id, day, state, page, snoozed)
    # The rows' links: url_for once per page, not once per row (50 builds were ~3 ms of CPU)
    plan_prefix = url_for("pages.plan", plan_id="x")[:-1]
    body = render_template(
        "followups.html", plan_prefix=plan_prefix, clinic=clinic, today=today, day=day, on=on,
        state=state, page=page, snoozed=snoozed, items=items, more=more, errors=errors,
        states=STATES, link=link)
    return body, 400 if errors else 200
