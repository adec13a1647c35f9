"""SQLAlchemy engine factory, UTC timestamp type and the unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Row, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

from scheduler import sqlite_gate

SQLITE_BUSY_TIMEOUT_MS = 5000

SessionFactory = Callable[[], Session]


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC timestamp column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine: SQLite file (WAL, busy timeout, FKs on, writer gate: see
    scheduler/sqlite_gate.py) or PostgreSQL via psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        gated = sqlite_gate.connection_factory(database, SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, echo=echo, hide_parameters=True,
                               connect_args={"factory": gated} if gated else {})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True)


@contextmanager
def outside_transaction(connection: Connection) -> Iterator[Connection]:
    """Use `connection` for reads without a database transaction, and leave none open.

    A single SELECT is atomic on its own, and under READ COMMITTED each statement of a
    transaction takes a fresh snapshot anyway, so reads lose nothing. PostgreSQL runs them in
    autocommit: no BEGIN and no ROLLBACK round trip, and nothing "idle in transaction" while
    the caller goes on (authentication runs before a slow client's body has arrived). Switching
    is client-side in psycopg. pysqlite never begins a transaction for a SELECT. The connection
    is back at its default isolation level afterwards. Never write in here: on PostgreSQL each
    statement would commit by itself.
    """
    if connection.in_transaction():
        raise RuntimeError("outside_transaction() on a connection in a transaction")
    autocommit = connection.dialect.name == "postgresql"
    if autocommit:
        connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield connection
    finally:
        connection.rollback()  # ends SQLAlchemy's autobegun transaction (nothing on the wire)
        if autocommit:
            connection.execution_options(isolation_level=connection.default_isolation_level)


def read_outside_transaction(connection: Connection, statement: Executable,
                             parameters: dict[str, Any]) -> list[Row[Any]]:
    """One read with `outside_transaction`."""
    with outside_transaction(connection):
        return list(connection.execute(statement, parameters).all())


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


class UnitOfWork:
    """One transaction: `with uow: ...; uow.commit()`; anything not committed is rolled back."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("UnitOfWork is not re-entrant")
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()
            self._session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()


def utcnow() -> datetime:
    """The wall clock in UTC; call it once, at the edge, and pass the value in."""
    return datetime.now(UTC)
