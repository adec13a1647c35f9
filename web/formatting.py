"""Words for the pages: frequencies, phases, states, flags and dates as staff read them."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask

FLAG_WORDS = {
    "prolonged_soreness": "Prolonged soreness", "discharge_suggested": "Discharge suggested",
    "missed_visits": "Missed visits", "authorization_low": "Authorization low",
    "authorization_exhausted": "Authorization used up", "checkin_suggested": "Check-in suggested",
    "review_suggested": "Review suggested", "do_not_contact": "Do not contact",
}
UNIT_WORDS = {"d": ("day", "days"), "wk": ("week", "weeks")}


def frequency(value: dict[str, Any] | None) -> str:
    """{"frequency": 2, "period": 1, "period_unit": "wk"} -> "2 per week"."""
    if not value:
        return "none"
    one, many = UNIT_WORDS.get(value.get("period_unit", "wk"), ("week", "weeks"))
    period = int(value.get("period", 1))
    return f"{value['frequency']} per {one if period == 1 else f'{period} {many}'}"


def words(value: str | None) -> str:
    """snake_case vocabulary -> words ("assessment_pending" -> "assessment pending")."""
    return (value or "").replace("_", " ")


def flag(value: str) -> str:
    return FLAG_WORDS.get(value, words(value).capitalize())


def day(value: date | datetime | str | None) -> str:
    """A clinic date as read aloud: "Thu 5 Nov 2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return _day(value)


@lru_cache(maxsize=4096)
def _day(value: date) -> str:
    # strftime is ~12 us a call and a page formats up to a few hundred dates, mostly the same
    return f"{value:%a} {value.day} {value:%b %Y}"


def iso_day(value: date | datetime | str | None) -> str:
    """The `datetime` attribute of a <time> for a date: YYYY-MM-DD."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def moment(value: datetime | str | None) -> str:
    """A UTC instant, to the minute: "2026-11-02 17:30 UTC"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:%Y-%m-%d %H:%M} UTC"


def init_app(app: Flask) -> None:
    for name, fn in (("frequency", frequency), ("words", words), ("flag", flag), ("day", day),
                     ("iso_day", iso_day), ("moment", moment)):
        app.add_template_filter(fn, name)
