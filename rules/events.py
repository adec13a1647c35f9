"""The events a plan's history is made of; each validates itself on construction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

from .errors import InvalidEvent, UnknownEventKind
from .values import CancellationReason, Frequency, Phase, VisitKind, VisitStatus


def _aware(field: str, value: Any) -> None:
    if not isinstance(value, datetime):
        raise InvalidEvent(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent(field, "must carry a UTC offset (naive datetimes are ambiguous)")


def _int_range(field: str, value: Any, low: int, high: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int or not low <= value <= high:
        raise InvalidEvent(field, f"must be an integer from {low} to {high}")


def _date(field: str, value: Any, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidEvent(field, "must be a date")


def _text(field: str, value: Any, optional: bool = True, max_len: int = 500) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidEvent(field, f"must be a non-empty string of at most {max_len} characters")


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events: `at` is the aware instant the event took effect."""

    kind: ClassVar[str] = ""
    at: datetime

    def __post_init__(self) -> None:
        _aware("at", self.at)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            out[f.name] = _dump(getattr(self, f.name))
        return out


def _dump(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Frequency):
        return value.to_dict()
    return value


@dataclass(frozen=True, slots=True)
class PlanCreated(Event):
    kind: ClassVar[str] = "plan_created"
    start_date: date
    onset_date: date
    baseline_pain: int
    baseline_function: int | None = None
    neuropathic: bool = False

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _date("start_date", self.start_date)
        _date("onset_date", self.onset_date)
        if self.onset_date > self.start_date:
            raise InvalidEvent("onset_date", "must not be after the start date")
        _int_range("baseline.pain", self.baseline_pain, 0, 10)
        _int_range("baseline.function", self.baseline_function, 0, 10, optional=True)
        if not isinstance(self.neuropathic, bool):
            raise InvalidEvent("neuropathic_symptoms", "must be true or false")


@dataclass(frozen=True, slots=True)
class ConsentRecorded(Event):
    kind: ClassVar[str] = "consent_recorded"
    by: str | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _text("recorded_by", self.by)


@dataclass(frozen=True, slots=True)
class ProgressReport(Event):
    """A progress report recorded at `at` (NPRS pain, PSFS function, GROC, soreness hours)."""

    kind: ClassVar[str] = "report"
    pain: int
    function: int | None = None
    global_change: int | None = None
    soreness_hours: int | None = None
    adverse_event: bool = False

    def __post_init__(self) -> None:
        _aware("recorded_at", self.at)
        _int_range("pain", self.pain, 0, 10)
        _int_range("function", self.function, 0, 10, optional=True)
        _int_range("global_change", self.global_change, -7, 7, optional=True)
        _int_range("soreness_hours", self.soreness_hours, 0, 336, optional=True)
        if not isinstance(self.adverse_event, bool):
            raise InvalidEvent("adverse_event", "must be true or false")


@dataclass(frozen=True, slots=True)
class VisitChanged(Event):
    """A visit was booked, attended, cancelled or missed; `at` orders it in the history.
    A cancellation may say why (rule 22) and that no new booking is wanted (rule 23)."""

    kind: ClassVar[str] = "visit"
    visit_id: str
    visit_kind: VisitKind
    status: VisitStatus
    starts_at: datetime
    cancellation_reason: CancellationReason | None = None
    needs_reschedule: bool = True

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _text("visit_id", self.visit_id, optional=False, max_len=255)
        try:
            object.__setattr__(self, "visit_kind", VisitKind(self.visit_kind))
        except ValueError:
            raise InvalidEvent("kind", "must be assessment, needling or review") from None
        try:
            object.__setattr__(self, "status", VisitStatus(self.status))
        except ValueError:
            raise InvalidEvent("status", "must be booked, attended, cancelled or no_show") from None
        _aware("starts_at", self.starts_at)
        cancelled = self.status is VisitStatus.CANCELLED
        if self.cancellation_reason is not None:
            if not cancelled:
                raise InvalidEvent("cancellation_reason", "only a cancelled visit has a reason")
            try:
                object.__setattr__(self, "cancellation_reason",
                                   CancellationReason(self.cancellation_reason))
            except ValueError:
                raise InvalidEvent("cancellation_reason", "must be one of " + ", ".join(
                    CancellationReason)) from None
        if not isinstance(self.needs_reschedule, bool):
            raise InvalidEvent("needs_reschedule", "must be true or false")
        if not self.needs_reschedule and not cancelled:
            raise InvalidEvent("needs_reschedule", "only a cancelled visit can decline one")


@dataclass(frozen=True, slots=True)
class _Action(Event):
    reason: str
    by: str | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _text("reason", self.reason, optional=False, max_len=1000)
        _text("by", self.by)


@dataclass(frozen=True, slots=True)
class OverrideSet(Event):
    kind: ClassVar[str] = "override"
    frequency: Frequency
    until: date
    reason: str
    by: str | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        if isinstance(self.frequency, dict):
            object.__setattr__(self, "frequency", Frequency.from_dict(self.frequency))
        if not isinstance(self.frequency, Frequency):
            raise InvalidEvent("frequency", "must be a frequency")
        _date("until", self.until)
        _text("reason", self.reason, optional=False, max_len=1000)
        _text("by", self.by)


@dataclass(frozen=True, slots=True)
class OverrideCleared(_Action):
    kind: ClassVar[str] = "clear_override"


@dataclass(frozen=True, slots=True)
class PhaseSet(Event):
    kind: ClassVar[str] = "set_phase"
    phase: Phase
    reason: str
    by: str | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        try:
            object.__setattr__(self, "phase", Phase(self.phase))
        except ValueError:
            raise InvalidEvent("phase", "must be initial, middle or maintenance") from None
        _text("reason", self.reason, optional=False, max_len=1000)
        _text("by", self.by)


@dataclass(frozen=True, slots=True)
class AuthorizationSet(Event):
    """A payer's authorization of `visits_allowed` visits (rule 21); replaces any earlier one,
    and counting starts again from here."""

    kind: ClassVar[str] = "set_authorization"
    visits_allowed: int
    reason: str
    valid_until: date | None = None
    count_no_shows: bool = False
    payer: str | None = None
    by: str | None = None

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _int_range("authorization.visits_allowed", self.visits_allowed, 1, 200)
        _date("authorization.valid_until", self.valid_until, optional=True)
        if not isinstance(self.count_no_shows, bool):
            raise InvalidEvent("authorization.count_no_shows", "must be true or false")
        _text("authorization.payer", self.payer, max_len=200)
        _text("reason", self.reason, optional=False, max_len=1000)
        _text("by", self.by)


@dataclass(frozen=True, slots=True)
class AuthorizationCleared(_Action):
    kind: ClassVar[str] = "clear_authorization"


@dataclass(frozen=True, slots=True)
class Held(_Action):
    kind: ClassVar[str] = "hold"


@dataclass(frozen=True, slots=True)
class Resumed(_Action):
    kind: ClassVar[str] = "resume"


@dataclass(frozen=True, slots=True)
class Discharged(_Action):
    kind: ClassVar[str] = "discharge"


@dataclass(frozen=True, slots=True)
class TimePassed(Event):
    """Time passed to `at`: expires overrides; the nightly pass sends one per plan."""

    kind: ClassVar[str] = "time_passes"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (PlanCreated, ConsentRecorded, ProgressReport, VisitChanged, OverrideSet,
                OverrideCleared, PhaseSet, Held, Resumed, Discharged, TimePassed,
                AuthorizationSet, AuthorizationCleared)
}
_FIELD_NAMES = {kind: frozenset(f.name for f in fields(cls)) for kind, cls in EVENT_TYPES.items()}
_DATETIMES = {"at", "starts_at"}
_DATES = {"start_date", "onset_date", "until", "valid_until"}


def event_from_dict(data: Any) -> Event:
    """Rebuild an event from `Event.to_dict()` output; raises InvalidEvent naming the field."""
    if not isinstance(data, dict):
        raise InvalidEvent("event", "must be an object")
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UnknownEventKind("kind", f"unknown event kind {data.get('kind')!r}")
    names = _FIELD_NAMES[cls.kind]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "kind":
            continue
        if key not in names:
            raise InvalidEvent(key, "unknown field")
        kwargs[key] = _load(key, value)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidEvent("event", f"missing field for {cls.kind}: {exc}") from None


def _load(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in _DATETIMES:
            return datetime.fromisoformat(value)
        if key in _DATES:
            return date.fromisoformat(value)
    except ValueError:
        raise InvalidEvent(key, "is not an ISO 8601 value") from None
    return value
