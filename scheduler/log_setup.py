"""Structured logs (structlog over the standard library) for the web app, scheduler and CLI.

Every record, ours and other libraries' (gunicorn, APScheduler, SQLAlchemy), leaves through one
root handler whose `ProcessorFormatter` renders it as one JSON object per line, or as aligned
console text on a terminal. Request-scoped values (`request_id`) bound with `bind_request`
appear on every line written during the request, foreign ones included.

Never patient data: callers log ids, counts and statuses only. Exceptions are rendered as the
type and the file:line frames, never the message (database errors quote the statement's values,
a receiver controls what its error says), and query strings are cut from gunicorn's lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, merge_contextvars
from structlog.stdlib import ProcessorFormatter

# Loggers that would print SQL parameters or result rows at INFO/DEBUG: never below WARNING.
QUIET = {"sqlalchemy.engine": logging.WARNING, "werkzeug": logging.WARNING}
_QUERY = re.compile(r"\?\S*")
_HANDLER_MARK = "_cadence_handler"


def safe_exception(_logger: Any, _name: str,
                   event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """exc_info -> `exception`: the type and frames only (messages may carry patient data)."""
    info = event.pop("exc_info", None)
    if info is True:
        info = sys.exc_info()
    elif isinstance(info, BaseException):
        info = (type(info), info, info.__traceback__)
    if info and info[0] is not None:
        frames = traceback.extract_tb(info[2])
        event["exception"] = info[0].__name__ + "".join(
            f"\n  {f.filename}:{f.lineno} in {f.name}" for f in frames)
    event.pop("stack_info", None)
    return event


def scrub_queries(_logger: Any, _name: str,
                  event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """gunicorn's own lines ("Error handling request /x?y") lose their query strings."""
    if str(event.get("logger", "")).startswith("gunicorn"):
        event["event"] = _QUERY.sub("?<query>", str(event.get("event", "")))
    return event


_STAMP = structlog.processors.TimeStamper(fmt="iso", utc=True)
_SHARED: list[Any] = [
    merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _STAMP,
]
_output: tuple[logging.Handler, Any] | None = None  # the handler `configure` installed
_JSON = json.JSONEncoder(default=str).encode  # JSONRenderer(default=str), built once
_second: list[Any] = [-1, ""]  # the current second, formatted once


def _renderer(fmt: str, stream: TextIO) -> Any:
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(default=str)


def configure(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Install the one root handler (replacing an earlier one) and structlog's configuration.

    `fmt`: "json", "console" or "auto" (console when `stream` is a terminal)."""
    stream = stream if stream is not None else sys.stderr
    renderer = _renderer(fmt, stream)
    formatter = ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[ProcessorFormatter.remove_processors_meta, safe_exception, scrub_queries,
                    renderer])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    global _output
    _output = (handler, _JSON if isinstance(renderer, structlog.processors.JSONRenderer)
               else renderer)
    numeric = logging.getLevelName(level)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    # APScheduler writes a line per job run at INFO: only at DEBUG
    logging.getLogger("apscheduler").setLevel(numeric if numeric <= logging.DEBUG
                                              else max(numeric, logging.WARNING))
    for name in ("cadence", "gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)  # the root's level decides
        if name.startswith("gunicorn"):
            logger.handlers.clear()  # gunicorn's own handlers: our format instead
            logger.propagate = True
    _configure_structlog()


def configured() -> bool:
    """True once `configure` installed the root handler (in this process or a parent that
    forked it: gunicorn's workers inherit the master's)."""
    return any(getattr(h, _HANDLER_MARK, False) for h in logging.getLogger().handlers)


def _configure_structlog() -> None:
    structlog.configure(
        processors=[*_SHARED, ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


_configure_structlog()  # structlog loggers go through the standard library even unconfigured


def get_logger(name: str) -> Any:
    """A structlog logger writing through the standard library logger `name`."""
    return structlog.get_logger(name)


class FastLogger:
    """INFO lines on a hot path (the access line): the same fields, format and handler as
    `get_logger`'s, rendered directly instead of through a LogRecord and the formatter's
    chain (about a third of the cost). Falls back to `get_logger` until `configure` ran."""

    def __init__(self, name: str, *, context: bool = True) -> None:
        """`context=False`: the caller passes the request's values itself (faster)."""
        self.name = name
        self._context = context
        self._stdlib = logging.getLogger(name)
        self._slow = get_logger(name)

    def info(self, event: str, **fields: Any) -> None:
        output = _output
        if output is None:
            self._slow.info(event, **fields)
            return
        if not self._stdlib.isEnabledFor(logging.INFO):
            return
        fields["event"] = event
        if self._context:
            merge_contextvars(None, "info", fields)
        fields["level"], fields["logger"] = "info", self.name
        fields["timestamp"] = _timestamp()
        handler, render = output
        line = render(fields) if render is _JSON else render(None, "info", fields)
        stream = handler.stream  # type: ignore[attr-defined]
        with handler.lock:  # type: ignore[union-attr]
            stream.write(line + "\n")
            stream.flush()  # what handler.flush() does, without taking its lock again


def _timestamp() -> str:
    """TimeStamper(fmt="iso", utc=True)'s format, the date and time formatted once a second."""
    now = time.time()
    whole = int(now)
    if whole != _second[0]:
        _second[:] = [whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))]
    return f"{_second[1]}.{int((now - whole) * 1e6):06d}Z"


def bind_request(*, clear: bool = True, **values: Any) -> None:
    """Start a request's (or a job's) context: `values` appear on every line until cleared.

    `clear=False` skips clearing first, for a caller that clears at every end (the API's
    teardown): clearing walks every context variable of the thread."""
    if clear:
        clear_contextvars()
    bind_contextvars(**values)


def clear_request() -> None:
    clear_contextvars()
