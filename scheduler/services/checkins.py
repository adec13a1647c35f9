"""Patient check-ins: single-use links a booking system sends to a patient, whose answer is a
progress report. The token (256 random bits) is shown once; only its SHA-256 is stored, so a
database leak reveals no working link. An answer goes through `reports.record_in`, the path of
POST /reports (validation, decision, audit, outbox), and uses the link in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import AlreadyUsed, Conflict, Gone, NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Checkin, Clinic
from scheduler.services import audit, checkin_answers, reports
from scheduler.services.common import Actor, Page, Scope, in_scope, paginate
from scheduler.services.plan_core import load
from scheduler.store import checkins as store
from scheduler.store import plans as plan_store

TOKEN_BYTES = 32
MAX_TOKEN = 100
EXPIRES_DEFAULT_HOURS = 72
EXPIRES_MAX_HOURS = 168
KIND = "check-in"
STATES = ("open", "used", "revoked", "expired")
_DUMMY_HASH = hashlib.sha256(b"no such check-in").hexdigest()


@dataclass(frozen=True, slots=True)
class CheckinView:
    id: str
    plan_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    report_id: str | None
    state: str  # open, used, revoked or expired (as of the read)


@dataclass(frozen=True, slots=True)
class IssuedCheckin:
    """A new link and its token, which is never retrievable again."""

    checkin: CheckinView
    token: str

    @property
    def path(self) -> str:
        return f"/c/{self.token}"


@dataclass(frozen=True, slots=True)
class CheckinPage:
    """What the check-in page may show: nothing about the patient but the last session's day."""

    checkin_id: str
    clinic_name: str
    last_session_date: date | None  # the clinic's local date
    tracks_function: bool


@dataclass(frozen=True, slots=True)
class CheckinResult:
    checkin_id: str
    report_id: str
    decision_id: str
    adverse_event: bool
    on_hold: bool  # the plan is on hold after this answer (an adverse event holds it)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _state(row: Any, now: datetime) -> str:
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "open"


def _view(row: Any, now: datetime) -> CheckinView:
    return CheckinView(row.id, row.plan_id, row.created_at, row.expires_at, row.used_at,
                       row.revoked_at, row.report_id, _state(row, now))


def create_checkin(uow: UnitOfWork, plan_id: str, *,
                   expires_in_hours: int = EXPIRES_DEFAULT_HOURS, actor: Actor, now: datetime,
                   scope: Scope = None) -> IssuedCheckin:
    """A new single-use link for the plan's patient; NotFound outside `scope`, Conflict for a
    discharged plan."""
    if not 1 <= expires_in_hours <= EXPIRES_MAX_HOURS:
        raise ValidationFailed.single("expires_in_hours",
                                      f"Must be between 1 and {EXPIRES_MAX_HOURS}.")
    with uow:
        session = uow.session
        loaded = load(session, plan_id, scope)
        if loaded.state.status is rules.Status.DISCHARGED:
            raise Conflict("The plan is discharged; open a new plan for this patient.")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = Checkin(id=new_id("chk"), plan_id=plan_id, clinic_id=loaded.row.clinic_id,
                      token_hash=_hash(token), created_by=actor.key_id, created_at=now,
                      expires_at=now + timedelta(hours=expires_in_hours), used_at=None,
                      revoked_at=None, report_id=None)
        session.add(row)
        session.flush()
        audit.record(session, at=now, actor=actor, action="checkin.create",
                     clinic_id=row.clinic_id, plan_id=plan_id,
                     after={"id": row.id, "expires_at": row.expires_at.isoformat()})
        view = _view(row, now)
        uow.commit()
        return IssuedCheckin(view, token)


def list_checkins(uow: UnitOfWork, plan_id: str, *, now: datetime, scope: Scope = None,
                  limit: int = 50, cursor: str | None = None) -> Page[CheckinView]:
    """The plan's links, oldest first, each with its state as of `now`."""
    with uow:
        load(uow.session, plan_id, scope)
        query = select(Checkin).where(Checkin.plan_id == plan_id)
        return paginate(uow.session, query, Checkin, limit=limit, cursor=cursor,
                        convert=lambda row: _view(row, now))


def revoke_checkin(uow: UnitOfWork, checkin_id: str, *, actor: Actor, now: datetime,
                   scope: Scope = None) -> None:
    """Revoke a link at once (it is a 410 page from now on); NotFound outside `scope` or when
    already revoked."""
    with uow:
        session = uow.session
        row = session.get(Checkin, checkin_id)
        if row is None or row.revoked_at is not None or not in_scope(scope, row.clinic_id):
            raise NotFound(KIND, checkin_id)
        row.revoked_at = now
        audit.record(session, at=now, actor=actor, action="checkin.revoke",
                     clinic_id=row.clinic_id, plan_id=row.plan_id, before={"id": row.id})
        uow.commit()


def _find(connection: Any, token: str) -> Any:
    """The link of `token`: one NotFound for every wrong token, whatever it looks like. The
    lookup is by the token's hash (an attacker cannot steer it) and the stored hash is then
    compared in constant time, so no answer time tells a near miss from a far one."""
    digest = _hash(token) if 1 <= len(token) <= MAX_TOKEN else _DUMMY_HASH
    row = store.by_hash(connection, digest)
    if row is None or not hmac.compare_digest(row.token_hash, digest) or digest == _DUMMY_HASH:
        raise NotFound(KIND, "-")
    return row


def _usable(row: Any, plan_status: str, now: datetime) -> None:
    """AlreadyUsed, else Gone (revoked, expired, or the plan closed) for a link that is not."""
    state = _state(row, now)
    if state == "used":
        raise AlreadyUsed(KIND, row.id)
    if state != "open":
        raise Gone(KIND, row.id, state)
    if plan_status == rules.Status.DISCHARGED:
        raise Gone(KIND, row.id, "closed")


def _plan_of(connection: Any, row: Any) -> tuple[str, rules.PlanState]:
    plan, _ = plan_store.load(connection, row.plan_id, None)
    return plan.status, rules.state_from_dict(plan.state)


def open_checkin(uow: UnitOfWork, token: str, *, now: datetime) -> CheckinPage:
    """What the page of `token` shows; NotFound (unknown), AlreadyUsed (answered), Gone
    (expired, revoked, plan discharged)."""
    with uow:
        connection = uow.session.connection()
        row = _find(connection, token)
        status, state = _plan_of(connection, row)
        _usable(row, status, now)
        clinic = uow.session.get(Clinic, row.clinic_id)
        assert clinic is not None  # the link's foreign key
        return CheckinPage(row.id, clinic.name, state.last_session_date,
                           state.baseline_function is not None)


def submit_checkin(uow: UnitOfWork, token: str, form: Mapping[str, str | None], *,
                   now: datetime) -> CheckinResult:
    """Record the page's answers as a progress report (actor `patient:checkin:<id>`) and use
    the link, in one transaction; bad answers are a ValidationFailed naming each field and
    record nothing. The errors of `open_checkin` otherwise."""
    with uow:
        session = uow.session
        connection = session.connection()
        row = _find(connection, token)
        status, state = _plan_of(connection, row)
        _usable(row, status, now)
        answers = checkin_answers.parse(form, tracks_function=state.baseline_function is not None)
        report, decision, _, after = reports.record_in(
            session, row.plan_id, recorded_at=now, pain=answers.pain, function=answers.function,
            global_change=None,
            soreness_hours=checkin_answers.soreness_hours(answers.soreness,
                                                          state.last_session_at, now),
            adverse_event=answers.adverse_event, adverse_event_note=answers.adverse_event_note,
            notes=answers.notes, actor=Actor(key_id=None, name=f"patient:checkin:{row.id}"),
            now=now, scope=None)
        if not store.claim(connection, row.id, report.id, now):
            raise AlreadyUsed(KIND, row.id)  # another answer won the race: this one is undone
        uow.commit()
    return CheckinResult(row.id, report.id, decision["id"], answers.adverse_event,
                         after.status is rules.Status.ON_HOLD)
