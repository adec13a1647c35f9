"""A ruleset is data: every clinical threshold of rules.md, validated when loaded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import InvalidRuleset

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VERSION = re.compile(r"[1-9][0-9]{0,8}")

# parameter -> (kind, low, high, meaning); kind: "int", "num" (int or float) or "weeks" (a list).
SPEC: dict[str, tuple[str, float, float, str]] = {
    "mcid_pain_points": ("num", 0, 10, "NPRS points of pain drop for a meaningful change"),
    "mcid_pain_relative": ("num", 0, 1, "relative pain drop for a meaningful change"),
    "mcid_function_points": ("num", 0, 10, "PSFS points of function gain for a meaningful change"),
    "partial_pain_points": ("num", 0, 10, "pain drop for a partial response"),
    "partial_function_points": ("num", 0, 10, "function gain for a partial response"),
    "substantial_relative": ("num", 0, 1, "relative pain drop that counts as substantial"),
    "flare_points": ("num", 0, 10, "pain rise above the phase's lowest that is a flare"),
    "managed_pain_max": ("num", 0, 10, "highest pain that is well managed"),
    "managed_function_min": ("num", 0, 10, "lowest function that is well managed"),
    "severe_pain_min": ("num", 0, 10, "baseline pain from which a condition is severe"),
    "chronic_weeks": ("int", 1, 520, "weeks since onset from which a condition is chronic"),
    "initial_high_per_week": ("int", 1, 7, "initial-phase visits per week for severe cases"),
    "initial_low_per_week": ("int", 1, 7, "initial-phase visits per week otherwise"),
    "initial_review_sessions": ("int", 1, 50, "sessions before slower progress raises frequency"),
    "increase_soreness_max_hours": ("int", 0, 336, "most soreness that still allows an increase"),
    "consistent_reports": ("int", 1, 20, "reports in a row that move a phase"),
    "initial_min_sessions": ("int", 1, 50, "sessions in the initial phase before advancing"),
    "non_responder_sessions": ("int", 1, 50, "sessions after which no change is a non-response"),
    "non_responder_max_sessions": ("int", 1, 50, "sessions without any meaningful report"),
    "middle_start_weeks": ("int", 1, 52, "middle-phase entry interval in weeks"),
    "middle_max_weeks": ("int", 1, 52, "longest middle-phase interval in weeks"),
    "maintenance_start_weeks": ("int", 1, 52, "maintenance entry interval in weeks"),
    "maintenance_steps_weeks": ("weeks", 1, 52, "maintenance interval steps in weeks"),
    "min_gap_days": ("int", 0, 14, "fewest days between two needling sessions"),
    "soreness_window_hours": ("int", 0, 336, "hours after a session when reports are not read"),
    "max_expected_soreness_hours": ("int", 0, 336, "longest expected post-needling soreness"),
    "window_early_factor": ("num", 0.01, 1, "earliest day as a fraction of the interval"),
    "window_late_factor": ("num", 1, 5, "latest day as a multiple of the interval"),
    "missed_visits_in_a_row": ("int", 1, 20, "no-shows in a row that flag missed visits"),
    "authorization_warn_visits": ("int", 0, 50, "visits left from which an authorization is low"),
    "authorization_warn_days": ("int", 0, 90, "days before valid_until an authorization is low"),
    "checkin_after_hours": ("int", 1, 336, "hours after a session a check-in is suggested"),
}
# Parameters added after ims-default@1: a ruleset that predates them reads these defaults,
# so stored rulesets (and their histories' replays) need no new version (rules.md 21-24).
LATER_DEFAULTS: dict[str, Any] = {"authorization_warn_visits": 2, "authorization_warn_days": 7,
                                  "checkin_after_hours": 72}

DEFAULT_PARAMETERS: dict[str, Any] = {
    "mcid_pain_points": 2, "mcid_pain_relative": 0.30, "mcid_function_points": 2,
    "partial_pain_points": 1, "partial_function_points": 1, "substantial_relative": 0.50,
    "flare_points": 2, "managed_pain_max": 2, "managed_function_min": 8, "severe_pain_min": 7,
    "chronic_weeks": 12, "initial_high_per_week": 2, "initial_low_per_week": 1,
    "initial_review_sessions": 2, "increase_soreness_max_hours": 48, "consistent_reports": 2,
    "initial_min_sessions": 3, "non_responder_sessions": 4, "non_responder_max_sessions": 6,
    "middle_start_weeks": 2, "middle_max_weeks": 4, "maintenance_start_weeks": 4,
    "maintenance_steps_weeks": [4, 8, 12], "min_gap_days": 3, "soreness_window_hours": 48,
    "max_expected_soreness_hours": 72, "window_early_factor": 0.75, "window_late_factor": 1.25,
    "missed_visits_in_a_row": 2,
}


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A validated, immutable ruleset. Build it with `load_ruleset`, never directly."""

    name: str
    version: int
    description: str
    mcid_pain_points: float
    mcid_pain_relative: float
    mcid_function_points: float
    partial_pain_points: float
    partial_function_points: float
    substantial_relative: float
    flare_points: float
    managed_pain_max: float
    managed_function_min: float
    severe_pain_min: float
    chronic_weeks: int
    initial_high_per_week: int
    initial_low_per_week: int
    initial_review_sessions: int
    increase_soreness_max_hours: int
    consistent_reports: int
    initial_min_sessions: int
    non_responder_sessions: int
    non_responder_max_sessions: int
    middle_start_weeks: int
    middle_max_weeks: int
    maintenance_start_weeks: int
    maintenance_steps_weeks: tuple[int, ...]
    min_gap_days: int
    soreness_window_hours: int
    max_expected_soreness_hours: int
    window_early_factor: float
    window_late_factor: float
    missed_visits_in_a_row: int
    authorization_warn_visits: int
    authorization_warn_days: int
    checkin_after_hours: int
    id: str = field(init=False, compare=False)  # `name@version`, stored with every decision

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", f"{self.name}@{self.version}")

    @property
    def early(self) -> Fraction:
        return Fraction(str(self.window_early_factor))

    @property
    def late(self) -> Fraction:
        return Fraction(str(self.window_late_factor))

    def parameters(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in SPEC}
        out["maintenance_steps_weeks"] = list(self.maintenance_steps_weeks)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "description": self.description,
                "parameters": self.parameters()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def parse_ruleset_id(text: str) -> tuple[str, int]:
    """Split `name@version`; raises InvalidRuleset naming `ruleset` when malformed."""
    name, sep, version = str(text).partition("@")
    if not sep or not _NAME.fullmatch(name) or not _VERSION.fullmatch(version):
        raise InvalidRuleset("ruleset", f"'{text}' is not of the form name@version")
    return name, int(version)


def _check_value(key: str, value: Any) -> Any:
    kind, low, high, _ = SPEC[key]
    if kind == "weeks":
        if not isinstance(value, list | tuple) or not value:
            raise InvalidRuleset(key, "must be a non-empty list of whole weeks")
        for item in value:
            _check_number(key, item, True, low, high)
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise InvalidRuleset(key, "must be strictly increasing")
        return tuple(value)
    _check_number(key, value, kind == "int", low, high)
    return value


def _check_number(key: str, value: Any, integral: bool, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRuleset(key, "must be an integer" if integral else "must be a number")
    if integral and not isinstance(value, int):
        raise InvalidRuleset(key, "must be an integer")
    if value != value or not low <= value <= high:  # value != value: NaN
        raise InvalidRuleset(key, f"must be between {low:g} and {high:g}, got {value!r}")


_ORDER_CHECKS = (
    ("initial_low_per_week", "initial_high_per_week",
     "initial_low_per_week <= initial_high_per_week"),
    ("middle_start_weeks", "middle_max_weeks", "middle_start_weeks <= middle_max_weeks"),
    ("middle_max_weeks", "maintenance_start_weeks", "middle_max_weeks <= maintenance_start_weeks"),
    ("non_responder_sessions", "non_responder_max_sessions",
     "non_responder_sessions <= non_responder_max_sessions"),
    ("partial_pain_points", "mcid_pain_points", "partial_pain_points <= mcid_pain_points"),
)


def load_ruleset(data: Any) -> Ruleset:
    """Validate ruleset data (`{"name", "version", "description"?, "parameters"}`).

    Every parameter of SPEC is required but those of LATER_DEFAULTS (older rulesets read
    their defaults); unknown keys, wrong types, values out of range, non-increasing steps and
    inconsistent pairs raise InvalidRuleset naming the parameter.
    """
    if not isinstance(data, dict):
        raise InvalidRuleset("ruleset", "must be an object")
    unknown = set(data) - {"name", "version", "description", "parameters"}
    if unknown:
        raise InvalidRuleset(sorted(unknown)[0], "unknown key")
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRuleset("name", "must be 1-64 lowercase letters, digits, '-' or '_'")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidRuleset("version", "must be a positive integer")
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        raise InvalidRuleset("description", "must be a string of at most 2000 characters")
    params = data.get("parameters")
    if not isinstance(params, dict):
        raise InvalidRuleset("parameters", "must be an object")
    for key in sorted(set(params) - set(SPEC)):
        raise InvalidRuleset(f"parameters.{key}", "unknown parameter")
    values: dict[str, Any] = {}
    params = {**LATER_DEFAULTS, **params}
    for key in SPEC:
        if key not in params:
            raise InvalidRuleset(f"parameters.{key}", "is required")
        try:
            values[key] = _check_value(key, params[key])
        except InvalidRuleset as exc:
            raise InvalidRuleset(f"parameters.{key}", exc.message) from None
    for low, high, text in _ORDER_CHECKS:
        if values[low] > values[high]:
            raise InvalidRuleset(f"parameters.{low}", f"must satisfy {text}")
    if values["maintenance_steps_weeks"][-1] < values["maintenance_start_weeks"]:
        raise InvalidRuleset("parameters.maintenance_steps_weeks",
                             "the longest step must be at least maintenance_start_weeks")
    if values["partial_function_points"] > values["mcid_function_points"]:
        raise InvalidRuleset("parameters.partial_function_points",
                             "must satisfy partial_function_points <= mcid_function_points")
    return Ruleset(name=name, version=version, description=description, **values)


DEFAULT_RULESET = load_ruleset({
    "name": "ims-default", "version": 1,
    "description": "IMS / dry-needling frequency rules as written in rules.md (v1).",
    "parameters": DEFAULT_PARAMETERS,
})
