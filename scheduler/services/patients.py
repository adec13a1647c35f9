"""Patient services: register a booking system's patient, read and look up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic, Patient
from scheduler.services import audit
from scheduler.services.common import Actor, Page, Scope, in_scope, paginate


@dataclass(frozen=True, slots=True)
class PatientView:
    id: str
    clinic_id: str
    external_id: str
    display_name: str | None
    created_at: datetime


def _view(row: Patient) -> PatientView:
    return PatientView(id=row.id, clinic_id=row.clinic_id, external_id=row.external_id,
                       display_name=row.display_name, created_at=row.created_at)


def _duplicate(uow: UnitOfWork, clinic_id: str, external_id: str) -> Conflict | None:
    existing = uow.session.scalar(
        select(Patient.id).where(Patient.clinic_id == clinic_id,
                                 Patient.external_id == external_id)
    )
    if existing is None:
        return None
    return Conflict(f"A patient with this external_id already exists: {existing}",
                    existing_id=existing)


def create_patient(
    uow: UnitOfWork,
    *,
    clinic_id: str,
    external_id: str,
    display_name: str | None = None,
    actor: Actor,
    now: datetime,
    scope: Scope = None,
) -> PatientView:
    """Register a patient; Conflict (with the existing id) on a duplicate external_id."""
    if not external_id.strip():
        raise ValidationFailed.single("external_id", "Must not be blank.")
    with uow:
        if not in_scope(scope, clinic_id) or uow.session.get(Clinic, clinic_id) is None:
            raise ValidationFailed.single("clinic_id", "Unknown clinic.")
        duplicate = _duplicate(uow, clinic_id, external_id)
        if duplicate:
            raise duplicate
        row = Patient(id=new_id("pat"), clinic_id=clinic_id, external_id=external_id,
                      display_name=display_name, created_at=now)
        uow.session.add(row)
        try:
            uow.flush()
        except IntegrityError:  # a concurrent insert won the race
            uow.rollback()
            raise _duplicate(uow, clinic_id, external_id) or Conflict(
                "The patient could not be stored; retry.") from None
        view = _view(row)
        audit.record(uow.session, at=now, actor=actor, action="patient.created",
                     clinic_id=clinic_id,
                     after={"id": view.id, "external_id": external_id,
                            "display_name": display_name})
        uow.commit()
        return view


def get_patient(uow: UnitOfWork, patient_id: str, *, scope: Scope = None) -> PatientView:
    """One patient; NotFound if missing or in a clinic outside `scope`."""
    with uow:
        row = uow.session.get(Patient, patient_id)
        if row is None or not in_scope(scope, row.clinic_id):
            raise NotFound("patient", patient_id)
        return _view(row)


def list_patients(
    uow: UnitOfWork,
    *,
    scope: Scope = None,
    clinic_id: str | None = None,
    external_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[PatientView]:
    """Patients visible in `scope`, filtered by clinic and/or external id, oldest first."""
    query = select(Patient)
    if scope is not None:
        query = query.where(Patient.clinic_id.in_(sorted(scope)))
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    if external_id is not None:
        query = query.where(Patient.external_id == external_id)
    with uow:
        return paginate(uow.session, query, Patient, limit=limit, cursor=cursor, convert=_view)
