"""wsgi:app with one fault for tests under gunicorn: the worker SIGKILLs itself at
CADENCE_FAULT the first time a keyed POST gets there (the marker file says it did):

- after-change: right after the view's unit of work commits (the 2nd of the request: the
  key's claim is the 1st);
- response: while the response is built (the report's plan view, after that commit);
- after-stored: once the request is done and stored, before the response is sent.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from flask import g, request

from api import context
from scheduler.services import reports
from wsgi import app

POINT = os.environ.get("CADENCE_FAULT", "")
MARKER = Path(os.environ.get("CADENCE_FAULT_MARKER", "/nonexistent/marker"))
HEADER = "Idempotency-Key"


def _die() -> None:
    if MARKER.exists():
        return
    MARKER.write_text(POINT)
    os.kill(os.getpid(), signal.SIGKILL)


_commit = context._RequestUnitOfWork.commit
_plan_view = reports.plan_view


def _commit_then_maybe_die(self: Any) -> None:
    _commit(self)
    if HEADER in request.headers:
        g.fault_commits = g.get("fault_commits", 0) + 1
        if POINT == "after-change" and g.fault_commits == 2:
            _die()


def _plan_view_or_die(*args: Any, **kwargs: Any) -> Any:
    if POINT == "response" and HEADER in request.headers:
        _die()
    return _plan_view(*args, **kwargs)


def _done_then_maybe_die(_error: BaseException | None) -> None:
    # teardown runs once the response is built and stored, before gunicorn sends it
    if POINT == "after-stored" and HEADER in request.headers:
        _die()


context._RequestUnitOfWork.commit = _commit_then_maybe_die  # type: ignore[method-assign]
reports.plan_view = _plan_view_or_die
app.teardown_request(_done_then_maybe_die)

__all__ = ["app"]
