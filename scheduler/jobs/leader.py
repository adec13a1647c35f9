"""Leader election so exactly one scheduler is active: a PostgreSQL session advisory lock, or
an exclusive file lock for SQLite on one machine. A second instance waits as a hot standby;
when the leader dies its connection (or file descriptor) closes and the lock passes on."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger("cadence.scheduler")
ADVISORY_KEY = 0x1A5CADE  # one fixed key per database: "the IMS Cadence scheduler"


class Leadership(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated connection kept open while leading."""

    def __init__(self, engine: Engine, key: int = ADVISORY_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None
        self._guard = threading.Lock()  # the jobs' threads ask too (one connection)

    def try_acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            conn.commit()
        except BaseException:  # the database went away: no lock, no connection left open
            conn.close()
            raise
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def still_held(self) -> bool:
        with self._guard:
            if self._conn is None:
                return False
            try:
                held = self._conn.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objid = :k"), {"k": self.key}).scalar()
                self._conn.commit()
                return bool(held)
            except Exception as error:  # the connection is gone: so is the lock
                log.warning("leadership check failed: %s", type(error).__name__)
                return False

    def release(self) -> None:
        with self._guard:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    conn.commit()
                finally:
                    conn.close()


class FileLock:
    """flock(LOCK_EX | LOCK_NB) on a lock file next to the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leadership_for(engine: Engine) -> Leadership:
    """The election that fits the database behind `engine`."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(engine)
    database = url.database or "cadence.db"
    return FileLock(Path(database).with_suffix(".scheduler.lock"))
