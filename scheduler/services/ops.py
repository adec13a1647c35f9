"""Operations services: schema migrations for the CLI (the probes use services/readiness.py).

The API reaches migrations only through these functions.
"""

from __future__ import annotations

from sqlalchemy import Engine

from scheduler import migrate


def upgrade_database(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to `revision`; returns the revision it is at afterwards."""
    migrate.upgrade(engine, revision)
    return migrate.current_revision(engine)


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's revision, the code's head revision)."""
    return migrate.current_revision(engine), migrate.head_revision()
