"""Patient search: by external id or display name within the signed-in user's clinics."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from scheduler.errors import ValidationFailed
from scheduler.services import patient_search
from web import auth
from web.context import wiring


@auth.staff_required()
def patients() -> Any:
    q = request.args.get("q", "")
    errors: dict[str, list[str]] = {}
    hits: list[patient_search.PatientHit] = []
    try:
        hits = patient_search.search_patients(wiring().uow(read_only=True), q=q,
                                               scope=auth.scope())
    except ValidationFailed as exc:
        errors = exc.errors
    body = render_template("patients.html", q=q, hits=hits, errors=errors,
                           searched=bool(q.strip()), limit=patient_search.LIMIT)
    return body, 400 if errors else 200
