"""Patient services: one external id per clinic, tenancy by scope."""

from __future__ import annotations

from datetime import datetime

import pytest

from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.services import clinics, patients
from scheduler.services.common import Actor

ACTOR = Actor(key_id="key_booking", name="physio:1234")


def a_clinic(uow: UnitOfWork, now: datetime) -> str:
    return clinics.create_clinic(uow, name="C", timezone="UTC", open_weekdays=[0],
                                 actor=ACTOR, now=now).id


def test_a_duplicate_external_id_names_the_existing_patient(
    uow: UnitOfWork, now: datetime
) -> None:
    clinic_id = a_clinic(uow, now)
    first = patients.create_patient(uow, clinic_id=clinic_id, external_id="MRN-1",
                                    actor=ACTOR, now=now)
    with pytest.raises(Conflict) as caught:
        patients.create_patient(uow, clinic_id=clinic_id, external_id="MRN-1",
                                actor=ACTOR, now=now)
    assert caught.value.existing_id == first.id and first.id in caught.value.detail


def test_the_same_external_id_may_exist_in_two_clinics(uow: UnitOfWork, now: datetime) -> None:
    one, two = a_clinic(uow, now), a_clinic(uow, now)
    a = patients.create_patient(uow, clinic_id=one, external_id="MRN-1", actor=ACTOR, now=now)
    b = patients.create_patient(uow, clinic_id=two, external_id="MRN-1", actor=ACTOR, now=now)
    assert a.id != b.id


def test_a_clinic_outside_the_scope_is_an_unknown_clinic(uow: UnitOfWork, now: datetime) -> None:
    clinic_id = a_clinic(uow, now)
    for scope, wanted in ((frozenset({"cln_other"}), clinic_id), (None, "cln_missing")):
        with pytest.raises(ValidationFailed) as caught:
            patients.create_patient(uow, clinic_id=wanted, external_id="MRN-1",
                                    actor=ACTOR, now=now, scope=scope)
        assert caught.value.errors == {"clinic_id": ["Unknown clinic."]}


def test_a_patient_of_another_clinic_is_not_found(uow: UnitOfWork, now: datetime) -> None:
    clinic_id = a_clinic(uow, now)
    patient = patients.create_patient(uow, clinic_id=clinic_id, external_id="MRN-1",
                                      actor=ACTOR, now=now)
    assert patients.get_patient(uow, patient.id, scope=frozenset({clinic_id})) == patient
    with pytest.raises(NotFound):
        patients.get_patient(uow, patient.id, scope=frozenset({"cln_other"}))
    assert patients.list_patients(uow, scope=frozenset({"cln_other"})).items == ()


def test_patients_are_found_by_external_id(uow: UnitOfWork, now: datetime) -> None:
    clinic_id = a_clinic(uow, now)
    wanted = patients.create_patient(uow, clinic_id=clinic_id, external_id="MRN-2",
                                     display_name="A. Patient", actor=ACTOR, now=now)
    patients.create_patient(uow, clinic_id=clinic_id, external_id="MRN-3", actor=ACTOR, now=now)
    page = patients.list_patients(uow, clinic_id=clinic_id, external_id="MRN-2")
    assert page.items == (wanted,) and page.next_cursor is None


def test_a_blank_external_id_is_rejected(uow: UnitOfWork, now: datetime) -> None:
    with pytest.raises(ValidationFailed):
        patients.create_patient(uow, clinic_id=a_clinic(uow, now), external_id="  ",
                                actor=ACTOR, now=now)
