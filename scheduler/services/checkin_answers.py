"""A check-in page's answers: the patient's plain-language choices, checked field by field and
turned into a progress report's values (the soreness choices into `soreness_hours`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from scheduler.errors import ValidationFailed

MAX_NOTE = 2000  # the adverse event's description: the API's `adverse_event_note` limit
MAX_NOTES = 5000  # "Anything else?": the API's `notes` limit
MAX_SORENESS_HOURS = 336  # rules.md: soreness 0-336 h


class Soreness(StrEnum):
    """"Soreness after your last session": the six choices, in the page's order."""

    NONE = "none"
    UNDER_24_HOURS = "under_24_hours"
    ONE_TO_TWO_DAYS = "1_2_days"
    TWO_TO_THREE_DAYS = "2_3_days"
    OVER_3_DAYS = "over_3_days"
    STILL_SORE = "still_sore"


SORENESS_LABELS = {Soreness.NONE: "None", Soreness.UNDER_24_HOURS: "Under 24 hours",
                   Soreness.ONE_TO_TWO_DAYS: "1-2 days", Soreness.TWO_TO_THREE_DAYS: "2-3 days",
                   Soreness.OVER_3_DAYS: "More than 3 days", Soreness.STILL_SORE: "Still sore"}

# Each range's middle, so every choice lands on the same side of the rules' thresholds as the
# soreness it stands for: 1-2 days (36 h) allows an increase (<= 48 h), 2-3 days (60 h) does
# not but is not prolonged (<= 72 h), more than 3 days (96 h) is prolonged (> 72 h: rule 3,
# next gap >= 4 days). "Still sore" is the hours since the last session (see `soreness_hours`).
SORENESS_HOURS = {Soreness.NONE: 0, Soreness.UNDER_24_HOURS: 12, Soreness.ONE_TO_TWO_DAYS: 36,
                  Soreness.TWO_TO_THREE_DAYS: 60, Soreness.OVER_3_DAYS: 96}


@dataclass(frozen=True, slots=True)
class Answers:
    """The answers as a report's values (None where the patient left a question out)."""

    pain: int
    function: int | None
    soreness: Soreness | None
    adverse_event: bool
    adverse_event_note: str | None
    notes: str | None


def soreness_hours(choice: Soreness | None, last_session_at: datetime | None,
                   now: datetime) -> int | None:
    """The choice in hours; "still sore" is the whole hours since the last session (capped at
    336), or unknown (None) when no session is recorded."""
    if choice is None:
        return None
    if choice is Soreness.STILL_SORE:
        if last_session_at is None:
            return None
        hours = math.floor((now - last_session_at).total_seconds() / 3600)
        return min(max(hours, 0), MAX_SORENESS_HOURS)
    return SORENESS_HOURS[choice]


def _score(raw: str | None, field: str, label: str, *, required: bool,
           errors: dict[str, list[str]]) -> int | None:
    text = (raw or "").strip()
    if not text:
        if required:
            errors[field] = [f"Choose your {label} from 0 to 10."]
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > 10:
        errors[field] = [f"Your {label} must be a whole number from 0 to 10."]
        return None
    return int(text)


def _text(raw: str | None, field: str, limit: int, errors: dict[str, list[str]]) -> str | None:
    text = (raw or "").strip()
    if len(text) > limit:
        errors[field] = [f"Please keep this to {limit:,} characters or fewer "
                         f"(it has {len(text):,})."]
    return text or None


def parse(form: Mapping[str, str | None], *, tracks_function: bool) -> Answers:
    """The page's fields (`pain`, `function`, `soreness`, `adverse_event` yes/no,
    `adverse_event_note`, `notes`) checked; ValidationFailed names every bad field at once.
    `function` is read only when the plan tracks function (the page shows it only then)."""
    errors: dict[str, list[str]] = {}
    pain = _score(form.get("pain"), "pain", "pain", required=True, errors=errors)
    function = (_score(form.get("function"), "function", "answer", required=False,
                       errors=errors) if tracks_function else None)
    soreness: Soreness | None = None
    raw = (form.get("soreness") or "").strip()
    if raw:
        try:
            soreness = Soreness(raw)
        except ValueError:
            errors["soreness"] = ["Choose one of the answers."]
    adverse = (form.get("adverse_event") or "no").strip()
    if adverse not in ("yes", "no"):
        errors["adverse_event"] = ["Choose yes or no."]
    note = _text(form.get("adverse_event_note"), "adverse_event_note", MAX_NOTE, errors)
    notes = _text(form.get("notes"), "notes", MAX_NOTES, errors)
    if errors:
        raise ValidationFailed(errors, "Some answers need another look.")
    assert pain is not None
    return Answers(pain, function, soreness, adverse == "yes", note, notes)
