"""The staff pages' reads: the plan page in one call, patient search, worklist names."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scheduler.errors import NotFound, ValidationFailed
from scheduler.services import patient_search, patients, proposals
from scheduler.services.plan_page import plan_page
from tests import builders
from tests.builders import ACTOR, UowFactory


def test_the_plan_page_has_the_patient_window_series_chart_data_and_trails(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now)
    made = builders.plan(uow_factory, now, clinic.id, "MRN-77")
    later = now + timedelta(days=3)
    builders.visit(uow_factory, made.id, later, external_id="V1", starts_at=later)
    builders.visit(uow_factory, made.id, later, external_id="V2",
                   starts_at=later + timedelta(days=4), status="booked")
    builders.report(uow_factory, made.id, later + timedelta(hours=50),
                    recorded_at=later + timedelta(hours=50), pain=6, function=4)
    builders.act(uow_factory, made.id, "hold", later + timedelta(hours=51), reason="away")
    at = later + timedelta(hours=52)

    page = plan_page(uow_factory(), made.id, now=at, scope=frozenset({clinic.id}),
                     with_audit=True)

    assert page.patient_external_id == "MRN-77"
    assert page.plan.status == "on_hold" and page.consent_at is not None
    assert [(r.pain, r.function) for r in page.reports] == [(6, 4)]
    assert [(v.status, v.kind) for v in page.visits] == [("attended", "needling"),
                                                         ("booked", "needling")]
    assert page.decisions[0].event_kind == "plan_created"  # oldest first
    assert page.decisions[-1].status_after == "on_hold"
    assert all(e["text"] for d in page.decisions for e in d.explanations)
    assert page.audit is not None and page.audit[0]["action"] == "plan.hold"
    assert isinstance(page.series, list)


def test_the_audit_trail_is_left_out_unless_asked_for(uow_factory: UowFactory,
                                                      now: datetime) -> None:
    made = builders.plan(uow_factory, now)
    page = plan_page(uow_factory(), made.id, now=now, scope=None, with_audit=False)
    assert page.audit is None


def test_another_clinics_plan_is_not_found(uow_factory: UowFactory, now: datetime) -> None:
    made = builders.plan(uow_factory, now)
    other = builders.clinic(uow_factory, now, name="Other")
    with pytest.raises(NotFound):
        plan_page(uow_factory(), made.id, now=now, scope=frozenset({other.id}),
                  with_audit=False)


def _named(uow_factory: UowFactory, now: datetime, clinic_id: str, external_id: str,
           name: str | None) -> patients.PatientView:
    return patients.create_patient(uow_factory(), clinic_id=clinic_id, external_id=external_id,
                                   display_name=name, actor=ACTOR, now=now)


def test_search_finds_by_external_id_or_name_within_the_callers_clinics(
        uow_factory: UowFactory, now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now)
    other = builders.clinic(uow_factory, now, name="Other")
    ada = _named(uow_factory, now, clinic.id, "MRN-100", "Ada Lovelace")
    _named(uow_factory, now, clinic.id, "MRN-1000", None)
    _named(uow_factory, now, other.id, "MRN-100", "Ada Elsewhere")
    made = builders.plan(uow_factory, now, patient_id=ada.id)
    scope = frozenset({clinic.id})

    by_id = patient_search.search_patients(uow_factory(), q="mrn-100", scope=scope)
    assert [h.external_id for h in by_id] == ["MRN-100", "MRN-1000"]  # the exact match first
    assert by_id[0].plan_id == made.id and by_id[1].plan_id is None
    by_name = patient_search.search_patients(uow_factory(), q="lovelace", scope=scope)
    assert [h.id for h in by_name] == [ada.id]
    assert patient_search.search_patients(uow_factory(), q="%", scope=scope) == []
    assert patient_search.search_patients(uow_factory(), q="  ", scope=scope) == []
    with pytest.raises(ValidationFailed) as raised:
        patient_search.search_patients(uow_factory(), q="x" * 101, scope=scope)
    assert "q" in raised.value.errors


def test_worklist_items_carry_the_patients_display_name(uow_factory: UowFactory,
                                                        now: datetime) -> None:
    clinic = builders.clinic(uow_factory, now)
    ada = _named(uow_factory, now, clinic.id, "MRN-5", "Ada Lovelace")
    builders.plan(uow_factory, now, patient_id=ada.id)
    page = proposals.followups(uow_factory(), clinic_id=clinic.id, on=None, now=now)
    assert [(i["patient_external_id"], i["patient_display_name"]) for i in page.items] == [
        ("MRN-5", "Ada Lovelace")]
