"""Staff patient search: by external id or display name within the caller's clinics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from scheduler.db import UnitOfWork
from scheduler.errors import ValidationFailed
from scheduler.models import Patient, Plan

MAX_QUERY = 100
LIMIT = 50


@dataclass(frozen=True, slots=True)
class PatientHit:
    """A patient found, with the plan a click should open (the open one, else the newest)."""

    id: str
    clinic_id: str
    external_id: str
    display_name: str | None
    plan_id: str | None
    plan_status: str | None


def _like(q: str) -> str:
    # The user's text is matched literally: % and _ are not wildcards here.
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_patients(uow: UnitOfWork, *, q: str, scope: frozenset[str] | None,
                    limit: int = LIMIT) -> list[PatientHit]:
    """Patients of `scope` whose external id or display name contains `q` (case-insensitive),
    exact external-id matches first, then by external id; at most `limit`."""
    q = q.strip()
    if not q:
        return []
    if len(q) > MAX_QUERY:
        raise ValidationFailed.single("q", f"At most {MAX_QUERY} characters.")
    pattern = _like(q)
    query = select(Patient).where(or_(
        func.lower(Patient.external_id).like(pattern, escape="\\"),
        func.lower(func.coalesce(Patient.display_name, "")).like(pattern, escape="\\")))
    if scope is not None:
        query = query.where(Patient.clinic_id.in_(sorted(scope)))
    with uow:
        session = uow.session
        rows = session.scalars(query.order_by(
            (func.lower(Patient.external_id) != q.lower()), Patient.external_id, Patient.id)
            .limit(limit)).all()
        plans: dict[str, tuple[str, str]] = {}
        if rows:
            found = session.execute(
                select(Plan.patient_id, Plan.id, Plan.status)
                .where(Plan.patient_id.in_([r.id for r in rows]))
                .order_by(Plan.created_at, Plan.id)).all()
            for patient_id, plan_id, status in found:
                # Later plans replace earlier ones, except that an open plan is never
                # replaced by a discharged one.
                current = plans.get(patient_id)
                if current is None or status != "discharged" or current[1] == "discharged":
                    plans[patient_id] = (plan_id, status)
        return [PatientHit(r.id, r.clinic_id, r.external_id, r.display_name,
                           *plans.get(r.id, (None, None))) for r in rows]
