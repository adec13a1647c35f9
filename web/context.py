"""The core's wiring as the web layer sees it: the app's units of work, clock and settings.

api/ builds the wiring (`app.extensions["cadence"]`); web/ reaches it by that name and this
protocol, never by importing api/."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from flask import current_app

from config import Settings
from scheduler.db import UnitOfWork

EXTENSION = "cadence"


class Wiring(Protocol):
    settings: Settings

    def uow(self, *, read_only: bool = False) -> UnitOfWork: ...

    def now(self) -> datetime: ...


def wiring() -> Wiring:
    """The current app's wiring (made by api.create_app)."""
    return cast(Wiring, current_app.extensions[EXTENSION])
