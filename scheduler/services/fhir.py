"""A plan as a FHIR R4 Bundle (type `collection`): CarePlan, ServiceRequest, Appointment,
Patient and the pain reports as Observations, as plain JSON-ready dicts.

Ids are name-based UUIDs of our own ids (stable across requests, valid FHIR ids), entries'
`fullUrl`s are `urn:uuid:` of them, and every reference names a `fullUrl` of the bundle.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

import rules
from scheduler.calendar import ClinicCalendar
from scheduler.db import UnitOfWork
from scheduler.models import DecisionRow, Patient, Report, table
from scheduler.services.common import Scope
from scheduler.services.plan_core import load

FHIR_JSON = "application/fhir+json"
NAMESPACE = uuid.UUID("5b0f3c52-6c1e-4c8e-9a51-1d2a6f0c9e37")
KIND_SYSTEM = "urn:ims-cadence:visit-kind"
LOINC = "http://loinc.org"
PAIN_CODE = "72514-3"
PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
APPOINTMENT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
PLAN_STATUS = {"active": "active", "on_hold": "on-hold", "discharged": "completed",
               "assessment_pending": "draft"}
KIND_TEXT = {"needling": "IMS / dry needling session", "assessment": "Assessment",
             "review": "Physiotherapist review"}

_DECISIONS = (select(table(DecisionRow).c.payload)
              .where(table(DecisionRow).c.plan_id == bindparam("plan_id"))
              .order_by(table(DecisionRow).c.position))
_REPORTS = (select(table(Report).c.id, table(Report).c.recorded_at, table(Report).c.pain)
            .where(table(Report).c.plan_id == bindparam("plan_id"))
            .order_by(table(Report).c.recorded_at, table(Report).c.id))
_PATIENT = (select(table(Patient).c.external_id, table(Patient).c.display_name)
            .where(table(Patient).c.id == bindparam("patient_id")))


@lru_cache(maxsize=65536)
def fhir_id(kind: str, object_id: str) -> str:
    """The stable FHIR id of one of our objects (a UUID named by kind and id)."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}/{object_id}"))


class _History(NamedTuple):
    """What a plan version's bundle reads besides the plan row: the decision trail's phase
    facts, the pain reports and the patient (never edited). A plan's version rises with
    every event, report and decision written, so a version's history never changes."""

    decisions: list[dict[str, Any]]
    reports: list[tuple[str, datetime, int]]
    external_id: str
    display_name: str | None


_HISTORIES: OrderedDict[tuple[str, int], _History] = OrderedDict()
HISTORY_CACHE_SIZE = 1024
_KEPT = ("phase_after", "frequency_after", "explanations", "at")


def _history(connection: Any, plan_id: str, version: int, patient_id: str) -> _History:
    key = (plan_id, version)
    found = _HISTORIES.get(key)
    if found is None:
        decisions = [{k: d[k] for k in _KEPT}
                     for d in connection.execute(_DECISIONS, {"plan_id": plan_id}).scalars()]
        reports = [(r.id, r.recorded_at, r.pain)
                   for r in connection.execute(_REPORTS, {"plan_id": plan_id})]
        patient = connection.execute(_PATIENT, {"patient_id": patient_id}).one()
        found = _History(decisions, reports, patient.external_id, patient.display_name)
        _HISTORIES[key] = found
        if len(_HISTORIES) > HISTORY_CACHE_SIZE:
            _HISTORIES.popitem(last=False)
    return found


def patient_system(clinic_id: str) -> str:
    """The identifier system of a clinic's booking-system ids."""
    return f"urn:ims-cadence:clinic:{clinic_id}:patient"


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _timing(frequency: dict[str, Any], start: date | None = None,
            end: date | None = None) -> dict[str, Any]:
    repeat: dict[str, Any] = {"frequency": frequency["frequency"], "period": frequency["period"],
                              "periodUnit": frequency["period_unit"]}
    if start is not None:
        repeat["boundsPeriod"] = {"start": start.isoformat(),
                                  **({"end": end.isoformat()} if end else {})}
    return {"repeat": repeat}


def phase_history(decisions: list[dict[str, Any]], start: date,
                  calendar: ClinicCalendar) -> list[dict[str, Any]]:
    """The phases the plan has been in, in order: each with its first and last day, the
    frequency in force when it ended (or now) and its last decision's explanations."""
    stints: list[dict[str, Any]] = []
    for decision in decisions:
        phase = decision["phase_after"]
        if not stints or stints[-1]["phase"] != phase:
            day = start if not stints else calendar.local_date(
                datetime.fromisoformat(decision["at"]))
            if stints:
                stints[-1]["end"] = day
            stints.append({"phase": phase, "start": day, "end": None})
        stints[-1]["frequency"] = decision["frequency_after"]
        stints[-1]["explanations"] = decision["explanations"]
        stints[-1]["at"] = decision["at"]
    return stints


def _activity(stint: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "progress": [{"time": stint["at"], "text": e["text"]} for e in stint["explanations"]],
        "detail": {
            "kind": "ServiceRequest",
            "code": {"text": f"{stint['phase']} phase: {KIND_TEXT['needling']}"},
            "status": status,
            "scheduledTiming": _timing(stint["frequency"], stint["start"], stint["end"]),
        },
    }


def plan_bundle(uow: UnitOfWork, plan_id: str, *, now: datetime,
                scope: Scope = None) -> dict[str, Any]:
    """The plan as a FHIR R4 collection Bundle (NotFound outside `scope`)."""
    with uow:
        loaded = load(uow.session, plan_id, scope)
        history = _history(uow.session.connection(), plan_id, loaded.row.version,
                           loaded.row.patient_id)
    decisions, reports = history.decisions, history.reports
    row, state, cal = loaded.row, loaded.state, loaded.calendar
    today = cal.local_date(now)
    window = rules.next_window(state, loaded.ruleset, today, cal.is_open)
    status = PLAN_STATUS[str(state.status)]
    ids = {"patient": fhir_id("Patient", row.patient_id), "plan": fhir_id("CarePlan", row.id),
           "request": fhir_id("ServiceRequest", row.id),
           "appointment": fhir_id("Appointment", row.id)}
    subject = _ref(ids["patient"])
    stints = phase_history(decisions, state.start_date, cal)
    current = {"active": "in-progress", "on-hold": "on-hold", "completed": "completed",
               "draft": "not-started"}[status]
    if stints and stints[-1]["end"] is None and status == "completed":
        stints[-1]["end"] = cal.local_date(datetime.fromisoformat(stints[-1]["at"]))
    activities = [_activity(s, "completed" if i < len(stints) - 1 else current)
                  for i, s in enumerate(stints)]
    in_force = rules.in_force(state, today).to_dict()
    person: dict[str, Any] = {
        "resourceType": "Patient", "id": ids["patient"],
        "identifier": [{"system": patient_system(row.clinic_id),
                        "value": history.external_id}]}
    if history.display_name:
        person["name"] = [{"text": history.display_name}]
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan", "id": ids["plan"],
        "identifier": [{"system": "urn:ims-cadence:plan", "value": row.id}],
        "status": status, "intent": "plan", "title": row.condition,
        "subject": subject,
        "period": {"start": state.start_date.isoformat(),
                   **({"end": stints[-1]["end"].isoformat()}
                      if status == "completed" and stints and stints[-1]["end"] else {})},
        "created": row.created_at.isoformat(),
        "activity": activities,
    }
    request = {
        "resourceType": "ServiceRequest", "id": ids["request"],
        "status": {"active": "active", "on-hold": "on-hold", "completed": "completed",
                   "draft": "draft"}[status],
        "intent": "plan", "basedOn": [_ref(ids["plan"])],
        "code": {"coding": [{"system": KIND_SYSTEM, "code": "needling",
                             "display": KIND_TEXT["needling"]}],
                 "text": KIND_TEXT["needling"]},
        "subject": subject, "occurrenceTiming": _timing(in_force),
    }
    auth = state.authorization
    if auth is not None:  # rules.md rule 21: the payer's cap is the course's quantity
        request["quantityQuantity"] = {"value": auth.visits_allowed, "unit": "visits",
                                       "system": "http://unitsofmeasure.org", "code": "{visit}"}
        until = f" until {auth.valid_until.isoformat()}" if auth.valid_until else ""
        request["note"] = [{"text": f"Authorized{' by ' + auth.payer if auth.payer else ''}: "
                                    f"{auth.visits_allowed} visits{until}; "
                                    f"{len(state.authorized_visits)} used, "
                                    f"{state.visits_left} left."}]
    resources: list[dict[str, Any]] = [care_plan, request]
    if window.kind is not None and window.earliest is not None and window.latest is not None:
        kind = str(window.kind)
        resources.append({
            "resourceType": "Appointment", "id": ids["appointment"], "status": "proposed",
            "serviceType": [{"coding": [{"system": KIND_SYSTEM, "code": kind,
                                         "display": KIND_TEXT[kind]}],
                             "text": KIND_TEXT[kind]}],
            "appointmentType": {"coding": [{"system": APPOINTMENT_TYPE, "code": "FOLLOWUP",
                                            "display": "A follow up visit from a previous "
                                                       "appointment"}]},
            "description": " ".join(r.text for r in window.reasons),
            "basedOn": [_ref(ids["request"])],
            "requestedPeriod": [{"start": window.earliest.isoformat(),
                                 "end": window.latest.isoformat()}],
            "participant": [{"actor": subject, "required": "required",
                             "status": "needs-action"}],
        })
    resources.append(person)
    for report_id, recorded_at, pain in reports:
        resources.append({
            "resourceType": "Observation", "id": fhir_id("Observation", report_id),
            "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "survey", "display": "Survey"}]}],
            "code": {"coding": [{"system": LOINC, "code": PAIN_CODE, "display": PAIN_DISPLAY}]},
            "subject": subject, "basedOn": [_ref(ids["request"])],
            "effectiveDateTime": recorded_at.isoformat(),
            "valueInteger": pain,
        })
    return {"resourceType": "Bundle", "id": fhir_id("Bundle", row.id),
            "meta": {"lastUpdated": row.updated_at.isoformat()}, "type": "collection",
            "timestamp": now.isoformat(),
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}


def operation_outcome(status: int, detail: str) -> dict[str, Any]:
    """A FHIR OperationOutcome for an error answered to a FHIR client."""
    code = {404: "not-found", 401: "login", 403: "forbidden"}.get(status, "processing")
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": detail}]}
