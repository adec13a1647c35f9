"""Schema migrations through Alembic's command API: upgrade, current and head revisions.

The migration scripts live in scheduler/migrations; this module drives them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData
from sqlalchemy.exc import SQLAlchemyError

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def all_metadata() -> MetaData:
    """The declarative metadata of every model (the package imports all its modules)."""
    from scheduler.models import Base

    return Base.metadata


UNMANAGED_TABLES = frozenset({"apscheduler_jobs"})  # APScheduler creates and owns its job store


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Alembic filter: tables other libraries own are not ours to autogenerate or drop."""
    return not (type_ == "table" and name in UNMANAGED_TABLES)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` to `revision`."""
    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the database behind `engine` back to `revision` (tests and emergencies only)."""
    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def head_revision() -> str | None:
    """The newest revision the code ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """True when the database is reachable and at the head revision; raises if unreachable."""
    return current_revision(engine) == head_revision()


def readiness(engine: Engine) -> tuple[bool, str]:
    """(ready, reason): the database answers and its schema is at the code's head revision."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError:
        return False, "database unreachable"
    head = head_revision()
    if current != head:
        return False, f"database schema at {current or 'nothing'}, code expects {head}"
    return True, "ok"
