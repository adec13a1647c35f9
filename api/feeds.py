"""GET /feeds/{token}.ics (outside /api/v1, no bearer key: the token is the credential)."""

from __future__ import annotations

from flask import Blueprint, Response

from api.context import cadence
from api.problems import problem
from scheduler.errors import NotFound
from scheduler.services import calendar_feeds, calendars

bp = Blueprint("feeds", __name__)


@bp.get("/feeds/<token>.ics")
def feed(token: str) -> Response:
    """A clinic's proposed follow-ups; an unknown or revoked token is a bare 404."""
    wiring = cadence()
    try:
        body = calendar_feeds.feed_calendar(wiring.uow(read_only=True), token,
                                            now=wiring.now())
    except NotFound:
        return problem(404, "The requested resource does not exist.", slug="not-found")
    return Response(body, mimetype=calendars.TEXT_CALENDAR,
                    headers={"Cache-Control": "private, max-age=300"})
