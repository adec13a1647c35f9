"""Settings from the environment: typed coercion and refusals."""

from __future__ import annotations

import pytest

from config import DEFAULT_DATABASE_URL, Settings, SettingsError, is_memory_sqlite


def test_defaults_use_a_sqlite_file_under_instance() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.endswith("/instance/cadence.db")
    assert (settings.port, settings.log_level, settings.scheduler_enabled) == (8000, "INFO", False)


def test_values_are_coerced() -> None:
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql+psycopg://u@h/db", "PORT": "9001", "LOG_LEVEL": "debug",
        "SCHEDULER_ENABLED": "yes", "IDEMPOTENCY_TTL_HOURS": "48",
    })
    assert settings == Settings(database_url="postgresql+psycopg://u@h/db", port=9001,
                                log_level="DEBUG", scheduler_enabled=True,
                                idempotency_ttl_hours=48)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SCHEDULER_ENABLED": "maybe"}, "SCHEDULER_ENABLED"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DATABASE_URL": "sqlite://"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL"),
        ({"WHAT_IF_SYNC_MAX": "-1"}, "WHAT_IF_SYNC_MAX"),
        ({"WHAT_IF_SYNC_MAX": "lots"}, "WHAT_IF_SYNC_MAX"),
        ({"WEBHOOK_CONNECT_TIMEOUT_MS": "0"}, "WEBHOOK_CONNECT_TIMEOUT_MS"),
        ({"WEBHOOK_READ_TIMEOUT_MS": "2.5s"}, "WEBHOOK_READ_TIMEOUT_MS"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(environ: dict, variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(environ)


def test_in_memory_sqlite_is_allowed_only_when_testing() -> None:
    assert Settings.from_env({"DATABASE_URL": "sqlite://", "CADENCE_TESTING": "1"}).testing
    assert is_memory_sqlite("sqlite:///file:x?mode=memory&uri=true")
    assert not is_memory_sqlite("sqlite:////tmp/x.db")


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]


def test_what_if_sync_max_defaults_to_20000_and_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).what_if_sync_max == 20_000
    assert Settings.from_env({"WHAT_IF_SYNC_MAX": "500"}).what_if_sync_max == 500


def test_webhook_timeouts_default_to_5_and_10_seconds_and_are_read_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.webhook_connect_timeout_ms, default.webhook_read_timeout_ms) == (5000, 10000)
    tuned = Settings.from_env({"WEBHOOK_CONNECT_TIMEOUT_MS": "1500",
                               "WEBHOOK_READ_TIMEOUT_MS": "3000"})
    assert (tuned.webhook_connect_timeout_ms, tuned.webhook_read_timeout_ms) == (1500, 3000)
