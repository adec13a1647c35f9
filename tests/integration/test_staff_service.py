"""Staff accounts: argon2id hashes (only in the database), case-insensitive unique emails, the
lockout after five wrong passwords in 15 minutes, and a failure audit trail without emails."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from scheduler import migrate as schema
from scheduler.errors import ValidationFailed
from scheduler.models import AuditEntry, StaffAccount
from scheduler.services import staff
from tests import builders
from tests.builders import ACTOR, UowFactory

PASSWORD = "correct horse battery"


@pytest.fixture
def clinic_id(uow_factory: UowFactory, now: datetime) -> str:
    return builders.clinic(uow_factory, now).id


def make(uow_factory: UowFactory, now: datetime, clinic_id: str, email: str = "Desk@Clinic.example",
         role: str = "front_desk", password: str | None = PASSWORD) -> staff.StaffUser:
    return staff.create_staff(uow_factory(), email=email, name="Robin Desk", role=role,
                              clinic_ids=[clinic_id], password=password, actor=ACTOR, now=now)


def sign_in(uow_factory: UowFactory, email: str, password: str,
            now: datetime) -> staff.StaffUser | None:
    return staff.authenticate(uow_factory(), email=email, password=password, now=now)


def failures(uow_factory: UowFactory) -> list[dict[str, object]]:
    with uow_factory() as uow:
        rows = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "staff.sign_in_failed").order_by(AuditEntry.at)).all()
        return [dict(r.after or {}) for r in rows]


def test_the_password_is_stored_only_as_an_argon2id_hash(uow_factory, engine: Engine, now,
                                                          clinic_id) -> None:
    user = make(uow_factory, now, clinic_id)
    with uow_factory() as uow:
        stored = uow.session.get(StaffAccount, user.id)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
    # the plain password is in no column of any table
    with engine.connect() as connection:
        for table in schema.all_metadata().sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                assert PASSWORD not in repr(tuple(row)), table.name
    assert PASSWORD not in repr(user)


def test_emails_are_unique_whatever_their_case(uow_factory, now, clinic_id) -> None:
    make(uow_factory, now, clinic_id, email="Desk@Clinic.example")
    with pytest.raises(ValidationFailed) as caught:
        make(uow_factory, now, clinic_id, email="desk@CLINIC.example")
    assert "email" in caught.value.errors
    assert sign_in(uow_factory, "DESK@clinic.example", PASSWORD, now) is not None


@pytest.mark.parametrize(("password", "ok"), [
    pytest.param("x" * 11, False, id="eleven-characters-refused"),
    pytest.param("x" * 12, True, id="twelve-characters-accepted"),
])
def test_a_password_needs_twelve_characters(uow_factory, now, clinic_id, password, ok) -> None:
    if ok:
        assert make(uow_factory, now, clinic_id, password=password).id.startswith("stf_")
    else:
        with pytest.raises(ValidationFailed) as caught:
            make(uow_factory, now, clinic_id, password=password)
        assert "password" in caught.value.errors


def test_a_clinic_role_needs_a_clinic_and_the_clinic_must_exist(uow_factory, now) -> None:
    with pytest.raises(ValidationFailed) as caught:
        staff.create_staff(uow_factory(), email="a@b.example", name="A", role="physiotherapist",
                           actor=ACTOR, now=now)
    assert "clinic_ids" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        staff.create_staff(uow_factory(), email="a@b.example", name="A", role="front_desk",
                           clinic_ids=["cln_nope"], actor=ACTOR, now=now)
    assert "cln_nope" in " ".join(caught.value.errors["clinic_ids"])


def test_five_wrong_passwords_in_15_minutes_lock_the_account_for_15_minutes(
        uow_factory, now, clinic_id) -> None:
    user = make(uow_factory, now, clinic_id)
    for minute in range(5):  # minutes 0..4: five failures within the window
        assert sign_in(uow_factory, user.email, "wrong password!", now +
                       timedelta(minutes=minute)) is None
    locked_at = now + timedelta(minutes=4)
    # locked: even the right password is refused (the caller shows the same message)
    assert sign_in(uow_factory, user.email, PASSWORD, locked_at + timedelta(minutes=14)) is None
    assert sign_in(uow_factory, user.email, PASSWORD, locked_at + timedelta(minutes=15)) \
        is not None
    reasons = [f["reason"] for f in failures(uow_factory)]
    assert reasons == ["wrong_password"] * 4 + ["wrong_password_locked", "locked"]
    assert all(f["staff_id"] == user.id for f in failures(uow_factory))


def test_failures_spread_over_more_than_15_minutes_do_not_lock(uow_factory, now,
                                                               clinic_id) -> None:
    user = make(uow_factory, now, clinic_id)
    for step in range(5):  # every 4 minutes: the first has left the window by the fifth
        assert sign_in(uow_factory, user.email, "wrong password!",
                       now + timedelta(minutes=4 * step)) is None
    assert sign_in(uow_factory, user.email, PASSWORD, now + timedelta(minutes=17)) is not None


def test_a_success_clears_the_count(uow_factory, now, clinic_id) -> None:
    user = make(uow_factory, now, clinic_id)
    for _ in range(4):
        sign_in(uow_factory, user.email, "wrong password!", now)
    assert sign_in(uow_factory, user.email, PASSWORD, now) is not None
    for _ in range(4):
        sign_in(uow_factory, user.email, "wrong password!", now)
    assert sign_in(uow_factory, user.email, PASSWORD, now) is not None


def test_unknown_disabled_and_passwordless_accounts_fail_and_are_audited_without_the_email(
        uow_factory, now, clinic_id) -> None:
    disabled = make(uow_factory, now, clinic_id, email="gone@clinic.example")
    staff.disable_staff(uow_factory(), disabled.id, actor=ACTOR, now=now)
    no_password = make(uow_factory, now, clinic_id, email="new@clinic.example", password=None)
    assert sign_in(uow_factory, "nobody@clinic.example", PASSWORD, now) is None
    assert sign_in(uow_factory, disabled.email, PASSWORD, now) is None
    assert sign_in(uow_factory, no_password.email, PASSWORD, now) is None
    # the three share one clock reading: their order by time is a tie (PostgreSQL's is its own)
    assert sorted(failures(uow_factory), key=lambda f: str(f["reason"])) == [
        {"staff_id": disabled.id, "reason": "disabled"},
        {"staff_id": no_password.id, "reason": "no_password"},
        {"staff_id": None, "reason": "unknown_account"}]
    with uow_factory() as uow:
        trail = repr([(r.actor_name, r.before, r.after)
                      for r in uow.session.scalars(select(AuditEntry))])
    assert "@clinic.example" not in trail and PASSWORD not in trail


def test_set_password_replaces_it_and_lifts_a_lockout(uow_factory, now, clinic_id) -> None:
    user = make(uow_factory, now, clinic_id)
    for _ in range(5):
        sign_in(uow_factory, user.email, "wrong password!", now)
    staff.set_password(uow_factory(), user.id, "a new passphrase", actor=ACTOR, now=now)
    assert sign_in(uow_factory, user.email, PASSWORD, now) is None
    assert sign_in(uow_factory, user.email, "a new passphrase", now) is not None


def test_the_daily_purge_deletes_expired_web_sessions_only(uow_factory, now, clinic_id) -> None:
    from scheduler.jobs import tasks
    from scheduler.models import WebSession
    from scheduler.services import web_sessions

    user = make(uow_factory, now, clinic_id)
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    web_sessions.save(uow_factory(), "idle-one", data={}, staff_id=user.id,
                      now=now - timedelta(minutes=31))
    web_sessions.save(uow_factory(), "fresh-one", data={}, staff_id=user.id, now=now)
    tasks.configure(tasks.Runtime(uow_factory, lambda: now, "test", now, session_idle=idle,
                                  session_absolute=absolute))
    tasks.purge_job()
    assert web_sessions.load(uow_factory(), "fresh-one", now=now, idle=idle,
                             absolute=absolute) is not None
    with uow_factory() as uow:
        assert len(uow.session.scalars(select(WebSession)).all()) == 1
