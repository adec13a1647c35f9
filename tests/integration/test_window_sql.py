"""The window-state rule has one Python form (rules.window_state) and one SQL form
(scheduler.store.window_sql.conditions); they agree on every boundary, on this database."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

import rules
from scheduler.store import window_sql
from scheduler.store.plans import PLANS
from tests import builders

BASE = date(2026, 11, 2)
INTERVALS = st.one_of(st.integers(1, 120).map(Fraction),
                      st.fractions(min_value=Fraction(1, 7), max_value=120,
                                   max_denominator=7))


def sql_states(connection, plan_id: str, on: date) -> list[rules.WindowState]:
    """Every state whose SQL condition holds for the plan on `on` (exactly one, if sound)."""
    found = window_sql.conditions(on)
    return [state for state, condition in found.items() if connection.execute(
        select(PLANS.c.id).where(PLANS.c.id == plan_id, condition)).first() is not None]


@pytest.mark.slow
def test_sql_and_python_agree_on_every_boundary(uow_factory, now):
    plan = builders.plan(uow_factory, now).id

    @settings(max_examples=60, deadline=None)
    @given(earliest=st.integers(-30, 30), span=st.integers(0, 40), interval=INTERVALS,
           booked=st.one_of(st.none(), st.integers(-45, 60)), windowed=st.booleans())
    def agree(earliest, span, interval, booked, windowed):
        first = BASE + timedelta(days=earliest)
        last = first + timedelta(days=span)
        lapse = rules.lapse_after(last, interval)
        booked_until = BASE + timedelta(days=booked) if booked is not None else None
        columns = {"next_earliest": first if windowed else None,
                   "next_latest": last if windowed else None,
                   "lapse_after": lapse if windowed else None, "booked_until": booked_until}
        # earliest, latest, latest + I (fractional I included), the booking, and either side
        days = {first, last, lapse, last + timedelta(days=int(interval))}
        if booked_until is not None:
            days.add(booked_until)
        probes = sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)})
        with uow_factory() as uow:  # rolled back: every example starts from the same row
            connection = uow.session.connection()
            connection.execute(update(PLANS).where(PLANS.c.id == plan).values(**columns))
            for on in probes:
                expected = rules.window_state(on, columns["next_earliest"],
                                              columns["next_latest"], columns["lapse_after"],
                                              booked_until)
                assert sql_states(connection, plan, on) == [expected], (on, columns)

    agree()
