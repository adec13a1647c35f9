"""API key services: issue (secret shown once), authenticate, list and revoke.

A key may expire (`expires_at`); authentication records `last_used_at`, at most once a
minute per key (see `needs_touch`), so the hot path reads and does not write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, update

from scheduler.db import UnitOfWork, read_outside_transaction
from scheduler.errors import NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import ApiKey, Clinic, api_key_clinics
from scheduler.services import audit
from scheduler.services.common import Actor, Page, paginate

KEY_PREFIX = "ims"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Role(StrEnum):
    ADMIN = "admin"
    BOOKING_SYSTEM = "booking_system"
    PHYSIOTHERAPIST = "physiotherapist"
    FRONT_DESK = "front_desk"
    MONITORING = "monitoring"  # reads GET /metrics, nothing else; no clinics


UNSCOPED = frozenset({Role.ADMIN, Role.MONITORING})  # keys of these roles name no clinics


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: str
    name: str
    role: Role
    prefix: str
    clinic_ids: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def all_clinics(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: its record and the secret, which is never retrievable again."""

    api_key: ApiKeyView
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id, name=row.name, role=Role(row.role), prefix=row.prefix,
        clinic_ids=tuple(sorted(c.id for c in row.clinics)),
        created_at=row.created_at, revoked_at=row.revoked_at, expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def _snapshot(view: ApiKeyView) -> dict[str, object]:
    return {"id": view.id, "name": view.name, "role": str(view.role),
            "clinic_ids": list(view.clinic_ids),
            "expires_at": view.expires_at.isoformat() if view.expires_at else None,
            "revoked_at": view.revoked_at.isoformat() if view.revoked_at else None}


def create_api_key(
    uow: UnitOfWork,
    *,
    name: str,
    role: str,
    clinic_ids: Iterable[str] = (),
    expires_at: datetime | None = None,
    actor: Actor,
    now: datetime,
) -> IssuedKey:
    """Issue a key; admin keys see every clinic, others need at least one existing clinic.
    `expires_at` (optional, in the future): from then on the key is refused (401)."""
    wanted = sorted(set(clinic_ids))
    errors: dict[str, list[str]] = {}
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        errors["expires_at"] = ["Must be a time in the future, with an offset."]
    if not name.strip():
        errors["name"] = ["Must not be blank."]
    if role not in {r.value for r in Role}:
        errors["role"] = [f"Must be one of: {', '.join(r.value for r in Role)}."]
    elif role in UNSCOPED and wanted:
        errors["clinic_ids"] = [f"{role.capitalize()} keys are not scoped to clinics; "
                                "leave this empty."]
    elif role not in UNSCOPED and not wanted:
        errors["clinic_ids"] = ["At least one clinic is required for this role."]
    with uow:
        clinics = list(uow.session.scalars(select(Clinic).where(Clinic.id.in_(wanted))))
        missing = sorted(set(wanted) - {c.id for c in clinics})
        if missing:
            errors.setdefault("clinic_ids", []).append(f"Unknown clinic(s): {', '.join(missing)}.")
        if errors:
            raise ValidationFailed(errors)
        prefix = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKey(id=new_id("key"), name=name.strip(), role=role, prefix=prefix,
                     key_hash=_hash(secret), created_at=now, revoked_at=None,
                     expires_at=expires_at, last_used_at=None, clinics=clinics)
        uow.session.add(row)
        uow.flush()
        view = _view(row)
        audit.record(uow.session, at=now, actor=actor, action="api_key.created",
                     after=_snapshot(view))
        uow.commit()
        return IssuedKey(api_key=view, secret=secret)


# Built once: it runs before every /api/v1 request (statement construction costs more than
# the query itself).
_BY_PREFIX = (select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.prefix, ApiKey.key_hash,
                     ApiKey.created_at, ApiKey.revoked_at, ApiKey.expires_at,
                     ApiKey.last_used_at, api_key_clinics.c.clinic_id)
              .outerjoin(api_key_clinics, api_key_clinics.c.api_key_id == ApiKey.id)
              .where(ApiKey.prefix == bindparam("prefix")))


def authenticate(source: UnitOfWork | Connection, presented: str,
                 now: datetime | None = None) -> ApiKeyView | None:
    """The live key matching `presented`, or None (unknown, malformed, revoked, or expired
    at `now`; without `now` expiry is not checked).

    Runs before every /api/v1 request: one column query. Given a Connection (the API's
    per-request one, which the view then uses) it leaves no transaction open: the request's
    body has not been read yet.
    """
    if not (presented.isascii() and presented.isprintable()):
        return None  # keys are printable ASCII (and PostgreSQL rejects NUL in a parameter)
    parts = presented.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    if isinstance(source, Connection):
        rows: Sequence[Row[Any]] = read_outside_transaction(source, _BY_PREFIX,
                                                            {"prefix": parts[1]})
    else:
        with source:
            rows = source.session.connection().execute(_BY_PREFIX, {"prefix": parts[1]}).all()
    if not rows or rows[0].revoked_at is not None:
        return None
    if now is not None and rows[0].expires_at is not None and rows[0].expires_at <= now:
        return None
    if not hmac.compare_digest(rows[0].key_hash, _hash(presented)):
        return None
    first = rows[0]
    return ApiKeyView(id=first.id, name=first.name, role=Role(first.role), prefix=first.prefix,
                      clinic_ids=tuple(sorted(r.clinic_id for r in rows if r.clinic_id)),
                      created_at=first.created_at, revoked_at=first.revoked_at,
                      expires_at=first.expires_at, last_used_at=first.last_used_at)


def needs_touch(key: ApiKeyView, now: datetime) -> bool:
    """Whether `key`'s last_used_at is a minute or more behind `now` (or never set)."""
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


_TOUCH = (update(ApiKey)
          .where(ApiKey.id == bindparam("key_id"),
                 or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= bindparam("stale")))
          .values(last_used_at=bindparam("now")))


def record_use(uow: UnitOfWork, key_id: str, now: datetime) -> None:
    """Set last_used_at to `now` unless another worker did within the last minute."""
    with uow:
        uow.session.connection().execute(
            _TOUCH, {"key_id": key_id, "now": now, "stale": now - LAST_USED_RESOLUTION})
        uow.commit()


def list_api_keys(
    uow: UnitOfWork, *, limit: int = 50, cursor: str | None = None
) -> Page[ApiKeyView]:
    """Every key, revoked ones included, oldest first."""
    with uow:
        return paginate(uow.session, select(ApiKey), ApiKey, limit=limit, cursor=cursor,
                        convert=_view)


def revoke_api_key(uow: UnitOfWork, key_id: str, *, actor: Actor, now: datetime) -> ApiKeyView:
    """Revoke at once; revoking a revoked key changes nothing."""
    with uow:
        row = uow.session.get(ApiKey, key_id)
        if row is None:
            raise NotFound("api key", key_id)
        if row.revoked_at is None:
            before = _view(row)
            row.revoked_at = now
            uow.flush()
            audit.record(uow.session, at=now, actor=actor, action="api_key.revoked",
                         before=_snapshot(before), after=_snapshot(_view(row)))
            uow.commit()
        return _view(row)
