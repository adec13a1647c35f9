"""The plan's progress chart as server-side SVG (no JS, printable) and the same data as rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

# Drawing box (user units; the SVG scales to its container through its viewBox).
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP = 44, 16, 28
PLOT_BOTTOM = 230  # y of the 0 line; the visit strip and the axis labels sit below it
VISIT_Y = 252
# Phase bands are told apart by their label as well as by fill, so colour is never the only
# cue; every fill keeps the dark lines and text above 4.5:1 contrast.
PHASE_FILL = {"initial": "#e8f1fb", "middle": "#eef7ea", "maintenance": "#f6f0fa"}
PAIN, FUNCTION, DECISION = "#b3261e", "#1d4f91", "#4a4a4a"


@dataclass(frozen=True, slots=True)
class Reading:
    """One progress report: pain (0-10) and optionally function (0-10) on a clinic day."""

    day: date
    pain: int
    function: int | None = None


@dataclass(frozen=True, slots=True)
class VisitMark:
    """A visit on a day: attended (a session), no_show, cancelled or booked."""

    day: date
    status: str
    kind: str = "needling"


@dataclass(frozen=True, slots=True)
class PhaseBand:
    """The plan was in `phase` from `start` to `end` (inclusive)."""

    phase: str
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class DecisionMark:
    """A decision that changed the plan, with its short label (e.g. "initial -> middle")."""

    day: date
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything drawn; `start`..`end` is the time axis (at least one day)."""

    start: date
    end: date
    readings: tuple[Reading, ...] = ()
    visits: tuple[VisitMark, ...] = ()
    phases: tuple[PhaseBand, ...] = ()
    decisions: tuple[DecisionMark, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    """One day of the table fallback."""

    day: date
    pain: list[int] = field(default_factory=list)
    function: list[int] = field(default_factory=list)
    visits: list[str] = field(default_factory=list)
    phase: str = ""
    decisions: list[str] = field(default_factory=list)


def _x(chart: Chart, day: date) -> float:
    span = max((chart.end - chart.start).days, 1)
    return LEFT + (WIDTH - LEFT - RIGHT) * (day - chart.start).days / span


def _y(value: float) -> float:
    return PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * value / 10


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def summary(chart: Chart) -> str:
    """The chart in one or two sentences (its <desc>)."""
    if not chart.readings:
        first = "No progress reports yet."
    else:
        a, b = chart.readings[0], chart.readings[-1]
        first = (f"{len(chart.readings)} reports from {a.day.isoformat()} to "
                 f"{b.day.isoformat()}; pain went from {a.pain} to {b.pain} out of 10.")
    counts = {s: sum(v.status == s for v in chart.visits) for s in ("attended", "no_show",
                                                                     "cancelled")}
    return (f"{first} {counts['attended']} sessions attended, {counts['no_show']} no-shows, "
            f"{counts['cancelled']} cancellations, {len(chart.decisions)} plan changes. "
            "The table below the chart holds the same data.")


def _bands(chart: Chart) -> list[str]:
    out = []
    for band in chart.phases:
        # A band covers its last day too: it runs up to where the next day begins.
        x0 = _x(chart, max(band.start, chart.start))
        x1 = max(_x(chart, min(band.end + timedelta(days=1), chart.end)), x0 + 2)
        fill = PHASE_FILL.get(band.phase, "#f2f2f2")
        out.append(f'<rect class="phase phase-{escape(band.phase)}" x="{_num(x0)}" y="{TOP}" '
                   f'width="{_num(x1 - x0)}" height="{PLOT_BOTTOM - TOP}" fill="{fill}"/>')
        out.append(f'<text class="phase-label" x="{_num(x0 + 4)}" y="{TOP - 8}" '
                   f'font-size="11" fill="#1f1f1f">{escape(band.phase)}</text>')
    return out


def _grid(chart: Chart) -> list[str]:
    out = []
    for value in (0, 2, 4, 6, 8, 10):
        y = _num(_y(value))
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" '
                   f'stroke="#8a8a8a" stroke-width="0.5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_num(_y(value) + 4)}" font-size="11" '
                   f'text-anchor="end" fill="#1f1f1f">{value}</text>')
    span = (chart.end - chart.start).days
    step = max(1, -(-span // 6))  # about six date labels whatever the span
    day = chart.start
    while day <= chart.end:
        # The outer labels lean inwards so that none is cut at the drawing's edge.
        x = _x(chart, day)
        anchor = ("start" if x - LEFT < 40 else "end" if WIDTH - RIGHT - x < 40
                  else "middle")
        out.append(f'<text class="day-label" x="{_num(x)}" y="{HEIGHT - 40}" '
                   f'font-size="11" text-anchor="{anchor}" fill="#1f1f1f">{day.isoformat()}'
                   '</text>')
        day += timedelta(days=step)
    return out


def _line(chart: Chart, name: str, colour: str, points: list[tuple[date, int]],
          dash: str) -> list[str]:
    if not points:
        return []
    coords = " ".join(f"{_num(_x(chart, d))},{_num(_y(v))}" for d, v in points)
    out = [f'<polyline class="{name}" points="{coords}" fill="none" stroke="{colour}" '
           f'stroke-width="2.5"{dash}/>']
    for d, v in points:
        x, y = _x(chart, d), _y(v)
        tip = f"<title>{d.isoformat()}: {name} {v}</title>"
        if name == "pain":
            out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{colour}">'
                       f'{tip}</circle>')
        else:  # squares: the two series differ in shape and dash, not only in colour
            out.append(f'<rect x="{_num(x - 4)}" y="{_num(y - 4)}" width="8" height="8" '
                       f'fill="{colour}">{tip}</rect>')
    return out


def _visit(chart: Chart, mark: VisitMark) -> str:
    x, y = _num(_x(chart, mark.day)), VISIT_Y
    tip = f"<title>{mark.day.isoformat()}: {escape(mark.kind)} {escape(mark.status)}</title>"
    if mark.status == "attended":
        return (f'<circle class="visit attended" cx="{x}" cy="{y}" r="5" fill="#1f1f1f">'
                f'{tip}</circle>')
    if mark.status == "no_show":
        return (f'<path class="visit no_show" d="M{x} {y} m-5 -5 l10 10 m0 -10 l-10 10" '
                f'stroke="{PAIN}" stroke-width="2.5">{tip}</path>')
    if mark.status == "cancelled":
        return (f'<circle class="visit cancelled" cx="{x}" cy="{y}" r="5" fill="#ffffff" '
                f'stroke="#1f1f1f" stroke-width="2">{tip}</circle>')
    return (f'<rect class="visit booked" x="{_num(float(x) - 4)}" y="{y - 4}" width="8" '
            f'height="8" fill="none" stroke="#1f1f1f" stroke-dasharray="2 2">{tip}</rect>')


def _decision(chart: Chart, mark: DecisionMark) -> str:
    x = _num(_x(chart, mark.day))
    return (f'<g class="decision"><line x1="{x}" x2="{x}" y1="{TOP}" y2="{PLOT_BOTTOM}" '
            f'stroke="{DECISION}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<path d="M{x} {TOP} l-5 -7 h10 z" fill="{DECISION}"/>'
            f'<title>{mark.day.isoformat()}: {escape(mark.label)}</title></g>')


def _legend() -> str:
    y = HEIGHT - 14
    return (f'<g class="legend" font-size="11" fill="#1f1f1f">'
            f'<line x1="{LEFT}" x2="{LEFT + 24}" y1="{y - 4}" y2="{y - 4}" stroke="{PAIN}" '
            f'stroke-width="2.5"/><text x="{LEFT + 30}" y="{y}">Pain</text>'
            f'<line x1="{LEFT + 80}" x2="{LEFT + 104}" y1="{y - 4}" y2="{y - 4}" '
            f'stroke="{FUNCTION}" stroke-width="2.5" stroke-dasharray="6 4"/>'
            f'<text x="{LEFT + 110}" y="{y}">Function</text>'
            f'<circle cx="{LEFT + 186}" cy="{y - 4}" r="5" fill="#1f1f1f"/>'
            f'<text x="{LEFT + 196}" y="{y}">Session</text>'
            f'<path d="M{LEFT + 261} {y - 9} l10 10 m0 -10 l-10 10" stroke="{PAIN}" '
            f'stroke-width="2.5"/><text x="{LEFT + 278}" y="{y}">No-show</text>'
            f'<circle cx="{LEFT + 346}" cy="{y - 4}" r="5" fill="#ffffff" stroke="#1f1f1f" '
            f'stroke-width="2"/><text x="{LEFT + 356}" y="{y}">Cancelled</text>'
            f'<line x1="{LEFT + 430}" x2="{LEFT + 430}" y1="{y - 12}" y2="{y + 2}" '
            f'stroke="{DECISION}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{LEFT + 438}" y="{y}">Plan change</text></g>')


def render_svg(chart: Chart, *, element_id: str = "progress-chart") -> str:
    """The chart as an inline <svg role="img"> named "Progress chart: ..." by its <title>."""
    title = "Progress chart: pain and function over time"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{element_id}" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" class="progress-chart" '
             f'aria-labelledby="{element_id}-title" aria-describedby="{element_id}-desc">',
             f'<title id="{element_id}-title">{title}</title>',
             f'<desc id="{element_id}-desc">{escape(summary(chart))}</desc>',
             *_bands(chart), *_grid(chart),
             *(_decision(chart, d) for d in chart.decisions),
             *_line(chart, "pain", PAIN, [(r.day, r.pain) for r in chart.readings], ""),
             *_line(chart, "function", FUNCTION,
                    [(r.day, r.function) for r in chart.readings if r.function is not None],
                    ' stroke-dasharray="6 4"'),
             f'<text x="{LEFT - 6}" y="{VISIT_Y + 4}" font-size="11" text-anchor="end" '
             'fill="#1f1f1f">Visits</text>',
             *(_visit(chart, v) for v in chart.visits),
             _legend(), "</svg>"]
    return "".join(parts)


def _phase_on(chart: Chart, day: date) -> str:
    for band in chart.phases:
        if band.start <= day <= band.end:
            return band.phase
    return ""


def table(chart: Chart) -> list[Row]:
    """The chart's data by day (oldest first): one row per day on which anything happened."""
    days: dict[date, Row] = {}

    def row(day: date) -> Row:
        return days.setdefault(day, Row(day, phase=_phase_on(chart, day)))

    for r in chart.readings:
        row(r.day).pain.append(r.pain)
        if r.function is not None:
            row(r.day).function.append(r.function)
    for v in chart.visits:
        row(v.day).visits.append(f"{v.kind} {v.status.replace('_', '-')}")
    for d in chart.decisions:
        row(d.day).decisions.append(d.label)
    return [days[day] for day in sorted(days)]
