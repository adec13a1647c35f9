"""Staff accounts of the web app: create, read, change, and sign in with a password.

Passwords are hashed with argon2id (argon2-cffi); only the hash is stored. Five wrong
passwords for one account within 15 minutes lock it for 15 minutes; while locked, even the
right password is refused with the same answer as a wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic, StaffAccount, StaffLoginFailure, WebSession
from scheduler.services import audit
from scheduler.services.common import Actor, Page, paginate

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap keeps a request from costing seconds
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)

_hasher = PasswordHasher()  # argon2id, RFC 9106's low-memory profile
# Verified when the email is unknown, so that an unknown account takes as long as a known one.
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


class StaffRole(StrEnum):
    FRONT_DESK = "front_desk"
    PHYSIOTHERAPIST = "physiotherapist"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff account as the web layer sees it (never the password hash)."""

    id: str
    email: str
    name: str
    role: str
    clinic_ids: tuple[str, ...]
    disabled: bool


def view(row: StaffAccount) -> StaffUser:
    return StaffUser(id=row.id, email=row.email, name=row.name, role=row.role,
                     clinic_ids=tuple(sorted(c.id for c in row.clinics)),
                     disabled=row.disabled_at is not None)


def _snapshot(user: StaffUser) -> dict[str, object]:
    # No email: the audit trail is read by physiotherapists and exported; the id is enough.
    return {"id": user.id, "role": user.role, "clinic_ids": list(user.clinic_ids),
            "disabled": user.disabled}


def email_key(email: str) -> str:
    """The case-insensitive form emails are unique in."""
    return email.strip().casefold()


def password_errors(password: str) -> list[str]:
    """Why `password` is not acceptable (empty: it is)."""
    if len(password) < MIN_PASSWORD:
        return [f"Must be at least {MIN_PASSWORD} characters."]
    if len(password) > MAX_PASSWORD:
        return [f"Must be at most {MAX_PASSWORD} characters."]
    return []


def _field_errors(*, email: str | None = None, name: str | None = None,
                  role: str | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if email is not None:
        address = email.strip()
        local, at, domain = address.partition("@")
        if not (at and local and "." in domain and len(address) <= 254
                and address.isprintable() and " " not in address):
            errors["email"] = ["Not an email address."]
    if name is not None and not (name.strip() and len(name) <= 200 and name.isprintable()):
        errors["name"] = ["Must be 1 to 200 printable characters."]
    if role is not None and role not in {r.value for r in StaffRole}:
        errors["role"] = [f"Must be one of: {', '.join(r.value for r in StaffRole)}."]
    return errors


def _clinics(uow: UnitOfWork, wanted: Iterable[str],
             errors: dict[str, list[str]]) -> list[Clinic]:
    ids = sorted(set(wanted))
    found = list(uow.session.scalars(select(Clinic).where(Clinic.id.in_(ids))))
    missing = sorted(set(ids) - {c.id for c in found})
    if missing:
        errors.setdefault("clinic_ids", []).append(f"Unknown clinic(s): {', '.join(missing)}.")
    return found


def create_staff(uow: UnitOfWork, *, email: str, name: str, role: str,
                 clinic_ids: Iterable[str] = (), password: str | None = None,
                 actor: Actor, now: datetime) -> StaffUser:
    """A new staff account; without `password` it cannot sign in until one is set.
    Front desk and physiotherapists need at least one clinic (admins may have none)."""
    errors = _field_errors(email=email, name=name, role=role)
    wanted = list(clinic_ids)
    if role != StaffRole.ADMIN and not wanted and "role" not in errors:
        errors["clinic_ids"] = ["At least one clinic is required for this role."]
    if password is not None and password_errors(password):
        errors["password"] = password_errors(password)
    with uow:
        clinics = _clinics(uow, wanted, errors)
        if errors:
            raise ValidationFailed(errors)
        key = email_key(email)
        existing = uow.session.scalar(select(StaffAccount.id).where(StaffAccount.email_key == key))
        if existing is not None:
            raise ValidationFailed.single("email", "A staff user with this email exists.")
        row = StaffAccount(id=new_id("stf"), email=email.strip(), email_key=key,
                           name=name.strip(), role=role,
                           password_hash=_hasher.hash(password) if password else None,
                           locked_until=None, disabled_at=None, created_at=now, clinics=clinics)
        uow.session.add(row)
        uow.flush()
        user = view(row)
        audit.record(uow.session, at=now, actor=actor, action="staff.created",
                     after=_snapshot(user))
        uow.commit()
        return user


def get_staff(uow: UnitOfWork, staff_id: str) -> StaffUser:
    """One staff account (NotFound if there is none)."""
    with uow:
        row = uow.session.get(StaffAccount, staff_id)
        if row is None:
            raise NotFound("staff user", staff_id)
        return view(row)


def list_staff(uow: UnitOfWork, *, limit: int = 50, cursor: str | None = None) -> Page[StaffUser]:
    """Every staff account, disabled ones too, oldest first."""
    with uow:
        return paginate(uow.session, select(StaffAccount), StaffAccount, limit=limit,
                        cursor=cursor, convert=view)


def _fail(uow: UnitOfWork, row: StaffAccount | None, reason: str, now: datetime) -> None:
    """Record a failed sign-in (audit; for a known account also the lockout count)."""
    staff_id = row.id if row is not None else None
    if row is not None and reason == "wrong_password":
        uow.session.add(StaffLoginFailure(id=new_id("lgf"), staff_id=row.id, at=now))
        uow.flush()
        recent = uow.session.scalar(
            select(func.count()).select_from(StaffLoginFailure)
            .where(StaffLoginFailure.staff_id == row.id,
                   StaffLoginFailure.at > now - FAILURE_WINDOW)) or 0
        if recent >= MAX_FAILURES:
            row.locked_until = now + LOCK_FOR
            uow.session.execute(delete(StaffLoginFailure)
                                .where(StaffLoginFailure.staff_id == row.id))
            reason = "wrong_password_locked"
    # The attempted email is not recorded: people type passwords into the email field.
    audit.record(uow.session, at=now, actor=Actor(key_id=None, name="web:sign-in"),
                 action="staff.sign_in_failed", after={"staff_id": staff_id, "reason": reason})
    uow.commit()


def authenticate(uow: UnitOfWork, *, email: str, password: str,
                 now: datetime) -> StaffUser | None:
    """The account whose email and password these are, or None: unknown email, wrong
    password, locked, disabled or no password set (the caller says the same for each).
    Every failure is written to the audit trail; a success clears the failure count."""
    with uow:
        row = uow.session.scalar(
            select(StaffAccount).where(StaffAccount.email_key == email_key(email)))
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        try:
            matches = len(password) <= MAX_PASSWORD and _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            matches = False
        if row is None:
            _fail(uow, None, "unknown_account", now)
            return None
        if row.locked_until is not None and row.locked_until > now:
            _fail(uow, row, "locked", now)
            return None
        if row.disabled_at is not None:
            _fail(uow, row, "disabled", now)
            return None
        if not matches or row.password_hash is None:
            _fail(uow, row, "wrong_password" if row.password_hash else "no_password", now)
            return None
        uow.session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.staff_id == row.id))
        row.locked_until = None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        user = view(row)
        audit.record(uow.session, at=now, actor=Actor(key_id=None, name=f"staff:{user.id}"),
                     action="staff.signed_in", after={"staff_id": user.id})
        uow.commit()
        return user


def set_password(uow: UnitOfWork, staff_id: str, password: str, *, actor: Actor,
                 now: datetime) -> StaffUser:
    """Replace the password (and lift a lockout); the account's sessions end."""
    if password_errors(password):
        raise ValidationFailed({"password": password_errors(password)})
    with uow:
        row = uow.session.get(StaffAccount, staff_id)
        if row is None:
            raise NotFound("staff user", staff_id)
        row.password_hash = _hasher.hash(password)
        row.locked_until = None
        uow.session.execute(delete(StaffLoginFailure).where(StaffLoginFailure.staff_id == row.id))
        uow.session.execute(delete(WebSession).where(WebSession.staff_id == row.id))
        user = view(row)
        audit.record(uow.session, at=now, actor=actor, action="staff.password_set",
                     after={"staff_id": user.id})
        uow.commit()
        return user


def update_staff(uow: UnitOfWork, staff_id: str, *, name: str | None = None,
                 role: str | None = None, clinic_ids: Iterable[str] | None = None,
                 disabled: bool | None = None, actor: Actor, now: datetime) -> StaffUser:
    """Change name, role, clinics or disabled; disabling ends every session of the account."""
    errors = _field_errors(name=name, role=role)
    with uow:
        row = uow.session.get(StaffAccount, staff_id)
        if row is None:
            raise NotFound("staff user", staff_id)
        clinics = _clinics(uow, clinic_ids, errors) if clinic_ids is not None else row.clinics
        new_role = role if role is not None else row.role
        if new_role != StaffRole.ADMIN and not clinics and "clinic_ids" not in errors:
            errors["clinic_ids"] = ["At least one clinic is required for this role."]
        if errors:
            raise ValidationFailed(errors)
        before = view(row)
        if name is not None:
            row.name = name.strip()
        row.role = new_role
        row.clinics = list(clinics)
        if disabled is not None:
            row.disabled_at = (row.disabled_at or now) if disabled else None
        uow.flush()
        after = view(row)
        if after.disabled or after.role != before.role or after.clinic_ids != before.clinic_ids:
            # What a session may do was decided at sign-in: a change of powers signs out.
            uow.session.execute(delete(WebSession).where(WebSession.staff_id == row.id))
        if after != before:
            audit.record(uow.session, at=now, actor=actor, action="staff.updated",
                         before=_snapshot(before), after=_snapshot(after))
        uow.commit()
        return after


def disable_staff(uow: UnitOfWork, staff_id: str, *, actor: Actor, now: datetime) -> StaffUser:
    """Disable the account at once: it cannot sign in and its sessions end."""
    return update_staff(uow, staff_id, disabled=True, actor=actor, now=now)

