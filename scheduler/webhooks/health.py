"""Endpoint health: the circuit breaker, Retry-After, and disabling a subscription (410 Gone,
or failing for WEBHOOK_DISABLE_AFTER_HOURS). Svix's model: back off the endpoint, not each
message, so a dead receiver costs one probe per breaker period instead of one per message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Webhook
from scheduler.webhooks.addresses import Resolver, system_resolve

BREAKER_THRESHOLD = 5  # consecutive failed attempts (across messages) that open the breaker
BREAKER_BASE = timedelta(seconds=30)  # first open period; doubles with every further failure
BREAKER_MAX = timedelta(hours=1)  # so a failing endpoint is still probed at least hourly
MAX_RETRY_AFTER = timedelta(hours=24)  # a receiver cannot park its endpoint for longer
JITTER = 0.2  # waits are stretched by up to 20 %, so retries of many messages spread out
GONE = "The receiver answered 410 Gone."


@dataclass(frozen=True, slots=True)
class Policy:
    """How delivery treats endpoints: the SSRF setting, the resolver, when to disable."""

    allow_private: bool = False  # WEBHOOK_ALLOW_PRIVATE_NETWORKS
    disable_after: timedelta = timedelta(hours=120)  # WEBHOOK_DISABLE_AFTER_HOURS
    breaker_threshold: int = BREAKER_THRESHOLD
    connect_timeout: float = 5.0  # seconds, WEBHOOK_CONNECT_TIMEOUT_MS
    read_timeout: float = 10.0  # seconds, WEBHOOK_READ_TIMEOUT_MS
    resolve: Resolver = field(default=system_resolve)


@dataclass(frozen=True, slots=True)
class Health:
    """The endpoint after an attempt: whether to stop sending to it now, and why."""

    stop: bool = False
    disabled: str | None = None  # the reason, when this attempt disabled the subscription
    breaker_until: datetime | None = None


def jittered(wait: timedelta, rand: Callable[[], float]) -> timedelta:
    """`wait` stretched by a random 0 to JITTER of itself."""
    return wait * (1 + JITTER * rand())


def after_attempt(session: Session, webhook_id: str, *, at: datetime, ok: bool, gone: bool,
                  retry_after: float | None, policy: Policy,
                  rand: Callable[[], float]) -> Health:
    """Update the endpoint's health with one attempt's outcome (the caller commits)."""
    hook = session.execute(select(Webhook).where(Webhook.id == webhook_id)
                           .with_for_update()).scalar_one_or_none()
    if hook is None:
        return Health(stop=True)
    if ok:
        hook.consecutive_failures, hook.failing_since, hook.breaker_until = 0, None, None
        return Health()
    hook.consecutive_failures += 1
    hook.failing_since = hook.failing_since or at
    if gone:
        return _disable(hook, at, GONE)
    if at - hook.failing_since >= policy.disable_after:
        hours = policy.disable_after.total_seconds() / 3600
        return _disable(hook, at, f"Deliveries failed for {hours:g} hours "
                                  f"(since {hook.failing_since.isoformat()}).")
    until = None
    if hook.consecutive_failures >= policy.breaker_threshold:
        doublings = min(hook.consecutive_failures - policy.breaker_threshold, 16)
        until = at + jittered(min(BREAKER_BASE * 2 ** doublings, BREAKER_MAX), rand)
    if retry_after is not None:
        asked = at + min(timedelta(seconds=retry_after), MAX_RETRY_AFTER)
        until = max(until or asked, asked)
    if until is None:
        return Health()
    hook.breaker_until = until
    return Health(stop=True, breaker_until=until)


def _disable(hook: Webhook, at: datetime, reason: str) -> Health:
    hook.enabled, hook.disabled_at, hook.disabled_reason = False, at, reason
    hook.breaker_until = None
    return Health(stop=True, disabled=reason)
