"""The log format: one JSON object per line (console text on a terminal), exceptions without
their messages, gunicorn's lines without query strings, request context on every line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from scheduler import log_setup


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)
    root.setLevel(saved[0])
    log_setup.clear_request()


def test_lines_are_json_with_level_logger_time_and_the_request_id(restore_logging) -> None:
    out = io.StringIO()
    log_setup.configure("INFO", "auto", out)  # not a terminal: JSON
    log_setup.bind_request(request_id="r-1")
    log_setup.get_logger("cadence.test").info("thing happened", plan_id="pln_1", count=2)
    logging.getLogger("apscheduler.scheduler").warning("foreign %s", "line")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "thing happened" and first["count"] == 2
    assert (first["level"], first["logger"], first["request_id"]) == ("info", "cadence.test",
                                                                      "r-1")
    assert first["timestamp"].endswith("Z")
    assert (second["event"], second["logger"], second["request_id"]) == (
        "foreign line", "apscheduler.scheduler", "r-1")


def test_a_terminal_gets_console_text(restore_logging) -> None:
    out = Terminal()
    log_setup.configure("INFO", "auto", out)
    log_setup.get_logger("cadence.test").info("hello", n=1)
    text = out.getvalue()
    assert "hello" in text and "n=1" in text and not text.startswith("{")


def test_an_exception_is_its_type_and_frames_never_its_message(restore_logging) -> None:
    out = io.StringIO()
    log_setup.configure("DEBUG", "json", out)
    try:
        raise ValueError("MRN-1001 chronic low back pain")
    except ValueError:
        logging.getLogger("apscheduler.executors").exception("Job raised")
        log_setup.get_logger("cadence.test").error("ours", exc_info=True)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [x["exception"].splitlines()[0] for x in lines] == ["ValueError", "ValueError"]
    assert "test_log_setup.py" in lines[0]["exception"]
    assert "MRN-1001" not in out.getvalue()


def test_gunicorns_lines_lose_their_query_strings(restore_logging) -> None:
    out = io.StringIO()
    log_setup.configure("INFO", "json", out)
    logging.getLogger("gunicorn.error").error("Error handling request %s",
                                              "/api/v1/patients?external_id=MRN-1001")
    assert json.loads(out.getvalue())["event"] == "Error handling request /api/v1/patients?<query>"


def test_sql_and_its_parameters_never_reach_the_log_even_at_debug(restore_logging) -> None:
    log_setup.configure("DEBUG", "json", io.StringIO())
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


def test_configuring_twice_keeps_one_handler(restore_logging) -> None:
    log_setup.configure("INFO", "json", io.StringIO())
    log_setup.configure("INFO", "json", io.StringIO())
    assert log_setup.configured()
    assert sum(1 for h in logging.getLogger().handlers
               if getattr(h, "_cadence_handler", False)) == 1


def test_the_fast_access_logger_writes_the_same_line_as_the_standard_one(restore_logging) -> None:
    out = io.StringIO()
    log_setup.configure("INFO", "json", out)
    log_setup.bind_request(request_id="r-2")
    fields = {"method": "GET", "route": "/x/<plan_id>", "status": 200}
    log_setup.FastLogger("cadence.access").info("request", **fields)
    log_setup.get_logger("cadence.access").info("request", **fields)
    fast, slow = (json.loads(line) for line in out.getvalue().splitlines())
    assert fast.keys() == slow.keys() and fast["request_id"] == "r-2"
    assert {k: v for k, v in fast.items() if k != "timestamp"} == {
        k: v for k, v in slow.items() if k != "timestamp"}


def test_the_fast_logger_respects_the_level(restore_logging) -> None:
    out = io.StringIO()
    log_setup.configure("WARNING", "json", out)
    log_setup.FastLogger("cadence.access").info("request", status=200)
    assert out.getvalue() == ""
