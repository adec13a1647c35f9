"""CDS Hooks (cds-hooks.hl7.org, 2.0): an `appointment-book` service that judges each needling
appointment being booked against the plan's next-visit window, in the clinic's time zone.

Cards: a `warning` before the earliest day (too soon after the last session), while the plan
is on hold, without consent, or discharged; an `info` after the latest day; none inside the
window or for a patient without a plan. Which appointments are needling: those coded so in
our visit-kind system; failing our codes, those whose service type, appointment type or
description speaks of needling / IMS; and those that say nothing at all (the clinic's usual
visit). The override reason "non-needling visit" covers a wrong guess.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

import rules
from scheduler.calendar import ClinicCalendar
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.services import audit
from scheduler.services.common import Actor
from scheduler.services.fhir import KIND_SYSTEM
from scheduler.services.rulesets import resolve
from scheduler.store import plans as store

SERVICE_ID = "ims-cadence-visit-window"
HOOK = "appointment-book"
SOURCE_LABEL = "IMS Cadence"
RULE_SYSTEM = "urn:ims-cadence:cds-rule"
OVERRIDE_SYSTEM = "urn:ims-cadence:cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "different-body-region",
     "display": "Different body region"},
    {"system": OVERRIDE_SYSTEM, "code": "non-needling-visit", "display": "Non-needling visit"},
    {"system": OVERRIDE_SYSTEM, "code": "physiotherapist-approved",
     "display": "Physiotherapist approved"},
]
OUTCOMES = ("accepted", "overridden")
MAX_APPOINTMENTS = 50
MAX_SUMMARY = 140
_NEEDLING = re.compile(r"needl|\bims\b|intramuscular stim", re.IGNORECASE)


def discovery() -> dict[str, Any]:
    """The discovery document: one service for the appointment-book hook."""
    return {"services": [{
        "hook": HOOK, "id": SERVICE_ID, "title": "IMS Cadence visit window",
        "description": "Warns when a needling appointment is booked before the plan's "
                       "earliest day, while it is on hold, without consent or discharged, "
                       "and notes one booked after the latest day.",
        "prefetch": {"patient": "Patient/{{context.patientId}}"},
        "usageRequirements": "Authorization: Bearer <IMS Cadence API key> of the clinic.",
    }]}


def _check_service(service_id: str) -> None:
    if service_id != SERVICE_ID:
        raise NotFound("cds service", service_id)


def _text(body: dict[str, Any], name: str, field: str, *, required: bool = True,
          limit: int = 200) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= limit or "\x00" in value:
        raise ValidationFailed.single(field, f"Must be a string of 1 to {limit} characters.")
    try:
        value.encode("utf-8")  # a lone surrogate ("\ud800") cannot be stored or compared
    except UnicodeEncodeError:
        raise ValidationFailed.single(field, "Must be valid Unicode text.") from None
    return value


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed.single(field, "Must be an object.")
    return value


def _appointments(context: dict[str, Any]) -> list[tuple[str, dict[str, Any], datetime | None]]:
    """(field path, resource, start) of each Appointment of the context's Bundle."""
    bundle = _object(context.get("appointments"), "context.appointments")
    if bundle.get("resourceType") != "Bundle":
        raise ValidationFailed.single("context.appointments.resourceType", "Must be 'Bundle'.")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list) or len(entries) > MAX_APPOINTMENTS:
        raise ValidationFailed.single("context.appointments.entry",
                                      f"Must be a list of at most {MAX_APPOINTMENTS} entries.")
    found = []
    for index, entry in enumerate(entries):
        path = f"context.appointments.entry.{index}.resource"
        resource = _object(_object(entry, f"context.appointments.entry.{index}")
                           .get("resource"), path)
        if resource.get("resourceType") != "Appointment":
            raise ValidationFailed.single(f"{path}.resourceType", "Must be 'Appointment'.")
        start = None
        if resource.get("start") is not None:
            raw = resource["start"]
            try:
                start = datetime.fromisoformat(raw) if isinstance(raw, str) else None
            except ValueError:
                start = None
            if start is None or start.tzinfo is None:
                raise ValidationFailed.single(f"{path}.start",
                                              "Must be a FHIR instant with an offset.")
        found.append((path, resource, start))
    return found


def parse_request(service_id: str, body: Any) -> tuple[str, list[Any]]:
    """The patient id and appointments of a hook request; ValidationFailed naming the field."""
    _check_service(service_id)
    body = _object(body, "body")
    if body.get("hook") != HOOK:
        raise ValidationFailed.single("hook", f"Must be '{HOOK}'.")
    _text(body, "hookInstance", "hookInstance")
    context = _object(body.get("context"), "context")
    _text(context, "userId", "context.userId")
    patient_id = _text(context, "patientId", "context.patientId")
    assert patient_id is not None
    return patient_id, _appointments(context)


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def is_needling(resource: dict[str, Any]) -> bool:
    concepts = _dicts(resource.get("serviceType")) + _dicts(resource.get("appointmentType"))
    codings = [c for concept in concepts for c in _dicts(concept.get("coding"))]
    ours = [c.get("code") for c in codings if c.get("system") == KIND_SYSTEM]
    if ours:
        return "needling" in ours
    words = [w for w in ([c.get("text") for c in concepts] + [c.get("display") for c in codings]
                         + [resource.get("description")]) if isinstance(w, str)]
    return not words or any(_NEEDLING.search(w) for w in words)


def _moved(resource: dict[str, Any], start: datetime, target: date,
           calendar: ClinicCalendar) -> dict[str, Any]:
    """The appointment moved to `target` at the same local time (its end moved with it)."""
    local = start.astimezone(calendar.zone)
    new_start = datetime.combine(target, local.time(), tzinfo=calendar.zone)
    moved = {**resource, "start": new_start.isoformat()}
    end = resource.get("end")
    if isinstance(end, str):
        try:
            moved["end"] = (datetime.fromisoformat(end) + (new_start - local)).isoformat()
        except (ValueError, TypeError):
            moved.pop("end")
    return moved


def _card(indicator: str, summary: str, detail: str, *, rule: str,
          move: dict[str, Any] | None = None, target: date | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()), "summary": summary[:MAX_SUMMARY], "indicator": indicator,
        "detail": detail, "source": {"label": SOURCE_LABEL,
                                         "topic": {"system": RULE_SYSTEM, "code": rule}},
        "overrideReasons": OVERRIDE_REASONS}
    if move is not None:
        card["suggestions"] = [{
            "label": f"Move to {target}", "uuid": str(uuid.uuid4()), "isRecommended": True,
            "actions": [{"type": "update", "description": f"Book on the target day {target}.",
                         "resource": move}]}]
        card["selectionBehavior"] = "at-most-one"
    return card


def judge(state: rules.PlanState, window: rules.Window, resource: dict[str, Any],
          start: datetime, calendar: ClinicCalendar) -> dict[str, Any] | None:
    """The card for one needling appointment starting at `start`, or None (inside)."""
    day = calendar.local_date(start)
    why = " ".join(r.text for r in window.reasons)
    if state.status is rules.Status.DISCHARGED:
        return _card("warning", f"Plan discharged: no needling proposed for {day}.",
                     f"The plan is discharged; a new episode needs a new plan. {why}",
                     rule="plan.discharged")
    if state.status is rules.Status.ON_HOLD:
        reasons = ", ".join(state.review_reasons) or "physiotherapist's hold"
        return _card("warning", f"Plan on hold ({reasons}): book a review, not needling.",
                     f"The plan is on hold for review ({reasons}). {why}", rule="plan.on_hold")
    if state.consent_at is None:
        return _card("warning", "No consent recorded: book an assessment before needling.",
                     f"Needling needs recorded consent; an assessment is proposed. {why}",
                     rule="plan.no_consent")
    if window.earliest is None or window.latest is None or window.target is None:
        return None
    target = window.target
    move = _moved(resource, start, target, calendar)
    if day < window.earliest:
        last = state.last_session_date
        days = (day - last).days if last else 0
        gap = (f"{days} day{'' if days == 1 else 's'} after the last session on {last}"
               if last else "before the first session's window")
        return _card("warning", f"Too soon: {day} is {gap}; earliest {window.earliest}.",
                     f"Booked on {day}, before the earliest day {window.earliest} (target "
                     f"{target}, latest {window.latest}). {why}", rule="window.too_soon",
                     move=move, target=target)
    if day > window.latest:
        return _card("info", f"Later than proposed: {day} is after the latest day "
                     f"{window.latest} (target {target}).",
                     f"Booked on {day}, after the latest day {window.latest} (earliest "
                     f"{window.earliest}, target {target}). {why}", rule="window.too_late",
                     move=move, target=target)
    return None


def cards(uow: UnitOfWork, service_id: str, body: Any, *, now: datetime,
          scope: frozenset[str]) -> dict[str, Any]:
    """The hook's answer: `{"cards": [...]}`; ValidationFailed on a malformed request."""
    patient_id, appointments = parse_request(service_id, body)
    with uow:
        found = store.plan_of_patient(uow.session.connection(), patient_id, scope)
        if found is None:
            return {"cards": []}
        stored, ruleset_id, calendar = found
        ruleset = resolve(uow.session, ruleset_id)
    state = rules.state_from_dict(stored)
    window = rules.next_window(state, ruleset, calendar.local_date(now), calendar.is_open)
    out = []
    for _path, resource, start in appointments:
        if start is None or not is_needling(resource):
            continue
        card = judge(state, window, resource, start, calendar)
        if card is not None:
            out.append(card)
    return {"cards": out}


def record_feedback(uow: UnitOfWork, service_id: str, body: Any, *, actor: Actor,
                    now: datetime, scope: frozenset[str]) -> int:
    """Store each card's outcome (accepted / overridden with its reason) in the audit trail;
    returns how many. The clinic is the key's when it has one."""
    _check_service(service_id)
    items = _object(body, "body").get("feedback")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_APPOINTMENTS:
        raise ValidationFailed.single("feedback", "Must be a list of 1 to 50 items.")
    entries = []
    for index, raw in enumerate(items):
        field = f"feedback.{index}"
        item = _object(raw, field)
        card = _text(item, "card", f"{field}.card", limit=100)
        outcome = item.get("outcome")
        if outcome not in OUTCOMES:
            raise ValidationFailed.single(f"{field}.outcome", "Must be accepted or overridden.")
        stamp = _text(item, "outcomeTimestamp", f"{field}.outcomeTimestamp", limit=64)
        assert stamp is not None
        try:
            if datetime.fromisoformat(stamp).tzinfo is None:
                raise ValueError
        except ValueError:
            raise ValidationFailed.single(f"{field}.outcomeTimestamp",
                                          "Must be an instant with an offset.") from None
        reason = None
        if outcome == "overridden" and item.get("overrideReason") is not None:
            override = _object(item["overrideReason"], f"{field}.overrideReason")
            coding = override.get("reason")
            if coding is not None:
                code = _text(_object(coding, f"{field}.overrideReason.reason"), "code",
                             f"{field}.overrideReason.reason.code", limit=100)
                reason = {"code": code}
            comment = _text(override, "userComment", f"{field}.overrideReason.userComment",
                            required=False, limit=1000)
            if comment:
                reason = {**(reason or {}), "comment": comment}
        accepted = [_text(s, "id", f"{field}.acceptedSuggestions.{n}.id", limit=100)
                    for n, s in enumerate(_dicts(item.get("acceptedSuggestions")))]
        entries.append({"service": service_id, "card": card, "outcome": outcome,
                        "outcome_at": stamp, "override_reason": reason,
                        "accepted_suggestions": accepted})
    clinic_id = next(iter(scope)) if len(scope) == 1 else None
    with uow:
        for entry in entries:
            audit.record(uow.session, at=now, actor=actor, action="cds.feedback",
                         clinic_id=clinic_id, after=entry)
        uow.commit()
    return len(entries)
