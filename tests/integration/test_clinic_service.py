"""Clinic services: validation, versions, pagination and the audit trail."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, PreconditionFailed, ValidationFailed
from scheduler.models import AuditEntry
from scheduler.services import clinics
from scheduler.services.common import Actor

ACTOR = Actor(key_id="key_admin", name="ops:alice")


def create(uow: UnitOfWork, now: datetime, **overrides: object) -> clinics.ClinicView:
    values: dict = {"name": "Kits Physio", "timezone": "America/Vancouver",
                    "open_weekdays": [4, 0, 2], "holiday_region": "CA-BC",
                    "closures": [date(2026, 12, 31), date(2026, 12, 24), date(2026, 12, 24)]}
    return clinics.create_clinic(uow, **(values | overrides), actor=ACTOR, now=now)


def test_a_new_clinic_is_normalised_and_at_version_one(uow: UnitOfWork, now: datetime) -> None:
    clinic = create(uow, now)
    assert clinic.id.startswith("cln_")
    assert clinic.open_weekdays == (0, 2, 4)
    assert clinic.closures == (date(2026, 12, 24), date(2026, 12, 31))
    assert clinic.ruleset == "ims-default@1"
    assert clinic.version == 1
    assert clinic.created_at == clinic.updated_at == now
    assert clinics.get_clinic(uow, clinic.id) == clinic
    assert not clinic.calendar().is_open(date(2026, 12, 24))


def test_creating_a_clinic_is_audited(uow: UnitOfWork, now: datetime) -> None:
    clinic = create(uow, now)
    with uow:
        entry = uow.session.scalar(select(AuditEntry))
        assert (entry.action, entry.clinic_id, entry.actor_key_id, entry.actor_name) == (
            "clinic.created", clinic.id, "key_admin", "ops:alice")
        assert entry.before is None and entry.after["name"] == "Kits Physio"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"timezone": "Pacific/Nowhere"}, "timezone", id="unknown-zone"),
        pytest.param({"holiday_region": "CA-XX"}, "holiday_region", id="unknown-province"),
        pytest.param({"open_weekdays": []}, "open_weekdays", id="never-open"),
        pytest.param({"ruleset": "ims default"}, "ruleset", id="malformed-ruleset-id"),
        pytest.param({"ruleset": "custom@3"}, "ruleset", id="unknown-ruleset"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
    ],
)
def test_invalid_clinics_are_rejected_per_field(
    uow: UnitOfWork, now: datetime, overrides: dict, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create(uow, now, **overrides)
    assert field in caught.value.errors
    assert clinics.list_clinics(uow).items == ()


def test_update_bumps_the_version_and_audits_before_and_after(
    uow: UnitOfWork, now: datetime
) -> None:
    clinic = create(uow, now)
    later = now + timedelta(hours=1)
    updated = clinics.update_clinic(uow, clinic.id, expected_version=1,
                                    changes={"name": "Kits", "holiday_region": None},
                                    actor=ACTOR, now=later)
    assert (updated.name, updated.holiday_region, updated.version) == ("Kits", None, 2)
    assert updated.updated_at == later and updated.created_at == now
    with uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "clinic.updated")).one()
        assert entry.before["name"] == "Kits Physio" and entry.after["name"] == "Kits"


def test_a_stale_version_is_a_failed_precondition(uow: UnitOfWork, now: datetime) -> None:
    clinic = create(uow, now)
    clinics.update_clinic(uow, clinic.id, expected_version=1, changes={"name": "B"},
                          actor=ACTOR, now=now)
    with pytest.raises(PreconditionFailed) as caught:
        clinics.update_clinic(uow, clinic.id, expected_version=1, changes={"name": "C"},
                              actor=ACTOR, now=now)
    assert (caught.value.expected, caught.value.actual) == (1, 2)


def test_an_invalid_update_changes_nothing(uow: UnitOfWork, now: datetime) -> None:
    clinic = create(uow, now)
    with pytest.raises(ValidationFailed):
        clinics.update_clinic(uow, clinic.id, expected_version=None,
                              changes={"timezone": "Nope/Nope"}, actor=ACTOR, now=now)
    with pytest.raises(ValidationFailed):
        clinics.update_clinic(uow, clinic.id, expected_version=None,
                              changes={"version": 9}, actor=ACTOR, now=now)
    assert clinics.get_clinic(uow, clinic.id) == clinic


def test_a_clinic_outside_the_scope_does_not_exist(uow: UnitOfWork, now: datetime) -> None:
    clinic = create(uow, now)
    with pytest.raises(NotFound):
        clinics.get_clinic(uow, clinic.id, scope=frozenset({"cln_other"}))
    with pytest.raises(NotFound):
        clinics.update_clinic(uow, clinic.id, expected_version=1, changes={},
                              actor=ACTOR, now=now, scope=frozenset())
    assert clinics.list_clinics(uow, scope=frozenset({"cln_other"})).items == ()


def test_pages_walk_every_clinic_once_in_creation_order(uow: UnitOfWork, now: datetime) -> None:
    made = [create(uow, now + timedelta(minutes=n % 3), name=f"C{n}").id for n in range(7)]
    seen, cursor = [], None
    while True:
        page = clinics.list_clinics(uow, limit=3, cursor=cursor)
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made) and len(seen) == 7


@pytest.mark.parametrize("cursor", ["garbage!", "W10", "WyJ4IiwgMV0"])
def test_a_tampered_cursor_is_a_validation_error(uow: UnitOfWork, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clinics.list_clinics(uow, cursor=cursor)
    assert "cursor" in caught.value.errors
