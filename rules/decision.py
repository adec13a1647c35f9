"""Decisions and explanations: what changed on one event, and why, with the numbers.

These hot, immutable value types are NamedTuples rather than frozen dataclasses: one is built
per event and per rule that fires, and tuple construction is several times cheaper (see the
rules benchmark in the README)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from .values import Frequency


class Explanation(NamedTuple):
    """One rule's verdict: a stable rule id, a readable sentence and the inputs it compared."""

    rule: str
    text: str
    inputs: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": self.text, "inputs": dict(self.inputs)}


class Snapshot(NamedTuple):
    """The parts of a plan a decision compares before and after an event."""

    phase: str
    status: str
    frequency: Frequency
    computed_frequency: Frequency
    review_reasons: tuple[str, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "status": self.status,
                "frequency": self.frequency.to_dict(),
                "computed_frequency": self.computed_frequency.to_dict(),
                "review": {"required": bool(self.review_reasons),
                           "reasons": list(self.review_reasons)},
                "flags": list(self.flags)}


TRIGGERS = {"report": "report", "visit": "visit", "time_passes": "schedule"}


class Decision(NamedTuple):
    """The engine's verdict on one event. `changed` is False when the plan stayed as it was."""

    seq: int
    at: datetime
    event_kind: str
    ruleset: str
    before: Snapshot | None
    after: Snapshot
    explanations: tuple[Explanation, ...]

    @property
    def trigger(self) -> str:
        """report | visit | action | schedule (plan creation and plan actions are `action`)."""
        return TRIGGERS.get(self.event_kind, "action")

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(e.rule for e in self.explanations)

    def to_dict(self) -> dict[str, Any]:
        before = self.before
        return {
            "seq": self.seq, "at": self.at.isoformat(), "trigger": self.trigger,
            "event_kind": self.event_kind, "ruleset": self.ruleset,
            "phase_before": before.phase if before else None, "phase_after": self.after.phase,
            "status_before": before.status if before else None, "status_after": self.after.status,
            "frequency_before": before.frequency.to_dict() if before else None,
            "frequency_after": self.after.frequency.to_dict(),
            "computed_frequency_after": self.after.computed_frequency.to_dict(),
            "review_before": list(before.review_reasons) if before else [],
            "review_after": list(self.after.review_reasons),
            "flags_before": list(before.flags) if before else [],
            "flags_after": list(self.after.flags),
            "changed": self.changed,
            "explanations": [e.to_dict() for e in self.explanations],
        }
