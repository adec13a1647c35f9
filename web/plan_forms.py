"""The plan page's forms read into service arguments, with the API's bounds for each field.

A bad field is named in the form's errors (the page shows it beside the field); what the
services check themselves (dates, the engine's rules) comes back as their ValidationFailed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from web.plan_view import PHASES

REASON_MAX = 1000  # the API's `reason`
NOTES_MAX = 5000  # the API's report `notes`
NOTE_MAX = 2000  # adverse-event notes, contact notes
UNITS = ("wk", "d")


class FormErrors(Exception):
    """The form's fields that were refused: name -> messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid form")
        self.errors = errors


class _Reader:
    def __init__(self, form: Mapping[str, str]) -> None:
        self.form = form
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str, max_len: int, *, required: bool = False) -> str | None:
        value = (self.form.get(name) or "").strip()
        if not value:
            if required:
                self.errors[name] = ["Enter a value."]
            return None
        if len(value) > max_len:
            self.errors[name] = [f"At most {max_len} characters."]
        return value

    def number(self, name: str, low: int, high: int, *, required: bool = False) -> int | None:
        raw = (self.form.get(name) or "").strip()
        if not raw:
            if required:
                self.errors[name] = ["Enter a number."]
            return None
        try:
            value = int(raw)
        except ValueError:
            self.errors[name] = [f"A whole number from {low} to {high}."]
            return None
        if not low <= value <= high:
            self.errors[name] = [f"A whole number from {low} to {high}."]
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.form.get(name) or ""
        if not value and not required:
            return None
        if value not in options:
            self.errors[name] = [f"One of {', '.join(options)}."]
            return None
        return value

    def day(self, name: str, *, required: bool = False) -> date | None:
        raw = (self.form.get(name) or "").strip()
        if not raw:
            if required:
                self.errors[name] = ["Enter a date."]
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = ["A date as YYYY-MM-DD."]
            return None

    def done(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.errors:
            raise FormErrors(self.errors)
        return values


def expected_version(form: Mapping[str, str]) -> int:
    """The plan version the form was rendered at (its hidden If-Match value)."""
    raw = form.get("if_match", "")
    if not raw.isdigit():
        raise FormErrors({"form": ["This form has no plan version: reload the page."]})
    return int(raw)


def action(name: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The body of plan action `name` (as the API's POST /plans/{id}/actions takes it),
    without `recorded_at`/`recorded_by`, which the view fills in for consent."""
    read = _Reader(form)
    values: dict[str, Any] = {"action": name,
                              "reason": read.text("reason", REASON_MAX, required=True)}
    if name == "override":
        values["frequency"] = {"frequency": read.number("frequency", 1, 52, required=True),
                               "period": read.number("period", 1, 52, required=True),
                               "period_unit": read.choice("period_unit", UNITS)}
        values["until"] = read.day("until", required=True)
    elif name == "set_phase":
        values["phase"] = read.choice("phase", PHASES)
    return read.done(values)


def report(form: Mapping[str, str]) -> dict[str, Any]:
    """A progress report's fields (without recorded_at: it is recorded now)."""
    read = _Reader(form)
    adverse = form.get("adverse_event") == "yes"
    values = {"pain": read.number("pain", 0, 10, required=True),
              "function": read.number("function", 0, 10),
              "global_change": read.number("global_change", -7, 7),
              "soreness_hours": read.number("soreness_hours", 0, 336),
              "adverse_event": adverse,
              "adverse_event_note": read.text("adverse_event_note", NOTE_MAX),
              "notes": read.text("notes", NOTES_MAX)}
    return read.done(values)


def contact(form: Mapping[str, str], channels: tuple[str, ...],
            outcomes: tuple[str, ...]) -> dict[str, Any]:
    """A contact's fields: channel, outcome, optional note and snooze date."""
    read = _Reader(form)
    # The note's length and the snooze's range are the service's checks (the API's too).
    values = {"channel": read.choice("channel", channels),
              "outcome": read.choice("outcome", outcomes),
              "note": read.text("note", 1_000_000),
              "snooze_until": read.day("snooze_until")}
    return read.done(values)
