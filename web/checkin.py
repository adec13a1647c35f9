"""The patient's check-in page, /c/<token>: no sign-in (the link is the credential), one use.
It shows the clinic's name and the last session's day and asks the plain-language questions;
sending records a progress report through the same service path as POST /reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from scheduler.errors import AlreadyUsed, Gone, NotFound, ValidationFailed
from scheduler.services import checkin_answers, checkins
from web.checkin_limits import TooMany, limits
from web.context import wiring
from web.csrf import protect_blueprint

bp = Blueprint("checkin", __name__, url_prefix="/c", template_folder="templates")

# Nothing but our own stylesheet: no script at all, no frames, forms post only here.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SORENESS = [(str(choice), label) for choice, label in checkin_answers.SORENESS_LABELS.items()]
FIELDS = ("pain", "function", "soreness", "adverse_event", "adverse_event_note", "notes")
STALE_FORM = ("This page was open for a long time, so it was not sent. Please check your "
              "answers and press Send again.")


@bp.before_request
def _rate_limited() -> None:
    token = (request.view_args or {}).get("token", "")
    limits().hit(token)


protect_blueprint(bp)  # after the limit: a flood of forged posts is counted too


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"  # the page and its answers: never kept
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the link's token
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _day(day: date | None) -> str | None:
    """"Tuesday 3 November 2026": the same words on every platform (no %-d)."""
    return f"{day:%A} {day.day} {day:%B %Y}" if day is not None else None


def _form(page: checkins.CheckinPage, values: dict[str, str], errors: dict[str, list[str]],
          status: int) -> tuple[str, int]:
    return render_template("checkin/form.html", page=page, values=values, errors=errors,
                           last_session=_day(page.last_session_date), soreness=SORENESS,
                           max_note=checkin_answers.MAX_NOTE), status


@bp.get("/<token>")
def show(token: str) -> Any:
    wired = wiring()
    page = checkins.open_checkin(wired.uow(read_only=True), token, now=wired.now())
    return _form(page, {"adverse_event": "no"}, {}, 200)


@bp.post("/<token>")
def send(token: str) -> Any:
    wired = wiring()
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        result = checkins.submit_checkin(wired.uow(), token, values, now=wired.now())
    except ValidationFailed as error:
        page = checkins.open_checkin(wired.uow(read_only=True), token, now=wired.now())
        return _form(page, values, error.errors, 422)
    return render_template("checkin/sent.html", adverse_event=result.adverse_event), 200


@bp.errorhandler(CSRFError)
def _stale(_error: CSRFError) -> Any:
    """A missing or stale CSRF token (the page sat open past the session): the form again,
    with the answers kept and a fresh token, so one more press sends it."""
    wired = wiring()
    token = (request.view_args or {}).get("token", "")
    try:
        page = checkins.open_checkin(wired.uow(read_only=True), token, now=wired.now())
    except AlreadyUsed as error:  # an error handler's own errors reach no other handler
        return _answered(error)
    except Gone as error:
        return _gone(error)
    except NotFound as error:
        return _unknown(error)
    values = {name: request.form.get(name, "") for name in FIELDS}
    return _form(page, values, {"form": [STALE_FORM]}, 400)


@bp.errorhandler(AlreadyUsed)
def _answered(_error: AlreadyUsed) -> Any:
    return render_template("checkin/answered.html"), 200


@bp.errorhandler(Gone)
def _gone(_error: Gone) -> Any:
    return render_template("checkin/gone.html"), 410


@bp.errorhandler(NotFound)
def _unknown(_error: NotFound) -> Any:
    return render_template("checkin/unknown.html"), 404


@bp.errorhandler(TooMany)
def _too_many(error: TooMany) -> Any:
    return (render_template("checkin/too_many.html", retry_after=error.retry_after), 429,
            {"Retry-After": str(error.retry_after)})


@bp.errorhandler(HTTPException)
def _http(error: HTTPException) -> Any:
    return render_template("checkin/error.html", status=error.code), error.code or 500
