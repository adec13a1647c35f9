"""Per-app wiring of the core: engine, units of work, clock and settings.

Within a request every unit of work uses the request's one Session, bound to one pooled
connection that authentication uses first: a request checks out one connection (one pre-ping
on PostgreSQL). Authentication leaves no transaction open (the body is not read yet; see
`scheduler.db.read_outside_transaction`). Units of work commit or roll back on their own, one
after the other, never nested; the session and connection are closed when the request ends.
Outside a request (CLI, tests) each unit of work has a session of its own.

An atomic request (an Idempotency-Key's POST: `begin_atomic`) is one database transaction
instead: its first unit of work (the key's claim) begins it and its `commit()` only flushes,
every later unit of work is a SAVEPOINT inside it (its commit releases the savepoint, its
rollback undoes only its own work), and `end_atomic` commits or rolls back the whole: the
claim, the view's change and the stored response together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from flask import Flask, current_app, g, has_request_context

from config import Settings
from scheduler.db import (
    UnitOfWork,
    make_engine,
    make_session_factory,
    outside_transaction,
    utcnow,
)

EXTENSION = "cadence"
_SESSION = "_cadence_session"
_IN_USE = "_cadence_session_in_use"
_ATOMIC = "_cadence_atomic"  # None, "pending" (no transaction yet) or "open"


@dataclass(frozen=True)
class Cadence:
    """What views need from the core; reach it with `cadence()`."""

    settings: Settings
    engine: Any  # sqlalchemy's Engine and sessionmaker (api/ names no sqlalchemy type)
    session_factory: Any
    clock: Callable[[], datetime]

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work for one service call (on the request's session within a request).

        `read_only`: for views that only read; within a request their statements run outside
        a database transaction (see `scheduler.db.outside_transaction`: on PostgreSQL no
        BEGIN/ROLLBACK round trips) and `commit()` is refused.
        """
        if has_request_context():
            return _RequestUnitOfWork(self.request_session, read_only=read_only)
        return UnitOfWork(self.session_factory)

    def request_session(self) -> Any:
        """The current request's Session, opened on first use."""
        session = g.get(_SESSION)
        if session is None:
            # Bound to one connection for the whole request: units of work after the first
            # (an Idempotency-Key's claim, the view, the stored response) reuse it instead of
            # checking one out (and pre-pinging it) again. Not in a transaction when bound, so
            # the session begins, commits and rolls back its own transactions on it.
            session = self.session_factory(bind=self.engine.connect())
            setattr(g, _SESSION, session)
        return session

    def request_connection(self) -> Any:
        """The connection the request's session is bound to (for authentication, which runs
        outside any transaction)."""
        return self.request_session().get_bind()

    def begin_atomic(self) -> None:
        """Make the rest of this request one transaction (see the module docstring)."""
        if g.get(_IN_USE) or g.get(_ATOMIC):
            raise RuntimeError("begin_atomic() with a unit of work open or already atomic")
        setattr(g, _ATOMIC, "pending")

    def end_atomic(self, *, commit: bool) -> None:
        """Commit (or roll back) the atomic request's transaction; a no-op when none is open.
        A failed commit rolls back and raises (the database's error)."""
        state = g.pop(_ATOMIC, None)
        session = g.get(_SESSION)
        if state != "open" or session is None:
            return
        if commit:
            try:
                session.commit()
                return
            except BaseException:
                _quiet_rollback(session)
                raise
        _quiet_rollback(session)

    def now(self) -> datetime:
        return self.clock()

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.idempotency_ttl_hours)


def _quiet_rollback(session: Any) -> None:
    # The database may be gone (the reason we roll back): the connection is then invalidated
    # and the pool replaces it; there is nothing left to undo.
    try:
        session.rollback()
    except Exception:  # noqa: BLE001 - see above
        pass


class _RequestUnitOfWork(UnitOfWork):
    """A unit of work on the request's session; one at a time (they never nest)."""

    def __init__(self, session_factory: Callable[[], Any], *, read_only: bool) -> None:
        super().__init__(session_factory)
        self._read_only = read_only
        self._reads: Any = None
        self._atomic: str | None = None  # "outer" (begins the transaction) or "nested"
        self._savepoint: Any = None

    def __enter__(self) -> UnitOfWork:
        if g.get(_IN_USE):
            raise RuntimeError("a unit of work is already open in this request")
        state = g.get(_ATOMIC)
        if state is not None:
            return self._enter_atomic(state)
        uow = super().__enter__()
        connection: Any = self.session.get_bind()  # the request's Connection (see above)
        if connection.in_transaction():
            # Something ran on the connection outside the session: the session would join
            # that transaction and its commit would silently commit nothing.
            super().__exit__(None, None, None)
            raise RuntimeError("the request's connection is in a transaction of its own")
        if self._read_only:
            self._reads = outside_transaction(connection)
            self._reads.__enter__()
        setattr(g, _IN_USE, True)
        return uow

    def _enter_atomic(self, state: str) -> UnitOfWork:
        self._session = self._session_factory()
        if state == "pending":
            self._atomic = "outer"  # its statements begin the request's transaction
        else:
            self._atomic = "nested"
            # Not for reads: a SAVEPOINT as the transaction's first statement would let
            # pysqlite's RELEASE end the transaction (the claim wrote first, so it never is).
            if not self._read_only:
                self._savepoint = self.session.begin_nested()
        setattr(g, _IN_USE, True)
        return self

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        if self._atomic == "outer":
            self.session.flush()  # committed by end_atomic, with the rest of the request
            setattr(g, _ATOMIC, "open")
        elif self._atomic == "nested":
            if self._savepoint is not None and self._savepoint.is_active:
                self._savepoint.commit()
        else:
            super().commit()

    def rollback(self) -> None:
        if self._atomic == "outer":
            if g.get(_ATOMIC) != "open":  # not committed: nothing of the request is kept
                self.session.rollback()
        elif self._atomic == "nested":
            if self._savepoint is not None and self._savepoint.is_active:
                self._savepoint.rollback()
        else:
            super().rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._atomic is not None:
            try:
                self.rollback()  # what was not committed (only this unit of work's part)
            finally:
                self._session, self._savepoint = None, None  # the request's session stays open
                setattr(g, _IN_USE, False)
            return
        try:
            super().__exit__(exc_type, exc, tb)  # rolls back what was not committed, closes
            if self._reads is not None:
                self._reads, reads = None, self._reads
                reads.__exit__(None, None, None)
        finally:
            setattr(g, _IN_USE, False)


def _close_request_session(_error: BaseException | None) -> None:
    g.pop(_ATOMIC, None)  # an atomic request not ended: closing the session rolls it back
    session = g.pop(_SESSION, None)
    if session is not None:
        connection = session.get_bind()
        try:
            session.close()  # rolls back an open transaction (e.g. after a 401/403/422)
        finally:
            connection.close()  # back to the pool


def init_app(
    app: Flask, settings: Settings, clock: Callable[[], datetime] | None = None
) -> Cadence:
    """Create the engine (lazily connecting) and register the wiring on `app`."""
    engine = make_engine(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms,
                         lock_timeout_ms=settings.lock_timeout_ms)
    wiring = Cadence(settings, engine, make_session_factory(engine), clock or utcnow)
    app.extensions[EXTENSION] = wiring
    app.teardown_appcontext(_close_request_session)
    return wiring


def cadence() -> Cadence:
    """The current app's wiring."""
    wiring: Cadence = current_app.extensions[EXTENSION]
    return wiring
