"""Value types of the engine: phases, statuses, flags and FHIR-style frequencies."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import cache
from typing import Any

from .errors import InvalidEvent


class Phase(StrEnum):
    INITIAL = "initial"
    MIDDLE = "middle"
    MAINTENANCE = "maintenance"


class Status(StrEnum):
    ASSESSMENT_PENDING = "assessment_pending"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DISCHARGED = "discharged"


class VisitKind(StrEnum):
    ASSESSMENT = "assessment"
    NEEDLING = "needling"
    REVIEW = "review"


class VisitStatus(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Flag(StrEnum):
    PROLONGED_SORENESS = "prolonged_soreness"
    DISCHARGE_SUGGESTED = "discharge_suggested"
    MISSED_VISITS = "missed_visits"
    AUTHORIZATION_LOW = "authorization_low"  # rule 21
    AUTHORIZATION_EXHAUSTED = "authorization_exhausted"  # rule 21
    CHECKIN_SUGGESTED = "checkin_suggested"  # rule 22: cancelled, feeling better
    REVIEW_SUGGESTED = "review_suggested"  # rule 22: cancelled, condition worse


class CancellationReason(StrEnum):
    """Why a visit was cancelled (rules.md rule 22; Cliniko's cancellation reasons)."""

    FEELING_BETTER = "feeling_better"
    CONDITION_WORSE = "condition_worse"
    SICK = "sick"
    AWAY = "away"
    WORK = "work"
    OTHER = "other"


class ReviewReason(StrEnum):
    ADVERSE_EVENT = "adverse_event"
    WORSENING = "worsening"
    NON_RESPONDER = "non_responder"


class WindowState(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    LAPSED = "lapsed"
    BOOKED = "booked"
    NONE = "none"


_UNIT_DAYS = {"d": 1, "wk": 7}


@dataclass(frozen=True, slots=True)
class Frequency:
    """FHIR Timing style: `frequency` visits per `period` `period_unit` (`d` or `wk`)."""

    frequency: int
    period: int
    period_unit: str = "wk"

    def __post_init__(self) -> None:
        for name in ("frequency", "period"):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= 52:
                raise InvalidEvent(f"frequency.{name}", "must be an integer from 1 to 52")
        if not isinstance(self.period_unit, str) or self.period_unit not in _UNIT_DAYS:
            raise InvalidEvent("frequency.period_unit", "must be 'd' or 'wk'")

    @property
    def interval(self) -> Fraction:
        """Days between visits, exact: period in days / frequency."""
        return Fraction(self.period * _UNIT_DAYS[self.period_unit], self.frequency)

    @property
    def interval_days(self) -> float:
        return float(self.interval)

    @staticmethod
    @cache
    def per_week(n: int) -> Frequency:
        return Frequency(n, 1, "wk")

    @staticmethod
    @cache
    def every_weeks(weeks: int) -> Frequency:
        return Frequency(1, weeks, "wk")

    def text(self) -> str:
        """'2 per week', '1 per 3 weeks', '1 per 10 days'."""
        unit = "week" if self.period_unit == "wk" else "day"
        span = unit if self.period == 1 else f"{self.period} {unit}s"
        return f"{self.frequency} per {span}"

    def to_dict(self) -> dict[str, Any]:
        return {"frequency": self.frequency, "period": self.period, "period_unit": self.period_unit}

    @classmethod
    def from_dict(cls, data: Any) -> Frequency:
        if not isinstance(data, dict):
            raise InvalidEvent("frequency", "must be an object")
        unknown = set(data) - {"frequency", "period", "period_unit"}
        if unknown:
            raise InvalidEvent(f"frequency.{sorted(unknown)[0]}", "unknown field")
        frequency: Any = data.get("frequency")  # checked by __post_init__, None included
        period: Any = data.get("period")
        return cls(frequency, period, data.get("period_unit", "wk"))
