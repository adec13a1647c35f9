"""Safe serving: security headers on every response, a rate limit per API key (flask-limiter)
and one on failed authentication per client address.

Counts live in RATE_LIMIT_STORAGE_URI: `memory://` (the default) keeps them per worker
process, so with N gunicorn workers a key may make up to N times RATE_LIMIT; a shared store
(`redis://host:6379`) makes the limit exact across workers and hosts.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from api.problems import ApiProblem
from config import Settings

EXTENSION = "cadence_limits"
log = logging.getLogger("cadence.api")
AUTH_FAILURES = "auth-failures"
API_PREFIX = "/api/v1"

# Every response; Cache-Control only on /api/v1, where every answer is for one caller's key
# and most carry patient data (plans, reports, visits, decisions, worklists, audit).
ALWAYS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
API_ONLY = (("Cache-Control", "no-store"),)


class SecurityHeaders:
    """WSGI middleware: adds ALWAYS (and API_ONLY under /api/v1) unless the app set them.

    Middleware rather than after_request, so that even a response Flask builds without
    running the after-request hooks (an error inside one of them) carries them."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        extra = ALWAYS + API_ONLY if environ.get("PATH_INFO", "").startswith(API_PREFIX) \
            else ALWAYS

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend(h for h in extra if h[0].lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class InProcessStorage(MemoryStorage):
    """limits' MemoryStorage without its expiry thread, behind RATE_LIMIT_STORAGE_URI's
    default `memory://`.

    MemoryStorage re-arms a 10 ms threading.Timer on every increment once the last one has
    fired: under load that is a thread start (and a GIL hand-over) every few requests, which
    cost more than the rest of the request path in the API benchmark. Expired counters are
    dropped when read, as in MemoryStorage, and swept inline at most once a second.
    """

    STORAGE_SCHEME = ["cadence-memory"]
    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self._next_sweep = time.time() + self.SWEEP_EVERY

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private timer re-arm
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def _storage_uri(configured: str) -> str:
    return "cadence-memory://" if configured.rstrip("/") == "memory:" else configured


def _key() -> str:
    key = g.get("api_key")
    return key.id if key is not None else (request.remote_addr or "-")


class RateLimits:
    """The per-key limit and the failed-authentication limit per client address, counted by
    flask-limiter's storage and fixed-window strategy (the `limits` library).

    flask-limiter's own per-request hook resolves every declared limit for the endpoint on
    each request: 46 us per API request and 24-68 us even on an exempt one, measured, against
    2.5 us for the strategy's hit on its own. So its hooks are detached and authentication
    calls `check_key` with the key it found; the Limiter stays the place to declare more.
    """

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.limiter = Limiter(
            _key, storage_uri=_storage_uri(settings.rate_limit_storage_uri),
            strategy="fixed-window", headers_enabled=False, key_prefix="cadence",
        )
        self.limiter.init_app(app)
        _detach(app, self.limiter)
        self.per_key: list[RateLimitItem] = parse_many(settings.rate_limit)
        self.auth_failures: list[RateLimitItem] = parse_many(settings.auth_failure_limit)

    def _hit(self, items: list[RateLimitItem], *identity: str, test: bool = False) -> None:
        strategy = self.limiter.limiter
        for item in items:
            try:
                allowed = (strategy.test if test else strategy.hit)(item, *identity)
                reset = 0.0 if allowed else strategy.get_window_stats(item, *identity).reset_time
            except Exception:  # a shared store that is down must not take the API down
                log.warning("rate limit storage failed; request let through", exc_info=True)
                return
            if not allowed:
                what = ("Too many failed authentications from this address"
                        if identity[0] == AUTH_FAILURES else "This API key is over its rate limit")
                raise too_many(f"{what} ({item}).", reset)

    def check_key(self, key_id: str) -> None:
        """Count one request of `key_id`; 429 when it is over RATE_LIMIT."""
        self._hit(self.per_key, "key", key_id)

    def refuse_locked_out_address(self) -> None:
        """429 for an address over its failed-authentication limit (even with a good key:
        the answer must not tell a guessing client which of its keys is right)."""
        self._hit(self.auth_failures, AUTH_FAILURES, request.remote_addr or "-", test=True)

    def record_failure(self) -> None:
        strategy, address = self.limiter.limiter, request.remote_addr or "-"
        for item in self.auth_failures:
            try:
                strategy.hit(item, AUTH_FAILURES, address)
            except Exception:
                log.warning("rate limit storage failed", exc_info=True)
                return


def _detach(app: Flask, limiter: Limiter) -> None:
    """Remove the before/after/teardown hooks Limiter.init_app registered on `app`."""
    def ours(fn: Any) -> bool:
        return getattr(fn, "__self__", None) is limiter or (
            getattr(fn, "args", ())[:1] == (limiter,))

    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        funcs: list[Any] = hooks.get(None, [])  # the three hook kinds differ in type
        funcs[:] = [fn for fn in funcs if not ours(fn)]


def too_many(detail: str, reset_at: float) -> ApiProblem:
    retry = max(1, math.ceil(reset_at - time.time()))
    return ApiProblem(429, f"{detail} Retry after {retry} s.", slug="rate-limited",
                      headers={"Retry-After": str(retry)})


def limits() -> RateLimits:
    found: RateLimits = current_app.extensions[EXTENSION]
    return found


def init_headers(app: Flask, settings: Settings) -> None:
    """Wrap the WSGI app: trusted proxies' X-Forwarded-For, then the security headers."""
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


def init_limits(app: Flask, settings: Settings) -> RateLimits:
    """Create the limits (authentication calls them)."""
    wiring = RateLimits(app, settings)
    app.extensions[EXTENSION] = wiring
    return wiring
