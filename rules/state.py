"""The folded state of a plan: immutable outside the engine, a working copy inside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, NamedTuple

from .decision import Snapshot
from .errors import InvalidHistory
from .values import Frequency, Phase, Status


@dataclass(frozen=True, slots=True)
class Override:
    """A physiotherapist's frequency that wins over the computed one until `until` (inclusive)."""

    frequency: Frequency
    until: date
    reason: str
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"frequency": self.frequency.to_dict(), "until": self.until.isoformat(),
                "reason": self.reason, "by": self.by}


@dataclass(frozen=True, slots=True)
class Authorization:
    """A payer's cap on a plan (rule 21): `visits_allowed` visits, optionally until a date;
    no-shows count against it when `count_no_shows`."""

    visits_allowed: int
    valid_until: date | None = None
    count_no_shows: bool = False
    payer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"payer": self.payer, "visits_allowed": self.visits_allowed,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "count_no_shows": self.count_no_shows}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Authorization:
        until = data.get("valid_until")
        return cls(data["visits_allowed"], date.fromisoformat(until) if until else None,
                   data.get("count_no_shows", False), data.get("payer"))


class PlanState(NamedTuple):
    """Everything the rules need to judge the next event, and nothing else.

    Counters named `*_in_phase` and the streaks restart when a phase is entered and when a
    physiotherapist resumes a plan (a review starts a fresh trial of the current phase).
    """

    ruleset: str
    status: Status
    phase: Phase
    phase_since: date
    computed: Frequency
    override: Override | None
    review_reasons: tuple[str, ...]
    flags: tuple[str, ...]
    start_date: date
    onset_date: date
    baseline_pain: int
    baseline_function: int | None
    neuropathic: bool
    consent_at: datetime | None
    activation_date: date | None
    hold_date: date | None
    last_session_at: datetime | None
    last_session_date: date | None
    sessions_in_phase: int
    reports_in_phase: int
    any_meaningful_in_phase: bool
    meaningful_streak: int
    managed_streak: int
    extend_streak: int
    lowest_pain_in_phase: int | None
    previous_pain: int | None
    min_gap_days: int
    no_show_streak: int
    booked: tuple[tuple[str, date], ...]
    last_event_at: datetime
    events: int
    # Fields added after the first stored states: `state_from_dict` gives these defaults to a
    # state stored before them (their histories hold no event that sets them).
    authorization: Authorization | None = None
    authorized_visits: tuple[str, ...] = ()  # visit ids counted against the authorization
    outreach_snoozed: bool = False  # rule 23: cancelled with needs_reschedule false

    @property
    def visits_left(self) -> int | None:
        """Visits the authorization still allows (None without one; never below 0)."""
        if self.authorization is None:
            return None
        return max(self.authorization.visits_allowed - len(self.authorized_visits), 0)

    @property
    def frequency(self) -> Frequency:
        """The frequency in force: the override's while one is recorded, else the computed one."""
        return self.override.frequency if self.override else self.computed

    @property
    def review_required(self) -> bool:
        return bool(self.review_reasons)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.phase, self.status, self.frequency, self.computed,
                        self.review_reasons, self.flags)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; `state_from_dict(s.to_dict()) == s` always."""
        out: dict[str, Any] = {}
        for name in FIELD_NAMES:
            value = getattr(self, name)
            if isinstance(value, datetime | date):
                value = value.isoformat()
            elif isinstance(value, Frequency | Override | Authorization):
                value = value.to_dict()
            elif name == "booked":
                value = [[vid, day.isoformat()] for vid, day in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


FIELD_NAMES = PlanState._fields
_tuple_new = tuple.__new__
_ALL_FIELDS = attrgetter(*FIELD_NAMES)
_DATES = {"phase_since", "start_date", "onset_date", "activation_date", "hold_date",
          "last_session_date"}
_DATETIMES = {"consent_at", "last_session_at", "last_event_at"}
_LATER = {name: default for name, default in PlanState._field_defaults.items()}


def state_from_dict(data: dict[str, Any]) -> PlanState:
    """Rebuild a stored state; raises InvalidHistory naming the field on a malformed one."""
    kwargs: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if name not in data:
            if name in _LATER:
                kwargs[name] = _LATER[name]
                continue
            raise InvalidHistory(name, "missing from the stored state")
        value = data[name]
        try:
            if value is None:
                pass
            elif name in _DATES:
                value = date.fromisoformat(value)
            elif name in _DATETIMES:
                value = datetime.fromisoformat(value)
            elif name == "computed":
                value = Frequency.from_dict(value)
            elif name == "override":
                value = Override(Frequency.from_dict(value["frequency"]),
                                 date.fromisoformat(value["until"]), value["reason"], value["by"])
            elif name == "booked":
                value = tuple((vid, date.fromisoformat(day)) for vid, day in value)
            elif name == "status":
                value = Status(value)
            elif name == "phase":
                value = Phase(value)
            elif name in ("review_reasons", "flags", "authorized_visits"):
                value = tuple(value)
            elif name == "authorization":
                value = Authorization.from_dict(value)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidHistory(name, f"malformed in the stored state: {exc}") from None
        kwargs[name] = value
    return PlanState(**kwargs)


@dataclass(slots=True, eq=False)
class Work:
    """A mutable working copy of PlanState used while folding (no per-event copies).

    Typed slots, one per PlanState field in the same order (a test keeps them in step), so a
    misspelt attribute is an error for the type checker and at run time. `of` is the
    generated positional __init__; `freeze` reads every slot in one C-level attrgetter call.
    """

    ruleset: str
    status: Status
    phase: Phase
    phase_since: date
    computed: Frequency
    override: Override | None
    review_reasons: tuple[str, ...]
    flags: tuple[str, ...]
    start_date: date
    onset_date: date
    baseline_pain: int
    baseline_function: int | None
    neuropathic: bool
    consent_at: datetime | None
    activation_date: date | None
    hold_date: date | None
    last_session_at: datetime | None
    last_session_date: date | None
    sessions_in_phase: int
    reports_in_phase: int
    any_meaningful_in_phase: bool
    meaningful_streak: int
    managed_streak: int
    extend_streak: int
    lowest_pain_in_phase: int | None
    previous_pain: int | None
    min_gap_days: int
    no_show_streak: int
    booked: tuple[tuple[str, date], ...]
    last_event_at: datetime
    events: int
    authorization: Authorization | None
    authorized_visits: tuple[str, ...]
    outreach_snoozed: bool

    @classmethod
    def of(cls, state: PlanState) -> Work:
        return cls(*state)

    def freeze(self) -> PlanState:
        return _tuple_new(PlanState, _ALL_FIELDS(self))

    @property
    def frequency(self) -> Frequency:
        return self.override.frequency if self.override else self.computed

    def snapshot(self) -> Snapshot:
        return Snapshot(self.phase, self.status, self.frequency, self.computed,
                        self.review_reasons, self.flags)

    def add_flag(self, flag: str) -> None:
        if flag not in self.flags:
            self.flags = tuple(sorted((*self.flags, flag)))

    def drop_flag(self, flag: str) -> None:
        if flag in self.flags:
            self.flags = tuple(f for f in self.flags if f != flag)

    def add_reason(self, reason: str) -> None:
        if reason not in self.review_reasons:
            self.review_reasons = (*self.review_reasons, reason)

    def restart_counters(self) -> None:
        """A new trial of the phase: sessions, streaks and the phase's report memory restart."""
        self.sessions_in_phase = 0
        self.reports_in_phase = 0
        self.any_meaningful_in_phase = False
        self.meaningful_streak = 0
        self.managed_streak = 0
        self.extend_streak = 0

