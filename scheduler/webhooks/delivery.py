"""At-least-once webhook delivery, endpoints isolated from each other.

Semantics. A delivery is claimed (in flight, a claim token, a lease) in one short transaction,
sent outside any transaction, and its outcome recorded in another, guarded by the token. A
worker that dies after claiming leaves a lease that runs out; a later run claims it again. So a
crash after the receiver's 2xx but before the outcome is committed leads to one more delivery
of the same message with the same `webhook-id`, which receivers dedupe on: delivery is at least
once, and never repeated once a 2xx has been committed. Per (subscription, plan), event N+1 is
not sent while event N is pending or in flight; a finally failed N no longer holds N+1 back.

Isolation. Each subscription with due deliveries is drained by one task of a bounded thread
pool (one at a time per endpoint, so per plan too), while the run keeps looking for newly due
endpoints: a slow or dead receiver holds only its own task, never another endpoint's
deliveries. Its breaker (scheduler/webhooks/health.py) opens after consecutive failures and
the rest of its claimed batch is handed back unsent.
"""

from __future__ import annotations

import functools
import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler import metrics
from scheduler.db import UnitOfWork
from scheduler.log_setup import get_logger
from scheduler.webhooks import claims, health
from scheduler.webhooks.addresses import Refused, vet
from scheduler.webhooks.health import Policy, jittered
from scheduler.webhooks.signing import signed_headers
from scheduler.webhooks.transport import Sender, Sent, http_send

log = get_logger("cadence.webhooks")

# Waits after failed attempt 1, 2, ...: the last attempt comes 34 h 12 min 30 s after the first.
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (
    30, 2 * 60, 10 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 12 * 3600))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
BATCH = 20  # claimed per endpoint task: sent one after the other to that endpoint
LEASE = timedelta(minutes=10)  # > BATCH x (connect + read timeout), with room to spare
WORKERS = 8  # endpoints sent to at once
POLL = 0.2  # seconds between looks for newly due endpoints while some are being sent to
# Claim tokens of this process whose outcomes could not be stored (the database went away
# mid-batch): the next run hands them back at once instead of waiting for their lease.
_broken: set[str] = set()
_broken_lock = threading.Lock()


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


def retry_at(attempt: int, now: datetime,
             rand: Callable[[], float] = random.random) -> datetime | None:
    """When to try again after failed attempt number `attempt` (1-based), with jitter;
    None: give up."""
    if attempt >= MAX_ATTEMPTS:
        return None
    return now + jittered(RETRY_DELAYS[attempt - 1], rand)


def _attempt(send: Sender, item: claims.Claimed, at: datetime,
             policy: Policy) -> tuple[Sent | None, str | None]:
    """Vet the URL again (DNS rebinding) and send once: (answer, None) on a response,
    (None, note) when none came or the address was refused."""
    try:
        target = vet(item.url, allow_private=policy.allow_private, resolve=policy.resolve)
    except Refused as refused:
        return None, _printable(f"Refused: {refused}")
    headers = signed_headers(item.secrets, msg_id=item.msg_id, at=at, body=item.body)
    try:
        answer = send(target, headers, item.body)
        return (answer if isinstance(answer, Sent) else Sent(answer)), None
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


@dataclass
class _Run:
    """One deliver_due run: its clock, settings and counts (shared by the endpoint tasks)."""

    uow_factory: Callable[[], UnitOfWork]
    now: datetime
    send: Sender
    batch: int
    lease: timedelta
    policy: Policy
    rand: Callable[[], float]
    started: float
    counts: dict[str, int]
    lock: threading.Lock

    def at(self) -> datetime:
        """The run's `now` plus the time it has taken so far."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def drain(self, webhook_id: str) -> int:
        """Claim a batch of the endpoint's due deliveries and send them in order; stop (and
        hand the rest back) when its breaker opens or it is disabled."""
        token = secrets.token_hex(16)
        elapsed = timedelta(seconds=time.monotonic() - self.started)
        with self.uow_factory() as uow:
            claimed = claims.claim(uow.session, token=token, now=self.at(), batch=self.batch,
                                   lease=elapsed + self.lease, max_attempts=MAX_ATTEMPTS,
                                   webhook_id=webhook_id)
            uow.commit()
        try:
            for n, item in enumerate(claimed):
                if self.deliver(item, token).stop:
                    with self.uow_factory() as uow:
                        claims.release(uow.session, claimed[n + 1:], token=token)
                        uow.commit()
                    break
        except Exception:  # not BaseException: a process that dies remembers nothing
            with _broken_lock:
                _broken.add(token)
            raise
        return len(claimed)

    def deliver(self, item: claims.Claimed, token: str) -> health.Health:
        sent_at = self.at()  # signed with the real send time: never stale in a long run
        answer, error = _attempt(self.send, item, sent_at, self.policy)
        code = answer.status if answer else None
        ok, gone = code is not None and 200 <= code < 300, code == 410
        again = None if ok else sent_at if gone else retry_at(item.attempt, sent_at, self.rand)
        wait_asked = answer.retry_after if answer and not ok else None
        if again is not None and wait_asked is not None:
            again = max(again, sent_at + min(timedelta(seconds=wait_asked),
                                             health.MAX_RETRY_AFTER))
        with self.uow_factory() as uow:
            kept = claims.record(uow.session, item, token=token, now=sent_at, ok=ok,
                                 status_code=code, note=_note(code, error), retry_at=again)
            state = health.after_attempt(uow.session, item.webhook_id, at=sent_at, ok=ok,
                                         gone=gone, retry_after=wait_asked,
                                         policy=self.policy, rand=self.rand)
            uow.commit()
        outcome = ("lost" if not kept else "succeeded" if ok
                   else "retrying" if again else "failed")
        with self.lock:
            self.counts[outcome] += 1
        metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
        log.info("webhook attempt", subscription=item.webhook_id, message_id=item.msg_id,
                 delivery=item.id, attempt=item.attempt, status=code, outcome=outcome,
                 request_id=item.request_id, note=None if ok else _note(code, error))
        if state.disabled:
            log.warning("webhook subscription disabled", subscription=item.webhook_id,
                        reason=state.disabled)
        elif state.breaker_until:
            log.info("webhook endpoint backed off", subscription=item.webhook_id,
                     until=state.breaker_until.isoformat())
        return state


def hand_back_broken(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    """Hand back this process's claims broken off by a failure (due again at `now`)."""
    with _broken_lock:
        tokens = set(_broken)
    if not tokens:
        return 0
    with uow_factory() as uow:
        handed = claims.hand_back(uow.session, now=now, tokens=tokens)
        uow.commit()
    with _broken_lock:
        _broken.difference_update(tokens)
    if handed:
        log.info("webhook claims handed back", deliveries=handed)
    return handed


def hand_back_all(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    """A newly elected leader's first step: every in-flight claim is the previous leader's
    (killed, or cut off by an outage: its outcomes are no longer stored, the token check
    refuses them), so it is due again now rather than when its lease runs out."""
    with uow_factory() as uow:
        handed = claims.hand_back(uow.session, now=now)
        uow.commit()
    if handed:
        log.info("webhook claims of the previous leader handed back", deliveries=handed)
    return handed


def deliver_due(uow_factory: Callable[[], UnitOfWork], *, now: datetime,
                send: Sender | None = None, batch: int = BATCH, lease: timedelta = LEASE,
                policy: Policy | None = None, workers: int = WORKERS,
                rand: Callable[[], float] = random.random, poll: float = POLL,
                max_rounds: int = 100_000) -> RunReport:
    """Deliver everything due, endpoint by endpoint in parallel, until nothing is due.

    2xx succeeds; 410 disables the subscription (the delivery waits for it to be enabled);
    any other status, a timeout, a connection error or a refused address is retried after
    RETRY_DELAYS (with jitter; later if the receiver's Retry-After says so); the last failed
    attempt marks it failed. The run stops looking for due endpoints once half the lease has
    passed, then waits for its tasks. `now` is the run's start; due-ness, attempt times and
    the `webhook-timestamp` are `now` plus the time the run has taken so far.
    """
    policy = policy or Policy()
    if send is None:  # the real sender, with the policy's timeouts
        send = functools.partial(http_send, connect_timeout=policy.connect_timeout,
                                 read_timeout=policy.read_timeout)
    run = _Run(uow_factory, now, send, batch, lease, policy, rand,
               time.monotonic(), {"succeeded": 0, "retrying": 0, "failed": 0, "lost": 0},
               threading.Lock())
    hand_back_broken(uow_factory, now)
    busy: dict[str, Future[int]] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks") as pool:
        try:
            for _ in range(max_rounds):
                if time.monotonic() - run.started <= lease.total_seconds() / 2:
                    with uow_factory() as uow:
                        claims.fail_abandoned(uow.session, now=run.at(),
                                              max_attempts=MAX_ATTEMPTS)
                        due = claims.due_endpoints(uow.session, now=run.at(),
                                                   max_attempts=MAX_ATTEMPTS)
                        uow.commit()
                    for webhook_id in due:
                        if webhook_id not in busy and len(busy) < workers:
                            busy[webhook_id] = pool.submit(run.drain, webhook_id)
                if not busy:
                    break
                wait(list(busy.values()), timeout=poll, return_when=FIRST_COMPLETED)
                claimed_none = False
                for webhook_id, task in list(busy.items()):
                    if task.done():
                        del busy[webhook_id]
                        claimed_none |= task.result() == 0  # a task's crash is the run's
                if claimed_none:  # due, but another worker holds its rows: do not spin
                    time.sleep(poll)
        finally:
            for task in busy.values():
                task.cancel()
    return RunReport(**run.counts)
