"""Settings from the environment: the only module that reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'instance' / 'cadence.db'}"
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}: expected a boolean (true/false), got {raw!r}")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}: expected an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def is_memory_sqlite(url: str) -> bool:
    """True for SQLite URLs that would open a private in-memory database."""
    if not url.startswith("sqlite"):
        return False
    rest = url.split("://", 1)[-1]
    return rest in ("", "/") or ":memory:" in rest or "mode=memory" in rest


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed, immutable service settings."""

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8000
    log_level: str = "INFO"
    scheduler_enabled: bool = False
    testing: bool = False
    idempotency_ttl_hours: int = 24
    require_scheduler: bool = False  # /readyz fails while no scheduler leader has beaten
    what_if_sync_max: int = 20_000  # a what-if over more active plans is a job (202)

    def __post_init__(self) -> None:
        if not self.database_url:
            raise SettingsError("DATABASE_URL: must not be empty")
        if is_memory_sqlite(self.database_url) and not self.testing:
            raise SettingsError("DATABASE_URL: an in-memory SQLite database is for tests only")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL: one of {sorted(LOG_LEVELS)}, got {self.log_level!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        testing = _bool("CADENCE_TESTING", env.get("CADENCE_TESTING", "false"))
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            port=_int("PORT", env.get("PORT", "8000"), 1, 65535),
            log_level=env.get("LOG_LEVEL", "INFO").strip().upper(),
            scheduler_enabled=_bool("SCHEDULER_ENABLED", env.get("SCHEDULER_ENABLED", "false")),
            testing=testing,
            require_scheduler=_bool("REQUIRE_SCHEDULER", env.get("REQUIRE_SCHEDULER", "false")),
            idempotency_ttl_hours=_int(
                "IDEMPOTENCY_TTL_HOURS", env.get("IDEMPOTENCY_TTL_HOURS", "24"), 1, 24 * 30
            ),
            what_if_sync_max=_int(
                "WHAT_IF_SYNC_MAX", env.get("WHAT_IF_SYNC_MAX", "20000"), 0, 10_000_000
            ),
        )
