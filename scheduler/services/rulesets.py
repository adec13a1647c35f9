"""Rulesets: the built-in `ims-default@1` plus validated versions stored by admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from scheduler.db import UnitOfWork
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.models import Ruleset as RulesetRow
from scheduler.services import audit
from scheduler.services.common import Actor

BUILTIN = {rules.DEFAULT_RULESET.id: rules.DEFAULT_RULESET}
# parameter -> (kind "int" | "num" | "weeks", low, high, meaning): for the HTTP schema
PARAMETER_SPEC: dict[str, tuple[str, float, float, str]] = dict(rules.SPEC)
_cache: dict[str, rules.Ruleset] = dict(BUILTIN)  # versions are immutable: safe to cache


def forget_stored() -> None:
    """Empty the cache of stored rulesets (versions are immutable and never deleted in
    service; a test suite that empties its database between tests calls this)."""
    _cache.clear()
    _cache.update(BUILTIN)


def resolve(session: Session, ruleset_id: str) -> rules.Ruleset:
    """The ruleset called `name@version`; NotFound when no such version is stored."""
    found = _cache.get(ruleset_id)
    if found is not None:
        return found
    try:
        name, version = rules.parse_ruleset_id(ruleset_id)
    except rules.InvalidRuleset:
        raise NotFound("ruleset", ruleset_id) from None
    row = session.get(RulesetRow, (name, version))
    if row is None:
        raise NotFound("ruleset", ruleset_id)
    found = _cache[ruleset_id] = rules.load_ruleset(row.body)
    return found


def list_rulesets(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every ruleset, built-in first, then stored ones by name and version."""
    with uow:
        rows = uow.session.scalars(select(RulesetRow).order_by(RulesetRow.name,
                                                                RulesetRow.version)).all()
        stored = [rules.load_ruleset(row.body) for row in rows]
    return [_view(rs) for rs in (*BUILTIN.values(), *stored)]


def get_ruleset(uow: UnitOfWork, ruleset_id: str) -> dict[str, Any]:
    with uow:
        return _view(resolve(uow.session, ruleset_id))


def add_ruleset(uow: UnitOfWork, body: Any, *, actor: Actor, now: datetime) -> dict[str, Any]:
    """Validate and store a new version; 422 naming the parameter, 409 if it exists."""
    try:
        ruleset = rules.load_ruleset(body)
    except rules.InvalidRuleset as exc:
        raise ValidationFailed.single(exc.field, exc.message) from None
    with uow:
        stored = uow.session.get(RulesetRow, (ruleset.name, ruleset.version))
        if ruleset.id in BUILTIN or stored is not None:
            raise Conflict(f"Ruleset {ruleset.id} already exists; versions are immutable, "
                           "add a new version.", existing_id=ruleset.id)
        uow.session.add(RulesetRow(name=ruleset.name, version=ruleset.version,
                                   body=ruleset.to_dict(), created_at=now))
        audit.record(uow.session, at=now, actor=actor, action="ruleset.created",
                     after={"id": ruleset.id})
        uow.commit()
    return _view(ruleset)


def _view(ruleset: rules.Ruleset) -> dict[str, Any]:
    return {"id": ruleset.id, "builtin": ruleset.id in BUILTIN, **ruleset.to_dict()}


def example_body() -> dict[str, Any]:
    """A valid new version (the built-in's parameters as version 2), for API examples."""
    return {**rules.DEFAULT_RULESET.to_dict(), "version": 2}
