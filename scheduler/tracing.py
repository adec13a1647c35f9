"""The request id of the work in progress, so audit entries and outbox events can carry it.

The API sets it for the length of a request (`api/observability.py`); scheduler jobs leave it
unset. A context variable, so nothing has to thread it through every service call."""

from __future__ import annotations

from contextvars import ContextVar, Token

_REQUEST_ID: ContextVar[str | None] = ContextVar("cadence_request_id", default=None)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


def set_request_id(request_id: str | None) -> Token[str | None]:
    return _REQUEST_ID.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _REQUEST_ID.reset(token)
