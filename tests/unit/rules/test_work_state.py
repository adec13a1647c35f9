"""The engine's working copy has exactly PlanState's fields, typed, in order."""

from __future__ import annotations

import dataclasses

import pytest

from rules.state import FIELD_NAMES, Work
from tests.unit.rules.builders import Story


def test_work_has_one_slot_per_plan_state_field_in_order():
    assert tuple(f.name for f in dataclasses.fields(Work)) == FIELD_NAMES
    assert Work.__slots__ == FIELD_NAMES


def test_a_misspelt_attribute_is_an_error_not_a_new_field():
    work = Work.of(Story().visit().report(pain=4).state)
    with pytest.raises(AttributeError):
        work.sesions_in_phase = 3  # type: ignore[attr-defined]


def test_freeze_gives_back_the_state_it_was_made_of():
    state = Story().visit().report(pain=4).state
    assert Work.of(state).freeze() == state
