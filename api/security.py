"""Safe serving: security headers on every response, a rate limit per API key (flask-limiter)
and one on failed authentication per client address.

Counts live in RATE_LIMIT_STORAGE_URI: `memory://` (the default) keeps them per worker
process, so with N gunicorn workers a key may make up to N times RATE_LIMIT; a shared store
(`redis://host:6379`) makes the limit exact across workers and hosts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from api.problems import ApiProblem, problem
from config import Settings

EXTENSION = "cadence_limits"
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


def _key() -> str:
    key = g.get("api_key")
    return key.id if key is not None else (request.remote_addr or "-")


class RateLimits:
    """The per-key limit (flask-limiter, checked after authentication) and the
    failed-authentication limit per client address (the same storage and strategy)."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.limiter = Limiter(
            _key, app=app, application_limits=[settings.rate_limit],
            # only authenticated /api/v1 requests count (probes and docs do not)
            application_limits_exempt_when=lambda: "api_key" not in g,
            storage_uri=settings.rate_limit_storage_uri, strategy="fixed-window",
            headers_enabled=False, key_prefix="cadence",
            # a shared store that is down must not take the API down: count in memory
            swallow_errors=True, in_memory_fallback_enabled=True,
        )
        self.auth_failures: list[RateLimitItem] = parse_many(settings.auth_failure_limit)

    def _address(self) -> str:
        return request.remote_addr or "-"

    def refuse_locked_out_address(self) -> None:
        """429 for an address over its failed-authentication limit (even with a good key:
        the answer must not tell a guessing client which of its keys is right)."""
        strategy, address = self.limiter.limiter, self._address()
        for item in self.auth_failures:
            if not strategy.test(item, AUTH_FAILURES, address):
                reset = strategy.get_window_stats(item, AUTH_FAILURES, address).reset_time
                raise too_many(f"Too many failed authentications from this address "
                               f"({item}).", reset)

    def record_failure(self) -> None:
        strategy, address = self.limiter.limiter, self._address()
        for item in self.auth_failures:
            strategy.hit(item, AUTH_FAILURES, address)


def too_many(detail: str, reset_at: float) -> ApiProblem:
    retry = max(1, math.ceil(reset_at - time.time()))
    return ApiProblem(429, f"{detail} Retry after {retry} s.", slug="rate-limited",
                      headers={"Retry-After": str(retry)})


def limits() -> RateLimits:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _rate_limited(error: RateLimitExceeded) -> Response:
    current = limits().limiter.current_limit
    reset = current.reset_at if current is not None else time.time() + 60
    exc = too_many(f"This API key is over its rate limit ({error.limit.limit}).", reset)
    return problem(exc.status, exc.detail, slug=exc.slug, headers=exc.headers)


def init_headers(app: Flask, settings: Settings) -> None:
    """Wrap the WSGI app: trusted proxies' X-Forwarded-For, then the security headers."""
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]


def init_limits(app: Flask, settings: Settings) -> RateLimits:
    """Create the limiter; call after auth.init_app (its check needs the key)."""
    wiring = RateLimits(app, settings)
    app.extensions[EXTENSION] = wiring
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    return wiring
