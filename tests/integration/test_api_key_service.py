"""API key services: the secret is hashed, shown once, and stops working when revoked."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.models import ApiKey
from scheduler.services import api_keys, clinics
from scheduler.services.api_keys import Role
from scheduler.services.common import Actor

ACTOR = Actor(key_id=None, name="cli")


def a_clinic(uow: UnitOfWork, now: datetime) -> str:
    return clinics.create_clinic(uow, name="C", timezone="UTC", open_weekdays=[0],
                                 actor=ACTOR, now=now).id


def test_a_key_is_stored_only_as_a_hash_and_authenticates(uow: UnitOfWork, now: datetime) -> None:
    clinic_id = a_clinic(uow, now)
    issued = api_keys.create_api_key(uow, name="Jane", role="booking_system",
                                     clinic_ids=[clinic_id], actor=ACTOR, now=now)
    with uow:
        row = uow.session.scalar(select(ApiKey))
        assert issued.secret not in (row.key_hash, row.prefix)
    key = api_keys.authenticate(uow, issued.secret)
    assert key == issued.api_key
    assert key.role is Role.BOOKING_SYSTEM and key.clinic_ids == (clinic_id,)
    assert not key.all_clinics


@pytest.mark.parametrize(
    "presented",
    ["", "nope", "ims_abc", "ims_000000000000_x", "bearer ims_a_b_c"],
)
def test_unknown_or_malformed_keys_do_not_authenticate(
    uow: UnitOfWork, now: datetime, presented: str
) -> None:
    api_keys.create_api_key(uow, name="root", role="admin", actor=ACTOR, now=now)
    assert api_keys.authenticate(uow, presented) is None


def test_a_right_prefix_with_a_wrong_secret_does_not_authenticate(
    uow: UnitOfWork, now: datetime
) -> None:
    issued = api_keys.create_api_key(uow, name="root", role="admin", actor=ACTOR, now=now)
    assert api_keys.authenticate(uow, issued.secret[:-2] + "xx") is None


def test_a_revoked_key_stops_working_and_revoking_again_is_harmless(
    uow: UnitOfWork, now: datetime
) -> None:
    issued = api_keys.create_api_key(uow, name="root", role="admin", actor=ACTOR, now=now)
    revoked = api_keys.revoke_api_key(uow, issued.api_key.id, actor=ACTOR, now=now)
    assert revoked.revoked_at == now
    assert api_keys.authenticate(uow, issued.secret) is None
    assert api_keys.revoke_api_key(uow, issued.api_key.id, actor=ACTOR, now=now) == revoked


def test_revoking_an_unknown_key_is_not_found(uow: UnitOfWork, now: datetime) -> None:
    with pytest.raises(NotFound):
        api_keys.revoke_api_key(uow, "key_missing", actor=ACTOR, now=now)


@pytest.mark.parametrize(
    ("role", "clinic_ids", "field"),
    [
        pytest.param("superuser", [], "role", id="unknown-role"),
        pytest.param("admin", ["CLINIC"], "clinic_ids", id="admin-keys-are-not-scoped"),
        pytest.param("front_desk", [], "clinic_ids", id="clinic-roles-need-a-clinic"),
        pytest.param("physiotherapist", ["cln_missing"], "clinic_ids", id="unknown-clinic"),
    ],
)
def test_invalid_keys_are_rejected(
    uow: UnitOfWork, now: datetime, role: str, clinic_ids: list[str], field: str
) -> None:
    clinic_ids = [a_clinic(uow, now) if c == "CLINIC" else c for c in clinic_ids]
    with pytest.raises(ValidationFailed) as caught:
        api_keys.create_api_key(uow, name="k", role=role, clinic_ids=clinic_ids,
                                actor=ACTOR, now=now)
    assert field in caught.value.errors
    assert api_keys.list_api_keys(uow).items == ()


def test_a_secret_containing_underscores_still_authenticates(
    uow: UnitOfWork, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_keys.secrets, "token_urlsafe", lambda _n: "a_b__c_")
    issued = api_keys.create_api_key(uow, name="root", role="admin", actor=ACTOR, now=now)
    assert issued.secret.endswith("_a_b__c_")
    assert api_keys.authenticate(uow, issued.secret) == issued.api_key
