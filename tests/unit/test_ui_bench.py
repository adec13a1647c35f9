"""The staff pages benchmark's pure parts: reading the sign-in form and cookie, counting the
follow-ups rows, the figures and targets; and wrk scripts with a headers table."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# bench/ is not an installed package (nor on pytest's path): the repository root goes first
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import ui_bench  # noqa: E402
from bench.api_bench.wrk import WrkResult, lua_headers, write_lua  # noqa: E402


def _result(rps: float, p99: float) -> WrkResult:
    return WrkResult(rps=rps, p50_ms=p99 / 2, p99_ms=p99, requests=int(rps * 10), errors=0,
                     non2xx=0)


def test_csrf_token_is_the_forms_hidden_field() -> None:
    html = '<form><input type="hidden" name="csrf_token" value="abc.def-1"></form>'
    assert ui_bench.csrf_token(html) == "abc.def-1"
    with pytest.raises(RuntimeError):
        ui_bench.csrf_token("<form></form>")


def test_session_cookie_among_several_set_cookie_headers() -> None:
    headers = ["other=1; Path=/", "cadence_session=tok_XYZ; Path=/; HttpOnly; SameSite=Lax"]
    assert ui_bench.session_cookie(headers) == "tok_XYZ"
    assert ui_bench.session_cookie(["not_cadence_session=1"]) is None
    assert ui_bench.session_cookie([]) is None


def test_row_links_counts_plan_links_in_the_table_body_only() -> None:
    html = ('<a href="/app/plans/p0">nav</a><table><tbody>'
            '<tr><th><a href="/app/plans/p1">MRN-1</a></th></tr>'
            '<tr><th><a href="/app/plans/p2">MRN-2</a></th></tr></tbody></table>')
    assert ui_bench.row_links(html) == 2
    assert ui_bench.row_links("<p>No follow-ups due today</p>") == 0


def test_summarise_ratios_of_medians_and_targets() -> None:
    results = {"bare_get": [_result(1000, 10), _result(900, 12), _result(1100, 11)],
               "followups_page": [_result(300, 30), _result(250, 25), _result(280, 28)],
               "plan_page": [_result(200, 40), _result(240, 35), _result(220, 50)]}
    out = ui_bench.summarise(results, {"bare_get": [500.0], "followups_page": [3000.0],
                                       "plan_page": []})
    assert list(out)[:4] == ["followups_page_ratio", "plan_page_ratio",
                             "followups_page_p99_ms", "plan_page_p99_ms"]
    assert out["followups_page_ratio"] == 0.28  # 280 / 1000
    assert out["plan_page_ratio"] == 0.22
    assert out["bare_p99_ms"] == 11
    assert out["followups_page_p99_ms"] == 28  # <= 3 x 11
    assert out["plan_page_p99_ms"] == 40  # > 33
    assert out["targets_met"] == {"followups_page": True, "plan_page": False}
    assert out["server_cpu_us_per_request"] == {"bare_get": 500, "followups_page": 3000}


def test_wrk_script_carries_the_given_headers(tmp_path: Path) -> None:
    script = tmp_path / "page.lua"
    write_lua(script, "page", ["/app/plans/a", "/app/plans/b"], None, 2,
              headers={"Cookie": "cadence_session=t1"})
    text = script.read_text()
    assert 'local headers = {["Cookie"] = "cadence_session=t1"}' in text
    assert "Authorization" not in text
    assert 'wrk.format("GET", next_id(), headers)' in text
    write_lua(script, "bare_get", ["r1", "r2"], "k3y", 2)
    assert '["Authorization"] = "Bearer k3y"' in script.read_text()


def test_lua_strings_are_escaped() -> None:
    assert lua_headers({"X": 'a"b\\c'}) == '["X"] = "a\\"b\\\\c"'
    with pytest.raises(ValueError):
        lua_headers({"X": "a\nb"})
