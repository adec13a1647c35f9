"""Rate limits of the check-in page: per link (its token's hash) and per client address,
counted in RATE_LIMIT_STORAGE_URI's store with the `limits` library, as the API's are."""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from config import Settings

EXTENSION = "cadence_checkin_limits"
log = logging.getLogger("cadence.web")


class TooMany(Exception):
    """Over a limit; `retry_after` seconds until the window resets."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def _sync(uri: str) -> Storage:
    found = storage_from_string(uri)
    if not isinstance(found, Storage):
        raise ValueError(f"not a synchronous rate-limit storage: {uri.split(':', 1)[0]}")
    return found


def _storage(uri: str) -> Storage:
    # The API registers "cadence-memory" (limits' MemoryStorage without its expiry thread,
    # see api/security.py); its scheme is found by name, web/ never imports api/.
    if uri.rstrip("/") == "memory:":
        try:
            return _sync("cadence-memory://")
        except Exception:  # an app without the API's storage: limits' own
            return _sync(uri)
    return _sync(uri)


class CheckinLimits:
    def __init__(self, settings: Settings) -> None:
        self.strategy = FixedWindowRateLimiter(_storage(settings.rate_limit_storage_uri))
        self.per_token: list[RateLimitItem] = parse_many(settings.checkin_token_limit)
        self.per_address: list[RateLimitItem] = parse_many(settings.checkin_address_limit)

    def hit(self, token: str) -> None:
        """Count one request for `token` from this client; TooMany when over either limit.
        The link is counted by a hash of its token, so the store never holds a credential."""
        link = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        for items, identity in ((self.per_address, ("checkin-address",
                                                    request.remote_addr or "-")),
                                (self.per_token, ("checkin-link", link))):
            for item in items:
                try:
                    if self.strategy.hit(item, *identity):
                        continue
                    reset = self.strategy.get_window_stats(item, *identity).reset_time
                except Exception:  # a shared store that is down must not take the page down
                    log.warning("rate limit storage failed; request let through", exc_info=True)
                    return
                raise TooMany(max(1, math.ceil(reset - time.time())))


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = CheckinLimits(settings)


def limits() -> CheckinLimits:
    found: CheckinLimits = current_app.extensions[EXTENSION]
    return found
