"""Settings from the environment: the only module that reads os.environ."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'instance' / 'cadence.db'}"
LOG_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOG_FORMATS = frozenset({"auto", "json", "console"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
# "1200/minute", "20 per minute", "10/second;1000/day": the limits library's notation.
_RATE = re.compile(r"\s*\d{1,9}\s*(?:/|per)\s*(?:\d{1,6}\s*)?"
                   r"(?:second|minute|hour|day|month|year)s?\s*")
_STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+sentinel://",
                    "redis+cluster://", "memcached://", "mongodb://", "mongodb+srv://",
                    "valkey://", "valkeys://")


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


def _rate(name: str, raw: str) -> str:
    value = raw.strip()
    if not all(_RATE.fullmatch(part) for part in value.split(";")):
        raise SettingsError(f"{name}: expected a rate such as 1200/minute, got {raw!r}")
    return value


def is_memory_sqlite(url: str) -> bool:
    """True for SQLite URLs that would open a private in-memory database."""
    if not url.startswith("sqlite"):
        return False
    rest = url.split("://", 1)[-1]
    return rest in ("", "/") or ":memory:" in rest or "mode=memory" in rest


def _is_base_url(raw: str) -> bool:
    parts = urlsplit(raw)
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query
            and not parts.fragment and "#" not in raw and "?" not in raw)


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
    max_body_bytes: int = 1024 * 1024  # larger request bodies: 413
    rate_limit: str = "1200/minute"  # per API key, across all of /api/v1
    auth_failure_limit: str = "20/minute"  # failed authentications per client address
    rate_limit_storage_uri: str = "memory://"  # per worker; redis://... shares the counts
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed
    log_format: str = "auto"  # auto: console on a terminal, JSON otherwise
    access_log: bool = True  # the app's one line per request (gunicorn's is never used)
    metrics_enabled: bool = True  # request/decision metrics and GET /metrics
    # PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself too): workers' shared files
    prometheus_multiproc_dir: str | None = None
    metrics_cache_seconds: int = 15  # database-derived gauges (plans, outbox) are cached
    scheduler_metrics_port: int = 0  # 0: the scheduler serves no metrics
    scheduler_metrics_host: str = "127.0.0.1"
    backlog_threshold_seconds: int = 600  # /readyz is "degraded" past this outbox age
    what_if_sync_max: int = 20_000  # a what-if over more active plans is a job (202)
    session_idle_minutes: int = 30  # a web session unused this long ends
    session_absolute_hours: int = 12  # and any web session ends this long after sign-in
    # Plain http on localhost (make run): the session cookie drops Secure, for loopback hosts
    # only. Anywhere else the cookie is Secure, so the app must be behind https.
    web_plain_http: bool = False
    # Where patients reach the check-in pages (/c/<token>): the links the API hands out
    public_base_url: str = "http://127.0.0.1:8000"
    checkin_token_limit: str = "10/minute"  # requests to one check-in link
    checkin_address_limit: str = "60/minute"  # check-in page requests per client address
    # PostgreSQL only, per session (0: none): a statement or a lock wait past these fails and
    # the request answers 503 instead of holding a connection and a worker
    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 5_000
    # development and tests only: webhook URLs may be plain http and private/loopback addresses
    webhook_allow_private_networks: bool = False
    webhook_disable_after_hours: int = 120  # a subscription failing this long is disabled
    webhook_connect_timeout_ms: int = 5000  # one attempt's connect (and TLS) limit
    webhook_read_timeout_ms: int = 10000  # one attempt's limit on any single read

    def __post_init__(self) -> None:
        if not self.database_url:
            raise SettingsError("DATABASE_URL: must not be empty")
        if is_memory_sqlite(self.database_url) and not self.testing:
            raise SettingsError("DATABASE_URL: an in-memory SQLite database is for tests only")
        _rate("RATE_LIMIT", self.rate_limit)
        _rate("AUTH_FAILURE_LIMIT", self.auth_failure_limit)
        _rate("CHECKIN_TOKEN_LIMIT", self.checkin_token_limit)
        _rate("CHECKIN_ADDRESS_LIMIT", self.checkin_address_limit)
        if not self.rate_limit_storage_uri.startswith(_STORAGE_SCHEMES):
            raise SettingsError("RATE_LIMIT_STORAGE_URI: expected memory:// or a redis://, "
                                f"memcached:// or mongodb:// URI, got "
                                f"{self.rate_limit_storage_uri.split(':', 1)[0]!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL: one of {sorted(LOG_LEVELS)}, got {self.log_level!r}")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"LOG_FORMAT: one of {sorted(LOG_FORMATS)}, got {self.log_format!r}")
        if not self.scheduler_metrics_host:
            raise SettingsError("SCHEDULER_METRICS_HOST: must not be empty")
        if not _is_base_url(self.public_base_url):
            raise SettingsError("PUBLIC_BASE_URL: an http:// or https:// URL with a host and "
                                f"no query or fragment, got {self.public_base_url!r}")

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
            max_body_bytes=_int("MAX_BODY_BYTES", env.get("MAX_BODY_BYTES", str(1024 * 1024)),
                                1024, 64 * 1024 * 1024),
            rate_limit=_rate("RATE_LIMIT", env.get("RATE_LIMIT", "1200/minute")),
            auth_failure_limit=_rate("AUTH_FAILURE_LIMIT",
                                     env.get("AUTH_FAILURE_LIMIT", "20/minute")),
            rate_limit_storage_uri=env.get("RATE_LIMIT_STORAGE_URI", "").strip() or "memory://",
            trusted_proxies=_int("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "0"), 0, 5),
            log_format=env.get("LOG_FORMAT", "auto").strip().lower() or "auto",
            access_log=_bool("ACCESS_LOG", env.get("ACCESS_LOG", "true")),
            metrics_enabled=_bool("METRICS_ENABLED", env.get("METRICS_ENABLED", "true")),
            prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip() or None,
            metrics_cache_seconds=_int(
                "METRICS_CACHE_SECONDS", env.get("METRICS_CACHE_SECONDS", "15"), 0, 3600),
            scheduler_metrics_port=_int(
                "SCHEDULER_METRICS_PORT", env.get("SCHEDULER_METRICS_PORT", "0"), 0, 65535),
            scheduler_metrics_host=env.get("SCHEDULER_METRICS_HOST", "127.0.0.1").strip(),
            backlog_threshold_seconds=_int(
                "READYZ_BACKLOG_SECONDS", env.get("READYZ_BACKLOG_SECONDS", "600"), 1,
                7 * 24 * 3600),
            what_if_sync_max=_int(
                "WHAT_IF_SYNC_MAX", env.get("WHAT_IF_SYNC_MAX", "20000"), 0, 10_000_000
            ),
            session_idle_minutes=_int(
                "SESSION_IDLE_MINUTES", env.get("SESSION_IDLE_MINUTES", "30"), 1, 24 * 60),
            session_absolute_hours=_int(
                "SESSION_ABSOLUTE_HOURS", env.get("SESSION_ABSOLUTE_HOURS", "12"), 1, 24 * 30),
            web_plain_http=_bool("WEB_PLAIN_HTTP", env.get("WEB_PLAIN_HTTP", "false")),
            public_base_url=env.get("PUBLIC_BASE_URL", "").strip() or "http://127.0.0.1:8000",
            checkin_token_limit=_rate("CHECKIN_TOKEN_LIMIT",
                                      env.get("CHECKIN_TOKEN_LIMIT", "10/minute")),
            checkin_address_limit=_rate("CHECKIN_ADDRESS_LIMIT",
                                        env.get("CHECKIN_ADDRESS_LIMIT", "60/minute")),
            statement_timeout_ms=_int("DB_STATEMENT_TIMEOUT_MS",
                                      env.get("DB_STATEMENT_TIMEOUT_MS", "30000"), 0, 3_600_000),
            lock_timeout_ms=_int("DB_LOCK_TIMEOUT_MS", env.get("DB_LOCK_TIMEOUT_MS", "5000"),
                                 0, 3_600_000),
            webhook_allow_private_networks=_bool(
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
                env.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false")),
            webhook_disable_after_hours=_int(
                "WEBHOOK_DISABLE_AFTER_HOURS", env.get("WEBHOOK_DISABLE_AFTER_HOURS", "120"),
                1, 24 * 365),
            webhook_connect_timeout_ms=_int(
                "WEBHOOK_CONNECT_TIMEOUT_MS", env.get("WEBHOOK_CONNECT_TIMEOUT_MS", "5000"),
                1, 60_000),
            webhook_read_timeout_ms=_int(
                "WEBHOOK_READ_TIMEOUT_MS", env.get("WEBHOOK_READ_TIMEOUT_MS", "10000"),
                1, 120_000),
        )
