"""The derived facts of one report (rules.md, 'Derived facts on each report')."""

from __future__ import annotations

from typing import Any

from .events import ProgressReport
from .ruleset import Ruleset


class Reading:
    """How a report reads against the baseline and the phase so far.

    Function is `tracked` when both the baseline and this report carry a PSFS score. A report
    inside the soreness window (`in_window`) is stored but never read as a response: it is
    neither `worse` nor a `flare`.
    """

    __slots__ = ("pain", "function", "drop", "relative", "gain", "tracked", "meaningful",
                 "partial", "no_change", "worse", "substantial", "well_managed", "flare",
                 "in_window", "hours_since_session")

    def __init__(self, report: ProgressReport, baseline_pain: int, baseline_function: int | None,
                 lowest_pain: int | None, hours_since_session: float | None,
                 rs: Ruleset) -> None:
        pain = report.pain
        self.pain = pain
        self.function = report.function
        self.drop = drop = baseline_pain - pain
        self.relative = relative = drop / baseline_pain if baseline_pain else 0.0
        function = report.function
        self.tracked = tracked = baseline_function is not None and function is not None
        self.gain = gain = (function - baseline_function
                            if function is not None and baseline_function is not None else 0)
        self.meaningful = meaningful = (
            (drop >= rs.mcid_pain_points and relative >= rs.mcid_pain_relative)
            or (tracked and gain >= rs.mcid_function_points and pain <= baseline_pain))
        self.partial = partial = not meaningful and (
            drop >= rs.partial_pain_points or (tracked and gain >= rs.partial_function_points))
        self.no_change = no_change = not meaningful and not partial
        self.hours_since_session = hours_since_session
        self.in_window = in_window = (hours_since_session is not None
                                      and hours_since_session < rs.soreness_window_hours)
        self.worse = no_change and not in_window and pain >= baseline_pain + rs.flare_points
        self.substantial = relative >= rs.substantial_relative
        self.well_managed = pain <= rs.managed_pain_max and (
            function is None or not tracked or function >= rs.managed_function_min)
        self.flare = (not in_window and lowest_pain is not None
                      and pain >= lowest_pain + rs.flare_points)

    @property
    def label(self) -> str:
        return "meaningful" if self.meaningful else "partial" if self.partial else (
            "worse" if self.worse else "no change")

    def inputs(self, baseline_pain: int, baseline_function: int | None) -> dict[str, Any]:
        out: dict[str, Any] = {"baseline_pain": baseline_pain, "pain": self.pain,
                               "pain_drop": self.drop, "relative_drop": round(self.relative, 3),
                               "response": self.label}
        if self.tracked:
            out.update(baseline_function=baseline_function, function=self.function,
                       function_gain=self.gain)
        return out

    def summary(self, baseline_pain: int) -> str:
        """'pain 8 -> 5 (38 %)' with the function change when tracked."""
        text = f"pain {baseline_pain} -> {self.pain} ({pct(self.relative)})"
        if self.tracked and self.function is not None:
            text += f", function {self.function - self.gain} -> {self.function}"
        return text


def pct(fraction: float) -> str:
    return f"{round(fraction * 100)} %"
