"""Shared fixtures: the test database (migrated once), units of work, a fake clock, the app."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, Table, delete, inspect

from api import create_app
from config import Settings
from scheduler import log_setup
from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.services import rulesets

T0 = datetime(2026, 11, 2, 17, 30, tzinfo=UTC)


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _is_postgres(os.environ.get("TEST_DATABASE_URL", "")):
        return
    skip = pytest.mark.skip(reason="needs TEST_DATABASE_URL=postgresql+psycopg://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL, or a fresh SQLite file (never :memory:)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'cadence-test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """The test database, taken to base and migrated to head once per session."""
    engine = make_engine(database_url)
    schema.downgrade(engine, "base")
    schema.upgrade(engine, "head")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _migrated_tables(migrated_engine: Engine) -> list[Table]:
    """Tables the migrations created, children first (models without a migration are skipped)."""
    existing = set(inspect(migrated_engine).get_table_names())
    return [t for t in reversed(schema.all_metadata().sorted_tables) if t.name in existing]


@pytest.fixture
def engine(migrated_engine: Engine, _migrated_tables: list[Table]) -> Iterator[Engine]:
    """The migrated engine; every row is deleted after the test."""
    yield migrated_engine
    with migrated_engine.begin() as connection:
        for table in _migrated_tables:
            connection.execute(delete(table))
    rulesets.forget_stored()  # the rows it cached are gone


@pytest.fixture
def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    """Makes fresh units of work on the test database."""
    factory = make_session_factory(engine)
    return lambda: UnitOfWork(factory)


@pytest.fixture
def uow(uow_factory: Callable[[], UnitOfWork]) -> UnitOfWork:
    """One (re-enterable) unit of work on the test database."""
    return uow_factory()


@dataclass
class FakeClock:
    """A clock the test moves by hand; the app reads it through its `clock` hook."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def now(clock: FakeClock) -> datetime:
    return clock.now


@pytest.fixture
def settings(database_url: str) -> Settings:
    # the tests' webhook receivers listen on 127.0.0.1 (tests with it off build their own)
    return Settings(database_url=database_url, testing=True, log_level="WARNING",
                    webhook_allow_private_networks=True)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FakeClock) -> Iterator[Flask]:
    """The app on the migrated test database, with the fake clock."""
    application = create_app(settings, clock=clock)
    yield application
    application.extensions["cadence"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass
class CapturedLogs:
    """Every line the process logged through the app's one root handler, as JSON objects."""

    stream: Any

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines()]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


@pytest.fixture
def json_logs() -> Iterator[CapturedLogs]:
    """The app's logging configured at DEBUG, JSON, into a buffer; restored afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), logging.getLogger("cadence").level)
    log_setup.configure("DEBUG", "json", buffer)
    yield CapturedLogs(buffer)
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])
    logging.getLogger("cadence").setLevel(saved[2])
