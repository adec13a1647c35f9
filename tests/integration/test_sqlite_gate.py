"""The SQLite writer gate: one writing connection at a time, readers never wait, the gate is
released whenever a transaction ends, and a stuck writer makes others fail, not hang."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from scheduler import sqlite_gate
from scheduler.db import make_engine


@pytest.mark.parametrize(("sql", "writes"), [
    ("SELECT 1", False), ("  select * from t", False), ("PRAGMA foreign_keys=ON", False),
    ("BEGIN", False), ("BEGIN DEFERRED", False), ("SAVEPOINT sa_1", False),
    ("RELEASE SAVEPOINT sa_1", False), ("ROLLBACK", False), ("COMMIT", False),
    ("INSERT INTO t VALUES (1)", True), ("\n  UPDATE t SET a = 1", True),
    ("DELETE FROM t", True), ("REPLACE INTO t VALUES (1)", True), ("CREATE TABLE u (a)", True),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", True),
    ("BEGIN IMMEDIATE", True), ("begin exclusive", True), ("BEGIN\n    IMMEDIATE", True),
    ("-- script", True),
])
def test_statements_that_may_write_pass_the_gate(sql: str, writes: bool) -> None:
    assert sqlite_gate.may_write(sql) is writes


def connect(path, timeout: float = 5.0) -> sqlite3.Connection:
    factory = sqlite_gate.connection_factory(str(path), timeout)
    return sqlite3.connect(path, factory=factory, timeout=0.05, check_same_thread=False)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "gate.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (a INTEGER)")
    return path


def test_a_second_writer_waits_for_the_first_commit_then_proceeds(db) -> None:
    first, second = connect(db), connect(db)
    first.execute("INSERT INTO t VALUES (1)")  # holds the gate until commit
    done = threading.Event()

    def write() -> None:
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)  # 6x SQLite's own busy timeout here: only the gate can be holding it
    assert not done.is_set()
    first.commit()
    thread.join(5)
    assert done.is_set()
    assert [r[0] for r in first.execute("SELECT a FROM t ORDER BY a")] == [1, 2]


def test_readers_never_wait_for_the_gate(db) -> None:
    writer, reader = connect(db), connect(db, timeout=0.01)
    writer.execute("INSERT INTO t VALUES (1)")
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # WAL: last commit
    writer.rollback()


def end_with_context_manager(connection: sqlite3.Connection) -> None:
    with connection:  # sqlite3 commits in C here
        pass


@pytest.mark.parametrize("end", [lambda c: c.commit(), lambda c: c.rollback(),
                                 lambda c: c.close(), end_with_context_manager],
                         ids=["commit", "rollback", "close", "with"])
def test_the_gate_is_released_when_the_transaction_ends(db, end) -> None:
    first, second = connect(db), connect(db, timeout=0.2)
    first.execute("INSERT INTO t VALUES (1)")
    end(first)
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()


def test_a_writer_held_past_the_timeout_fails_like_sqlite(db) -> None:
    first, second = connect(db), connect(db, timeout=0.2)
    first.execute("UPDATE t SET a = 1")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    assert 0.2 <= time.monotonic() - started < 2
    first.rollback()


def test_every_engine_on_a_sqlite_file_is_gated(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert isinstance(connection.connection.dbapi_connection,
                              sqlite_gate.GatedConnection)
            connection.execute(text("CREATE TABLE t (a INTEGER)"))
            connection.commit()
    finally:
        engine.dispose()
    assert (tmp_path / "x.db-writer.lock").exists()
    assert (tmp_path / "x.db-writer.lock").stat().st_mode & 0o777 == (
        (tmp_path / "x.db").stat().st_mode & 0o777)
    assert sqlite_gate.connection_factory(":memory:", 1) is None
