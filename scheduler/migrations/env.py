"""Alembic environment: migrates the connection or URL it is handed, else Settings' URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from scheduler.db import make_engine
from scheduler.migrate import all_metadata, include_object

config = context.config
target_metadata = all_metadata()  # every *models module, so autogenerate sees all tables


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from config import Settings  # only when run from the alembic CLI without a URL

    return Settings.from_env().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
