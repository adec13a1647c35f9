"""Online backups of a SQLite database (the sqlite3 backup API), safe while the service runs."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from scheduler.errors import ValidationFailed

PG_DUMP_HINT = ("PostgreSQL is backed up with its own tools: pg_dump --format=custom "
                "--file=cadence.dump 'postgresql://user@host/db' (the URL without +psycopg), "
                "restored with pg_restore; see the README's Backups section.")


@dataclass(frozen=True, slots=True)
class Backup:
    path: str
    bytes: int
    pages: int


def backup_sqlite(engine: Engine, target: str) -> Backup:
    """Copy the engine's SQLite database to `target` (which must not exist) and check the copy.

    One backup step copies every page under one read transaction: a consistent snapshot,
    and in WAL mode writers go on meanwhile (a stepwise copy restarts on every write made
    through another connection, so under steady traffic it might never finish). The copy is
    written next to `target` and renamed into place only once `PRAGMA integrity_check`
    passed, so `target` is never a half-written file.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite":
        raise ValidationFailed.single("database_url", PG_DUMP_HINT)
    source_path = url.database or ""
    if not source_path or source_path == ":memory:" or source_path.startswith("file:"):
        raise ValidationFailed.single("database_url", "only a SQLite file can be backed up")
    destination = Path(target)
    if destination.exists():
        raise ValidationFailed.single("path", f"{target} exists; give a new file name")
    if not destination.parent.is_dir():
        raise ValidationFailed.single("path", f"no directory {destination.parent}")
    partial = destination.with_name(f".{destination.name}.partial")
    source = sqlite3.connect(source_path, timeout=30)  # reads only
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        finally:
            copy.close()
    finally:
        source.close()
    if checked != "ok":  # pragma: no cover - a corrupt source database
        partial.unlink(missing_ok=True)
        raise ValidationFailed.single("database_url", f"the copy failed its check: {checked}")
    os.replace(partial, destination)
    return Backup(str(destination), destination.stat().st_size, pages)
