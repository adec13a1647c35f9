"""Per-app wiring of the core: engine, unit-of-work factory, clock and settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from config import Settings
from scheduler.db import UnitOfWork, make_engine, make_session_factory, utcnow

EXTENSION = "cadence"


@dataclass(frozen=True)
class Cadence:
    """What views need from the core; reach it with `cadence()`."""

    settings: Settings
    engine: Any
    session_factory: Callable[[], Any]
    clock: Callable[[], datetime]

    def uow(self) -> UnitOfWork:
        """A fresh unit of work for one service call."""
        return UnitOfWork(self.session_factory)

    def now(self) -> datetime:
        return self.clock()

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.idempotency_ttl_hours)


def init_app(
    app: Flask, settings: Settings, clock: Callable[[], datetime] | None = None
) -> Cadence:
    """Create the engine (lazily connecting) and register the wiring on `app`."""
    engine = make_engine(settings.database_url)
    wiring = Cadence(settings, engine, make_session_factory(engine), clock or utcnow)
    app.extensions[EXTENSION] = wiring
    return wiring


def cadence() -> Cadence:
    """The current app's wiring."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
