"""`flask --app wsgi db backup PATH`: a consistent online copy of a SQLite database taken
while another thread writes, that passes its integrity check and serves as a database
(the restore drill); PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from api import create_app
from config import Settings
from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.models import Patient
from tests import builders


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's backup (PostgreSQL: pg_dump)")


def count_patients(url: str) -> int:
    engine = make_engine(url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(Patient)) or 0)
    finally:
        engine.dispose()


def test_a_backup_taken_under_writes_is_consistent_and_restores(
        sqlite_only, runner, uow_factory, now, tmp_path, database_url) -> None:
    clinic = builders.clinic(uow_factory, now)
    builders.patient(uow_factory, now, clinic.id, "MRN-0")
    stop, written = threading.Event(), {"n": 1}

    def writer() -> None:  # the service keeps writing while the copy is taken
        while not stop.is_set():
            builders.patient(uow_factory, now, clinic.id, f"MRN-{written['n']}")
            written["n"] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written["n"] < 20:
            stop.wait(0.01)
        result = runner.invoke(args=["db", "backup", str(tmp_path / "copy.db")])
        at_backup = written["n"]
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    copy = tmp_path / "copy.db"
    with sqlite3.connect(copy) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    restored_url = f"sqlite:///{copy}"
    restored = count_patients(restored_url)
    assert 20 <= restored <= at_backup + 1  # a snapshot of some moment during the run
    assert not list(tmp_path.glob(".*.partial"))
    engine = make_engine(restored_url)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()
    app = create_app(Settings(database_url=restored_url, testing=True, log_level="WARNING"))
    key = builders.api_key(lambda: UnitOfWork(make_session_factory(
        app.extensions["cadence"].engine)), now, "admin").secret
    answer = app.test_client().get("/api/v1/clinics", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.get_json()["items"][0]["id"] == clinic.id
    app.extensions["cadence"].engine.dispose()


def test_a_backup_never_overwrites_a_file(sqlite_only, runner, tmp_path) -> None:
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code != 0 and "exists" in result.output
    assert target.read_text() == "keep me"


@pytest.mark.postgres
def test_postgresql_is_pointed_to_pg_dump(runner, tmp_path) -> None:
    result = runner.invoke(args=["db", "backup", str(tmp_path / "x.db")])
    assert result.exit_code != 0 and "pg_dump" in result.output
    assert not (tmp_path / "x.db").exists()
