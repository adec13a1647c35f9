"""Error pages of the web blueprints: 400 (a refused CSRF token), 403, 404, 409 and others."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from scheduler import errors as core

TEMPLATES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html",
             409: "errors/409.html"}


def page(status: int, detail: str | None = None) -> tuple[str, int]:
    """The error page for `status`."""
    template = TEMPLATES.get(status, "errors/error.html")
    return render_template(template, status=status, detail=detail), status


def _http(error: HTTPException) -> tuple[str, int]:
    return page(error.code or 500)


def _not_found(_error: core.NotFound) -> tuple[str, int]:
    return page(404)


def _conflict(error: core.CadenceError) -> tuple[str, int]:
    return page(409, error.detail)


def register(blueprint: Blueprint) -> None:
    """HTML error pages for errors raised in `blueprint`'s views and hooks."""
    blueprint.register_error_handler(HTTPException, _http)
    blueprint.register_error_handler(core.NotFound, _not_found)
    blueprint.register_error_handler(core.Conflict, _conflict)
    blueprint.register_error_handler(core.PreconditionFailed, _conflict)
