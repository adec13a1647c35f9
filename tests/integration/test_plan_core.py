"""The plan write path reads plans as plain `PlanRecord`s through Core: they must carry every
column of `plans`, and what `apply` leaves in the record must be what it stored."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

import rules
from scheduler.errors import NotFound
from scheduler.models import Plan
from scheduler.services.plan_core import apply, load
from scheduler.store.plans import PlanRecord
from tests import builders
from tests.builders import ACTOR


def test_a_plan_record_has_exactly_the_columns_of_plans():
    assert list(PlanRecord.__dataclass_fields__) == [c.name for c in Plan.__table__.columns]


def test_the_record_after_a_write_is_the_stored_row(uow_factory, now):
    plan = builders.plan(uow_factory, now)
    later = now + timedelta(days=3)
    uow = uow_factory()
    with uow:
        loaded = load(uow.session, plan.id, None, lock=True)
        apply(uow.session, loaded, rules.ProgressReport(later, pain=4, function=6),
              now=later, actor=ACTOR, action="plan.report_recorded")
        uow.commit()
    written = dataclasses.asdict(loaded.row)
    uow = uow_factory()
    with uow:
        reread = dataclasses.asdict(load(uow.session, plan.id, None).row)
    assert written == reread
    assert reread["version"] == plan.version + 1 and reread["updated_at"] == later


def test_a_plan_outside_the_scope_is_not_found_and_unchanged(uow_factory, now):
    """(That it is not even locked is shown on PostgreSQL, where a row lock can be held by
    another session: tests/api/test_plan_tenancy_api.py.)"""
    plan = builders.plan(uow_factory, now)
    uow = uow_factory()
    with uow, pytest.raises(NotFound):
        load(uow.session, plan.id, frozenset({"cln_other"}), lock=True)
    uow = uow_factory()
    with uow:
        assert load(uow.session, plan.id, None).row.version == plan.version
