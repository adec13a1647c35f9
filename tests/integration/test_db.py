"""The engine, UTC timestamps, the unit of work and the migrations against the test database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine
from scheduler.models import Clinic, Patient


def clinic_row(now: datetime, clinic_id: str = "cln_test") -> Clinic:
    return Clinic(id=clinic_id, name="C", timezone="UTC", open_weekdays=[0], holiday_region=None,
                  closures=[], ruleset="ims-default@1", created_at=now, updated_at=now)


def test_the_database_is_at_the_head_revision(engine: Engine) -> None:
    assert schema.head_revision() is not None
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.readiness(engine) == (True, "ok")


def test_the_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": schema.include_object})
        diff = compare_metadata(context, schema.all_metadata())
    assert diff == []


def test_an_unmigrated_database_is_not_ready(tmp_path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        ready, reason = schema.readiness(empty)
    finally:
        empty.dispose()
    assert not ready and str(schema.head_revision()) in reason


def test_an_unreachable_database_is_not_ready() -> None:
    nowhere = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert schema.readiness(nowhere) == (False, "database unreachable")


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_utc(uow: UnitOfWork) -> None:
    vancouver_noon = datetime(2026, 11, 2, 12, 0, tzinfo=timezone(timedelta(hours=-8)))
    with uow:
        uow.session.add(clinic_row(vancouver_noon))
        uow.commit()
    with uow:
        stored = uow.session.scalar(select(Clinic.created_at))
    assert stored == datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    assert stored.tzinfo is UTC


def test_a_naive_timestamp_is_refused(uow: UnitOfWork) -> None:
    with uow, pytest.raises(StatementError, match="naive datetime"):
        uow.session.add(clinic_row(datetime(2026, 11, 2, 12, 0)))
        uow.flush()


def test_the_unit_of_work_rolls_back_unless_committed(
    uow_factory: Callable[[], UnitOfWork], now: datetime
) -> None:
    with uow_factory() as uow:
        uow.session.add(clinic_row(now))
    with uow_factory() as uow:
        assert uow.session.scalar(select(Clinic)) is None


def test_the_unit_of_work_rolls_back_on_an_exception(
    uow_factory: Callable[[], UnitOfWork], now: datetime
) -> None:
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.session.add(clinic_row(now))
        uow.flush()
        raise RuntimeError("boom")
    with uow_factory() as uow:
        assert uow.session.scalar(select(Clinic)) is None


def test_committed_work_is_kept(uow_factory: Callable[[], UnitOfWork], now: datetime) -> None:
    with uow_factory() as uow:
        uow.session.add(clinic_row(now))
        uow.commit()
    with uow_factory() as uow:
        assert uow.session.get(Clinic, "cln_test") is not None


def test_the_unit_of_work_is_only_usable_inside_its_block(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session
    with uow, pytest.raises(RuntimeError, match="re-entrant"):
        uow.__enter__()


def test_foreign_keys_are_enforced(uow: UnitOfWork, now: datetime) -> None:
    with uow, pytest.raises(IntegrityError):
        uow.session.add(Patient(id="pat_x", clinic_id="cln_missing", external_id="E1",
                                display_name=None, created_at=now))
        uow.flush()


@pytest.mark.postgres
def test_postgres_stores_timestamps_as_timestamptz(engine: Engine) -> None:
    with engine.connect() as connection:
        kind = connection.execute(text(
            "select data_type from information_schema.columns "
            "where table_name = 'clinics' and column_name = 'created_at'"
        )).scalar()
    assert kind == "timestamp with time zone"


def test_the_migrations_downgrade_and_upgrade_cleanly(tmp_path) -> None:
    scratch = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        schema.upgrade(scratch)
        schema.downgrade(scratch, "base")
        assert schema.current_revision(scratch) is None
        schema.upgrade(scratch)
        assert schema.is_current(scratch)
    finally:
        scratch.dispose()
