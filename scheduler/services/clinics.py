"""Clinic services: create, read, list and update a clinic's calendar and ruleset."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

import rules
from scheduler.calendar import (
    CalendarConfigError,
    ClinicCalendar,
    parse_region,
    validate_timezone,
    validate_weekdays,
)
from scheduler.db import UnitOfWork
from scheduler.errors import NotFound, PreconditionFailed, ValidationFailed
from scheduler.ids import new_id
from scheduler.models import Clinic, Ruleset
from scheduler.services import audit, rulesets
from scheduler.services.common import (
    Actor,
    Expected,
    Page,
    Scope,
    in_scope,
    paginate,
    version_matches,
)

DEFAULT_RULESET = "ims-default@1"
BUILTIN_RULESETS = frozenset(rulesets.BUILTIN)  # ims-default@1, from the rules package
EDITABLE = frozenset({"name", "timezone", "open_weekdays", "holiday_region", "closures", "ruleset"})


@dataclass(frozen=True, slots=True)
class ClinicView:
    id: str
    name: str
    timezone: str
    open_weekdays: tuple[int, ...]
    holiday_region: str | None
    closures: tuple[date, ...]
    ruleset: str
    version: int
    created_at: datetime
    updated_at: datetime

    def calendar(self) -> ClinicCalendar:
        return ClinicCalendar(self.timezone, self.open_weekdays, self.closures, self.holiday_region)


def _view(row: Clinic) -> ClinicView:
    return ClinicView(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        open_weekdays=tuple(row.open_weekdays),
        holiday_region=row.holiday_region,
        closures=tuple(date.fromisoformat(d) for d in row.closures),
        ruleset=row.ruleset,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _snapshot(view: ClinicView) -> dict[str, Any]:
    data = asdict(view)
    data["closures"] = [d.isoformat() for d in view.closures]
    data["open_weekdays"] = list(view.open_weekdays)
    for key in ("created_at", "updated_at"):
        data[key] = data[key].isoformat()
    return data


def _check(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not str(values["name"]).strip():
        errors["name"] = ["Must not be blank."]
    checks: list[tuple[Callable[[Any], object], Any]] = [
        (validate_timezone, values["timezone"]), (validate_weekdays, values["open_weekdays"])]
    if values["holiday_region"] is not None:
        checks.append((parse_region, values["holiday_region"]))
    for check, value in checks:
        try:
            check(value)
        except CalendarConfigError as exc:
            errors.setdefault(exc.field, []).append(exc.message)
    try:  # the one ruleset-id grammar, the rules package's
        ruleset_key = rules.parse_ruleset_id(values["ruleset"])
    except rules.InvalidRuleset:
        errors["ruleset"] = ["Expected `name@version`, e.g. ims-default@1."]
    else:
        if values["ruleset"] not in BUILTIN_RULESETS and uow.session.get(
                Ruleset, ruleset_key) is None:
            errors["ruleset"] = [f"Unknown ruleset {values['ruleset']!r}."]
    if errors:
        raise ValidationFailed(errors)


def _closures(days: Iterable[date]) -> list[str]:
    return sorted({d.isoformat() for d in days})


def create_clinic(
    uow: UnitOfWork,
    *,
    name: str,
    timezone: str,
    open_weekdays: Iterable[int],
    closures: Iterable[date] = (),
    holiday_region: str | None = None,
    ruleset: str = DEFAULT_RULESET,
    actor: Actor,
    now: datetime,
) -> ClinicView:
    """Validate and store a new clinic; audited as `clinic.created`."""
    weekdays, days = list(open_weekdays), list(closures)
    values: dict[str, Any] = {
        "name": name, "timezone": timezone, "open_weekdays": weekdays,
        "closures": days, "holiday_region": holiday_region, "ruleset": ruleset,
    }
    with uow:
        _check(uow, values)
        row = Clinic(
            id=new_id("cln"), name=name.strip(), timezone=timezone,
            open_weekdays=sorted(weekdays), holiday_region=holiday_region,
            closures=_closures(days), ruleset=ruleset,
            created_at=now, updated_at=now,
        )
        uow.session.add(row)
        uow.flush()
        view = _view(row)
        audit.record(uow.session, at=now, actor=actor, action="clinic.created",
                     clinic_id=row.id, after=_snapshot(view))
        uow.commit()
        return view


def _load(uow: UnitOfWork, clinic_id: str, scope: Scope) -> Clinic:
    row = uow.session.get(Clinic, clinic_id) if in_scope(scope, clinic_id) else None
    if row is None:
        raise NotFound("clinic", clinic_id)
    return row


def get_clinic(uow: UnitOfWork, clinic_id: str, *, scope: Scope = None) -> ClinicView:
    """One clinic; NotFound if missing or outside `scope`."""
    with uow:
        return _view(_load(uow, clinic_id, scope))


def list_clinics(
    uow: UnitOfWork, *, scope: Scope = None, limit: int = 50, cursor: str | None = None
) -> Page[ClinicView]:
    """Clinics visible in `scope`, oldest first."""
    query = select(Clinic)
    if scope is not None:
        query = query.where(Clinic.id.in_(sorted(scope)))
    with uow:
        return paginate(uow.session, query, Clinic, limit=limit, cursor=cursor, convert=_view)


def update_clinic(
    uow: UnitOfWork,
    clinic_id: str,
    *,
    expected_version: Expected,
    changes: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    scope: Scope = None,
) -> ClinicView:
    """Apply `changes` if the clinic is still at `expected_version` (None: any); audited."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed({field: ["Unknown field."] for field in sorted(unknown)})
    with uow:
        row = _load(uow, clinic_id, scope)
        if not version_matches(expected_version, row.version):
            raise PreconditionFailed("clinic", clinic_id, expected_version, row.version)
        before = _view(row)
        values = {field: getattr(before, field) for field in EDITABLE} | dict(changes)
        _check(uow, values)
        row.name = str(values["name"]).strip()
        row.timezone = values["timezone"]
        row.open_weekdays = sorted(values["open_weekdays"])
        row.holiday_region = values["holiday_region"]
        row.closures = _closures(values["closures"])
        row.ruleset = values["ruleset"]
        row.updated_at = now
        try:
            uow.flush()
        except StaleDataError:
            raise PreconditionFailed(
                "clinic", clinic_id, before.version, before.version + 1
            ) from None
        after = _view(row)
        audit.record(uow.session, at=now, actor=actor, action="clinic.updated",
                     clinic_id=clinic_id, before=_snapshot(before), after=_snapshot(after))
        uow.commit()
        return after
