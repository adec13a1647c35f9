"""The plan page: header, next visit, progress chart and table, trails, and the action forms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template, request
from markupsafe import Markup

from scheduler.services import contacts as contact_service
from scheduler.services.plan_page import PlanPage, plan_page
from scheduler.services.staff import StaffRole
from web import auth, chart
from web.context import wiring
from web.formatting import frequency

PHASES = ("initial", "middle", "maintenance")
# The fields each form shows beside an input; an error on any other goes at the form's top.
FORM_FIELDS = {
    "record_consent": ("reason",), "clear_override": ("reason",), "hold": ("reason",),
    "resume": ("reason",), "discharge": ("reason",),
    "override": ("reason", "frequency", "period", "period_unit", "until"),
    "set_phase": ("reason", "phase"),
    "report": ("pain", "function", "global_change", "soreness_hours", "adverse_event_note",
               "notes"),
    "contact": ("channel", "outcome", "note", "snooze_until"),
    "clear_do_not_contact": ("reason",),
}
CONTACT_LOG = 10  # the newest contacts shown under the form
# Who may do what: the API's roles for the same calls (plan actions and reports: the
# physiotherapist; contacts: the front desk too; the audit trail: admin and physiotherapist).
CLINICAL = frozenset({StaffRole.PHYSIOTHERAPIST})
CONTACT = frozenset({StaffRole.FRONT_DESK, StaffRole.PHYSIOTHERAPIST})
AUDIT = frozenset({StaffRole.ADMIN, StaffRole.PHYSIOTHERAPIST})
SAVED = {"record_consent": "Consent recorded.", "override": "Override saved.",
         "clear_override": "Override cleared.", "set_phase": "Phase set.",
         "hold": "Plan on hold.", "resume": "Plan resumed.", "discharge": "Plan discharged.",
         "report": "Progress report recorded.", "contact": "Contact saved.",
         "clear_do_not_contact": "Back on outreach."}


def _label(entry: Any) -> str:
    """What a decision changed, in a few words (the chart's marker and the table's cell)."""
    parts = []
    if entry.phase_before and entry.phase_before != entry.phase_after:
        parts.append(f"{entry.phase_before} to {entry.phase_after}")
    if entry.frequency_before and entry.frequency_before != entry.frequency_after:
        parts.append(f"{frequency(entry.frequency_before)} to {frequency(entry.frequency_after)}")
    if entry.status_before and entry.status_before != entry.status_after:
        parts.append(f"{entry.status_before} to {entry.status_after}".replace("_", " "))
    return "; ".join(parts) or entry.event_kind.replace("_", " ")


def to_chart(page: PlanPage) -> chart.Chart:
    """The page's reports, visits and decisions as the chart draws them."""
    days = [page.start_date, page.plan.today, *(r.day for r in page.reports),
            *(v.day for v in page.visits)]
    start, end = min(days), max(days)
    bands: list[chart.PhaseBand] = []
    for entry in page.decisions:
        if not bands or bands[-1].phase != entry.phase_after:
            if bands:
                last = bands[-1]
                bands[-1] = chart.PhaseBand(last.phase, last.start,
                                            max(last.start, entry.day - timedelta(days=1)))
            bands.append(chart.PhaseBand(entry.phase_after, max(start, entry.day), end))
    changes = tuple(chart.DecisionMark(e.day, _label(e)) for e in page.decisions
                    if e.changed and e.phase_before is not None)
    return chart.Chart(
        start=start, end=end,
        readings=tuple(chart.Reading(r.day, r.pain, r.function) for r in page.reports),
        visits=tuple(chart.VisitMark(v.day, v.status, v.kind) for v in page.visits),
        phases=tuple(bands), decisions=changes)


def render(plan_id: str, *, status: int = 200, errors: dict[str, dict[str, list[str]]] | None
           = None, values: dict[str, dict[str, Any]] | None = None,
           conflict: bool = False) -> tuple[str, int]:
    """The page as of now; `errors`/`values` by form name re-show a refused form, `conflict`
    says someone else changed the plan."""
    staff = auth.signed_in()
    wired = wiring()
    page = plan_page(wired.uow(read_only=True), plan_id, now=wired.now(), scope=auth.scope(),
                     with_audit=staff.role in AUDIT)
    drawn = to_chart(page)
    can_contact = staff.role in CONTACT
    logged = list(contact_service.list_contacts(
        wired.uow(read_only=True), plan_id, scope=auth.scope(), limit=CONTACT_LOG).items) \
        if can_contact else []
    saved = SAVED.get(request.args.get("saved", "")) if status == 200 else None
    body = render_template(
        "plan.html", page=page, plan=page.plan, chart_svg=Markup(chart.render_svg(drawn)),
        chart_rows=chart.table(drawn), can_act=staff.role in CLINICAL,
        can_contact=can_contact, errors=errors or {}, values=values or {},
        conflict=conflict, saved=saved, form_fields=FORM_FIELDS,
        phase_options=[(p, p.capitalize()) for p in PHASES], contacts=logged,
        contact_form={"outcomes": [(o, o.replace("_", " ").capitalize())
                                   for o in contact_service.OUTCOMES],
                      "channels": [(c, c.replace("_", " ").capitalize())
                                   for c in contact_service.CHANNELS]},
        trail=list(reversed(page.decisions)))
    return body, status


@auth.staff_required()
def plan(plan_id: str) -> Any:
    return render(plan_id)
