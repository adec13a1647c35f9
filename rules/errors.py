"""The rules engine's own typed errors; each names the field or parameter at fault."""

from __future__ import annotations


class RulesError(Exception):
    """Base class of every error the engine raises on bad input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidRuleset(RulesError):
    """A ruleset failed validation; `field` is the offending parameter."""


class InvalidEvent(RulesError):
    """An event is malformed (out of range, naive datetime, unknown kind...)."""


class UnknownEventKind(InvalidEvent):
    """An event dictionary names a kind the engine does not know."""


class InvalidHistory(RulesError):
    """A history cannot be folded (no creation event, two creations, ...)."""


class PlanClosed(RulesError):
    """An event arrived for a discharged plan; discharge is final."""


class CalendarError(RulesError):
    """The open-day predicate gave no open day within the search horizon."""
