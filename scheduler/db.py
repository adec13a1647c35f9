"""SQLAlchemy engine factory, UTC timestamp type and the unit of work."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Row, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

from scheduler import sqlite_gate

SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLite errors after which the connection is replaced (as after a disconnect): one opened
# while the file was read-only stays read-only; I/O errors may leave it unusable.
_SQLITE_REOPEN = ("readonly database", "disk i/o error", "unable to open database file")
# SQLite's outages (its OperationalError is also a syntax error or a missing table: a 500).
_SQLITE_UNAVAILABLE = (*_SQLITE_REOPEN, "database is locked", "database table is locked",
                       "database or disk is full")
# Exceptions a Flask error handler is registered for; `database_unavailable` decides.
UNAVAILABLE_CANDIDATES: tuple[type[Exception], ...] = (
    exc.DBAPIError, exc.TimeoutError, exc.DisconnectionError, sqlite3.OperationalError)

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


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot serve now (answer 503, retry later), not that
    the request or the code is wrong: unreachable, stopped or restarting server, a dropped
    connection, a statement or lock timeout, no pooled connection free, SQLite locked past
    its busy timeout, disk full, read-only or I/O errors."""
    if isinstance(error, exc.TimeoutError | exc.DisconnectionError):
        return True
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    if isinstance(original, sqlite3.Error):
        return any(text in str(original).lower() for text in _SQLITE_UNAVAILABLE)
    if isinstance(error, exc.DBAPIError):  # psycopg: connection errors, query/lock timeouts
        return bool(error.connection_invalidated) or isinstance(
            error, exc.OperationalError | exc.InterfaceError)
    return False


def _sqlite_reopen_on_error(context: Any) -> None:
    original = context.original_exception
    if isinstance(original, sqlite3.Error) and any(
            text in str(original).lower() for text in _SQLITE_REOPEN):
        context.is_disconnect = True  # the pool discards it; the next checkout reopens


def _reopen_when_writable(engine: Engine, database: str) -> None:
    """A connection opened while the file was read-only stays read-only: once the file is
    writable again, the pool replaces it at checkout (one access() call, only for those)."""

    def on_connect(_dbapi: Any, record: Any) -> None:
        record.info["read_only_file"] = not os.access(database, os.W_OK)

    def on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("read_only_file") and os.access(database, os.W_OK):
            raise exc.DisconnectionError("the database file is writable again")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)


def make_engine(url: str, *, echo: bool = False, statement_timeout_ms: int = 0,
                lock_timeout_ms: int = 0) -> Engine:
    """Create an engine: SQLite file (WAL, busy timeout, FKs on, writer gate: see
    scheduler/sqlite_gate.py) or PostgreSQL via psycopg 3 (pre-ping, so connections a restart
    killed are replaced on checkout; the timeouts, in ms, 0 for none, are set per session)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        gated = sqlite_gate.connection_factory(database, SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(parsed, echo=echo, hide_parameters=True,
                               connect_args={"factory": gated} if gated else {})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _sqlite_reopen_on_error)
        if gated:  # a file (not memory, not a URI)
            _reopen_when_writable(engine, os.path.abspath(database))
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    options = " ".join(f"-c {name}={value}" for name, value in (
        ("statement_timeout", statement_timeout_ms), ("lock_timeout", lock_timeout_ms))
        if value)
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if options:
        connect_args["options"] = options
    return create_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True,
                         connect_args=connect_args)


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
