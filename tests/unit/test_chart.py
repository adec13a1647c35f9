"""The progress chart: a parseable SVG named "Progress chart", with every series drawn, and a
table of the same data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from web import chart as c

SVG = "{http://www.w3.org/2000/svg}"
D = date(2026, 11, 2)


def _day(n: int) -> date:
    return date.fromordinal(D.toordinal() + n)


def sample() -> c.Chart:
    return c.Chart(
        start=D, end=_day(40),
        readings=(c.Reading(_day(1), 8, 3), c.Reading(_day(8), 6, None),
                  c.Reading(_day(20), 3, 7)),
        visits=(c.VisitMark(_day(0), "attended"), c.VisitMark(_day(4), "no_show"),
                c.VisitMark(_day(7), "cancelled"), c.VisitMark(_day(11), "attended"),
                c.VisitMark(_day(42), "booked")),
        phases=(c.PhaseBand("initial", D, _day(14)), c.PhaseBand("middle", _day(15), _day(40))),
        decisions=(c.DecisionMark(_day(15), "initial -> middle"),))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_the_chart_is_an_img_named_progress_chart_by_its_title() -> None:
    root = parse(c.render_svg(sample()))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("Progress chart")
    assert root.get("aria-labelledby") == title.get("id")
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.get("id") == root.get("aria-describedby")
    assert "3 reports" in (desc.text or "") and "pain went from 8 to 3" in (desc.text or "")


def test_pain_and_function_are_two_lines_through_their_points() -> None:
    root = parse(c.render_svg(sample()))
    pain = root.find(f".//{SVG}polyline[@class='pain']")
    function = root.find(f".//{SVG}polyline[@class='function']")
    assert pain is not None and function is not None
    assert len((pain.get("points") or "").split()) == 3
    assert len((function.get("points") or "").split()) == 2  # the report without function
    # Told apart by dash as well as colour (never colour alone).
    assert function.get("stroke-dasharray") and not pain.get("stroke-dasharray")
    # A higher value is drawn higher on the page (a smaller y): pain 8, 6, 3 descends.
    ys = [float(p.split(",")[1]) for p in (pain.get("points") or "").split()]
    assert ys[0] < ys[1] < ys[2]


def test_sessions_no_shows_cancellations_phases_and_decisions_are_marked() -> None:
    root = parse(c.render_svg(sample()))
    classes = [e.get("class") for e in root.iter()]
    assert classes.count("visit attended") == 2
    assert classes.count("visit no_show") == 1
    assert classes.count("visit cancelled") == 1
    assert classes.count("phase phase-initial") == 1 and classes.count("phase phase-middle") == 1
    assert classes.count("decision") == 1
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "2026-11-17: initial -> middle" in titles


def test_points_fall_inside_the_plot_and_in_date_order() -> None:
    root = parse(c.render_svg(sample()))
    xs = [float(e.get("cx") or 0) for e in root.iter(f"{SVG}circle")
          if e.get("class") == "visit attended"]
    assert c.LEFT <= xs[0] < xs[1] <= c.WIDTH - c.RIGHT


def test_text_is_escaped() -> None:
    chart = c.Chart(start=D, end=_day(1), decisions=(c.DecisionMark(D, "<script>&"),))
    svg = c.render_svg(chart)
    assert "<script>" not in svg
    parse(svg)  # still well-formed


def test_an_empty_plan_still_draws_a_named_chart() -> None:
    root = parse(c.render_svg(c.Chart(start=D, end=D)))
    assert "No progress reports yet." in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]


def test_the_table_holds_the_same_data_by_day() -> None:
    rows = c.table(sample())
    assert [r.day for r in rows] == sorted({_day(n) for n in (0, 1, 4, 7, 8, 11, 15, 20, 42)})
    by_day = {r.day: r for r in rows}
    assert by_day[_day(1)].pain == [8] and by_day[_day(1)].function == [3]
    assert by_day[_day(4)].visits == ["needling no-show"]
    assert by_day[_day(15)].decisions == ["initial -> middle"]
    assert by_day[_day(20)].phase == "middle" and by_day[_day(1)].phase == "initial"
