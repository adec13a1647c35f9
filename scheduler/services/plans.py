"""Plan services: create a plan, read and list plans, and the physiotherapist's actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

import rules
from scheduler import metrics
from scheduler.calendar import calendar_of
from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic, Patient
from scheduler.services import audit
from scheduler.services.common import Actor, Expected, Page, Scope, check_limit, encode_cursor
from scheduler.services.plan_core import Loaded, apply, check_version, engine_call, load
from scheduler.services.plan_views import DO_NOT_CONTACT, PlanView, plan_view
from scheduler.services.rulesets import resolve
from scheduler.store import contacts as contact_store
from scheduler.store import plans as store
from scheduler.webhooks import outbox

# The engine's vocabularies, for the HTTP layers' validation (derived, so never out of step).
PHASES = tuple(str(v) for v in rules.Phase)
STATUSES = tuple(str(v) for v in rules.Status)
VISIT_KINDS = tuple(str(v) for v in rules.VisitKind)
VISIT_STATUSES = tuple(str(v) for v in rules.VisitStatus)
CANCELLATION_REASONS = tuple(str(v) for v in rules.CancellationReason)

CLOCK_SKEW = timedelta(minutes=5)  # a booking system's clock may run a little ahead of ours


def not_in_future(field: str, moment: datetime, now: datetime) -> None:
    if moment > now + CLOCK_SKEW:
        raise ValidationFailed.single(field, "Must not be in the future.")


def ensure_open(loaded: Loaded) -> None:
    """A discharged plan takes no more reports or actions, even ones dated before the
    discharge (the late-event refold would otherwise slip them in behind the discharge)."""
    if loaded.state.status is rules.Status.DISCHARGED:
        raise Conflict("The plan is discharged; open a new plan for this patient.")


def create_plan(uow: UnitOfWork, *, patient_id: str, condition: str, onset_date: date,
                baseline: dict[str, Any], neuropathic_symptoms: bool,
                start_date: date | None = None, consent: dict[str, Any] | None = None,
                authorization: dict[str, Any] | None = None,
                actor: Actor, now: datetime, scope: Scope = None) -> PlanView:
    """A new plan in the initial phase at rule 5's frequency; one open plan per patient.
    An `authorization` (rule 21) is recorded as the history's set_authorization at `now`."""
    with uow:
        session = uow.session
        patient = session.get(Patient, patient_id)
        if patient is None or (scope is not None and patient.clinic_id not in scope):
            raise ValidationFailed.single("patient_id", "Unknown patient.")
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None
        cal, rs = calendar_of(clinic), resolve(session, clinic.ruleset)
        start = start_date or cal.local_date(now)
        if onset_date > start:
            raise ValidationFailed.single("onset_date", "Must not be after the start date.")
        events: list[rules.Event] = [engine_call(
            rules.PlanCreated, now, start, onset_date, baseline["pain"],
            baseline.get("function"), neuropathic_symptoms)]
        if consent is not None:
            not_in_future("consent.recorded_at", consent["recorded_at"], now)
            events.append(engine_call(rules.ConsentRecorded, consent["recorded_at"],
                                      consent["recorded_by"]))
        if authorization is not None:
            events.append(engine_call(rules.AuthorizationSet, now, **authorization,
                                      reason="recorded with the plan",
                                      by=actor.name or actor.key_id))
        connection = session.connection()
        _no_open_plan(connection, patient_id)
        folded = engine_call(rules.fold, events, rs, cal.local_date)
        try:
            row = store.insert_plan(connection, plan_id=new_id("pln"), clinic_id=clinic.id,
                                    patient_id=patient_id, condition=condition,
                                    state=folded.state, rs=rs, cal=cal, now=now)
        except IntegrityError:  # a concurrent create won the race for the open plan
            uow.rollback()
            _no_open_plan(uow.session.connection(), patient_id)
            raise
        ordered = sorted(events, key=rules.history_order)
        event_ids = store.append_events(connection, row.id, 0, ordered, now)
        store.insert_decisions(connection, row.id, zip(event_ids, folded.decisions,
                                                       strict=True), now)
        audit.record(session, at=now, actor=actor, action="plan.created", clinic_id=clinic.id,
                     plan_id=row.id, after=folded.state.snapshot().to_dict())
        outbox.emit_plan_changes(session, row, None, folded.state.snapshot(), now=now)
        metrics.count_decisions(session, folded.decisions)
        loaded = Loaded(row, rs, cal, folded.state)
        view = plan_view(loaded, now)
        uow.commit()
        return view


def _no_open_plan(connection: Connection, patient_id: str) -> None:
    existing = store.open_plan_of(connection, patient_id)
    if existing is not None:
        raise Conflict(f"The patient already has an open plan: {existing}",
                       existing_id=existing)


def get_plan(uow: UnitOfWork, plan_id: str, *, now: datetime, scope: Scope = None) -> PlanView:
    with uow:
        return plan_view(load(uow.session, plan_id, scope), now)


def list_plans(uow: UnitOfWork, *, now: datetime, scope: Scope = None,
               clinic_id: str | None = None, patient_id: str | None = None,
               status: str | None = None, phase: str | None = None, limit: int = 50,
               cursor: str | None = None) -> Page[PlanView]:
    """Plans of the caller's clinics, oldest first, filtered by clinic, patient, status, phase."""
    check_limit(limit)
    with uow:
        session = uow.session
        found = store.page(session.connection(), scope=scope, limit=limit, cursor=cursor,
                           filters={"clinic_id": clinic_id, "patient_id": patient_id,
                                    "status": status, "phase": phase})
        more, found = len(found) > limit, found[:limit]
        items = tuple(plan_view(Loaded(row, resolve(session, row.ruleset), calendar,
                                       rules.state_from_dict(row.state)), now)
                      for row, calendar in found)
    last = found[-1][0] if more else None
    return Page(items, encode_cursor(last.created_at, last.id) if last else None)


ACTION_EVENTS = {
    "override": rules.OverrideSet, "clear_override": rules.OverrideCleared,
    "set_phase": rules.PhaseSet, "hold": rules.Held, "resume": rules.Resumed,
    "discharge": rules.Discharged, "set_authorization": rules.AuthorizationSet,
    "clear_authorization": rules.AuthorizationCleared,
}


def act(uow: UnitOfWork, plan_id: str, action: dict[str, Any], *, expected_version: Expected,
        actor: Actor, now: datetime, scope: Scope = None
        ) -> tuple[PlanView, dict[str, Any] | None]:
    """A physiotherapist's action on a plan at (one of) `expected_version` (None: any).

    Returns the plan and the action's decision; `clear_do_not_contact` has none (the contact
    log's flag is not the engine's, see scheduler.services.contacts)."""
    data = dict(action)
    name = data.pop("action")
    by = actor.name or actor.key_id
    with uow:
        loaded = load(uow.session, plan_id, scope, lock=True)
        check_version(loaded, expected_version)
        ensure_open(loaded)
        if name == "clear_do_not_contact":
            _clear_do_not_contact(uow.session, loaded, data["reason"], actor=actor, now=now)
            uow.commit()
            return plan_view(loaded, now), None
        detail = None
        if name == "record_consent":
            not_in_future("recorded_at", data["recorded_at"], now)
            event = engine_call(rules.ConsentRecorded, data["recorded_at"], data["recorded_by"])
            # The consent event has no reason of its own; an optional one is kept in the audit.
            detail = {"reason": data["reason"]} if data.get("reason") else None
        else:
            if "frequency" in data:
                data["frequency"] = engine_call(rules.Frequency.from_dict, data["frequency"])
            if "authorization" in data:
                data.update(data.pop("authorization"))
            event = engine_call(ACTION_EVENTS[name], now, **data, by=by)
        state, decision = apply(uow.session, loaded, event, now=now, actor=actor,
                                action=f"plan.{name}", detail=detail)
        uow.commit()
    return plan_view(loaded, now, state), decision  # after commit: outside the lock


def _clear_do_not_contact(session: Any, loaded: Loaded, reason: str, *, actor: Actor,
                          now: datetime) -> None:
    """Lift the contact log's do_not_contact flag from a locked plan: it is back on outreach."""
    row = loaded.row
    if row.do_not_contact_at is None:
        raise Conflict("The plan is not flagged do_not_contact.")
    contact_store.set_outreach(session.connection(), row.id,
                               snoozed_until=row.contact_snoozed_until, do_not_contact_at=None,
                               now=now)
    audit.record(session, at=now, actor=actor, action="plan.clear_do_not_contact",
                 clinic_id=row.clinic_id, plan_id=row.id,
                 before={"do_not_contact": True,
                         "do_not_contact_at": row.do_not_contact_at.isoformat()},
                 after={"do_not_contact": False, "reason": reason})
    row.version, row.updated_at, row.do_not_contact_at = row.version + 1, now, None


# Closed sets the API documents as enums on its outputs.
FLAGS = (*(str(v) for v in rules.Flag), DO_NOT_CONTACT)
REVIEW_REASONS = tuple(str(v) for v in rules.ReviewReason)
PERIOD_UNITS = ("d", "wk")
EVENT_KINDS = tuple(rules.EVENT_TYPES)
