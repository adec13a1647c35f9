"""At-least-once webhook delivery: due deliveries are claimed, sent signed, and retried.

Semantics. A delivery is claimed (in flight, a claim token, a lease) in one short transaction,
sent outside any transaction, and its outcome recorded in another, guarded by the token. A
worker that dies after claiming leaves a lease that runs out; a later run claims it again. So a
crash after the receiver's 2xx but before the outcome is committed leads to one more delivery
of the same message with the same `webhook-id`, which receivers dedupe on: delivery is at least
once, and never repeated once a 2xx has been committed. Per (subscription, plan), event N+1 is
not sent while event N is pending or in flight; a finally failed N no longer holds N+1 back.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler import metrics
from scheduler.db import UnitOfWork
from scheduler.log_setup import get_logger
from scheduler.webhooks import claims
from scheduler.webhooks.signing import signed_headers
from scheduler.webhooks.transport import Sender, http_send

log = get_logger("cadence.webhooks")

# Waits after failed attempt 1, 2, ...: the last attempt comes 34 h 12 min 30 s after the first.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (
    30, 2 * 60, 10 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 12 * 3600))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
BATCH = 20
LEASE = timedelta(minutes=10)  # > BATCH x (connect + read timeout), with room to spare


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one deliver_due run did."""

    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # outcomes not stored: the lease ran out and another run claimed the delivery

    @property
    def attempted(self) -> int:
        return self.succeeded + self.retrying + self.failed + self.lost


def retry_at(attempt: int, now: datetime) -> datetime | None:
    """When to try again after failed attempt number `attempt` (1-based); None: give up."""
    return now + RETRY_DELAYS[attempt - 1] if attempt < MAX_ATTEMPTS else None


def _attempt(send: Sender, item: claims.Claimed, at: datetime) -> tuple[int | None, str | None]:
    """Send once: (status code, None) on a response, (None, note) when none came."""
    headers = signed_headers(item.secret, msg_id=item.msg_id, at=at, body=item.body)
    try:
        return send(item.url, headers, item.body), None
    except TimeoutError as exc:
        return None, _printable(f"Timed out: {exc}")
    except Exception as exc:  # any failure to get a response is a retry, never a crash
        return None, _printable(f"{type(exc).__name__}: {exc}")


def _printable(note: str) -> str:
    """The receiver controls what an exception says (a malformed status line is quoted in
    it): keep the note printable, so a U+0000 cannot make PostgreSQL reject the update."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in note)


def _note(code: int | None, error: str | None) -> str | None:
    if code is None:
        return error
    if 200 <= code < 300:
        return None
    if 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed."
    return f"HTTP {code}"


def deliver_due(uow_factory: Callable[[], UnitOfWork], *, now: datetime,
                send: Sender = http_send, batch: int = BATCH, lease: timedelta = LEASE,
                max_rounds: int = 1000) -> RunReport:
    """Deliver everything due at `now`, round after round, until nothing is due.

    Each round claims up to `batch` deliveries (the heads of their plans' queues), sends each
    and commits each outcome on its own. 2xx succeeds; any other status, a timeout or a
    connection error is retried after RETRY_DELAYS; the last failed attempt marks it failed.
    A run stops claiming once half the lease has passed, and each claim's lease counts from
    the time the run has reached, so a round of `batch` sends fits in it.
    `now` stamps the run's bookkeeping (attempt times, retries, leases); the `webhook-timestamp`
    is `now` plus the time the run has taken so far.
    """
    counts = {"succeeded": 0, "retrying": 0, "failed": 0, "lost": 0}
    started = time.monotonic()
    for _ in range(max_rounds):
        elapsed = timedelta(seconds=time.monotonic() - started)
        if elapsed > lease / 2:
            break
        token = secrets.token_hex(16)
        with uow_factory() as uow:
            claims.fail_abandoned(uow.session, now=now, max_attempts=MAX_ATTEMPTS)
            claimed = claims.claim(uow.session, token=token, now=now, batch=batch,
                                   lease=elapsed + lease, max_attempts=MAX_ATTEMPTS)
            uow.commit()
        if not claimed:
            break
        for item in claimed:
            # signed with the real send time: a late send in a long run is never stale
            sent_at = now + timedelta(seconds=time.monotonic() - started)
            code, error = _attempt(send, item, sent_at)
            ok = code is not None and 200 <= code < 300
            again = None if ok else retry_at(item.attempt, now)
            with uow_factory() as uow:
                kept = claims.record(uow.session, item, token=token, now=now, ok=ok,
                                     status_code=code, note=_note(code, error), retry_at=again)
                uow.commit()
            outcome = ("lost" if not kept else "succeeded" if ok
                       else "retrying" if again else "failed")
            counts[outcome] += 1
            metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
            log.info("webhook attempt", subscription=item.webhook_id, message_id=item.msg_id,
                     delivery=item.id, attempt=item.attempt, status=code, outcome=outcome,
                     request_id=item.request_id, note=None if ok else _note(code, error))
    return RunReport(**counts)
