"""The plan page's POSTs: one service call each, the API's validation and audit (the actor is
`staff:<id>`); a refused form re-renders the page with the error beside its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, redirect, render_template, request, url_for

from scheduler.errors import Conflict, PreconditionFailed, ValidationFailed
from scheduler.services import contacts, plans, reports
from web import auth, plan_forms
from web.context import wiring
from web.plan_view import CLINICAL, CONTACT, render

# URL segment -> the API's action name (the forms post to /app/plans/<id>/<segment>).
ACTIONS = {"record-consent": "record_consent", "override": "override",
           "clear-override": "clear_override", "set-phase": "set_phase", "hold": "hold",
           "resume": "resume", "discharge": "discharge",
           "clear-do-not-contact": "clear_do_not_contact"}


def _saved(plan_id: str, what: str) -> Any:
    # Post/redirect/get: a reload after success does not post the form again.
    return redirect(url_for("pages.plan", plan_id=plan_id, saved=what), code=303)


def attempt(plan_id: str, form_name: str, call: Callable[[], Any], saved: str) -> Any:
    """Run `call` (one service call); map its refusals onto the re-rendered page."""
    values = {form_name: request.form.to_dict()}
    try:
        call()
    except plan_forms.FormErrors as exc:
        return render(plan_id, status=422, errors={form_name: exc.errors}, values=values)
    except ValidationFailed as exc:
        return render(plan_id, status=422, errors={form_name: exc.errors}, values=values)
    except PreconditionFailed:
        # Nothing was written; the page shows the plan as it is now.
        return render(plan_id, status=409, conflict=True)
    except Conflict as exc:
        return render(plan_id, status=409, errors={form_name: {"form": [exc.detail]}},
                      values=values)
    return _saved(plan_id, saved)


@auth.staff_required(*CLINICAL)
def act(plan_id: str, segment: str) -> Any:
    name = ACTIONS.get(segment)
    if name is None:
        abort(404)
    form = request.form
    if name == "discharge" and form.get("confirm") != "yes":
        return _confirm_discharge(plan_id)

    def call() -> None:
        version = plan_forms.expected_version(form)
        body = plan_forms.action(name, form)
        wired = wiring()
        now = wired.now()
        if name == "record_consent":
            body.update(recorded_at=now, recorded_by=auth.staff_actor().name)
        plans.act(wired.uow(), plan_id, body, expected_version=version,
                  actor=auth.staff_actor(), now=now, scope=auth.scope())

    return attempt(plan_id, name, call, name)


def _confirm_discharge(plan_id: str) -> Any:
    """The confirmation step (no JS): the reason is checked, nothing is written yet."""
    try:
        plan_forms.expected_version(request.form)
        plan_forms.action("discharge", request.form)
    except plan_forms.FormErrors as exc:
        return render(plan_id, status=422, errors={"discharge": exc.errors},
                      values={"discharge": request.form.to_dict()})
    wired = wiring()
    # Another clinic's plan is a 404 here too (NotFound), before anything is shown.
    plan = plans.get_plan(wired.uow(read_only=True), plan_id, now=wired.now(),
                          scope=auth.scope())
    return render_template("confirm_discharge.html", plan=plan,
                           reason=request.form.get("reason", ""),
                           if_match=request.form.get("if_match", ""))


@auth.staff_required(*CLINICAL)
def record_report(plan_id: str) -> Any:
    form = request.form

    def call() -> None:
        version = plan_forms.expected_version(form)
        body = plan_forms.report(form)
        wired = wiring()
        now = wired.now()
        reports.record_report(wired.uow(), plan_id, recorded_at=now, **body,
                              actor=auth.staff_actor(), now=now, scope=auth.scope(),
                              expected_version=version)

    return attempt(plan_id, "report", call, "report")


@auth.staff_required(*CONTACT)
def log_contact(plan_id: str) -> Any:
    form = request.form

    def call() -> None:
        body = plan_forms.contact(form, contacts.CHANNELS, contacts.OUTCOMES)
        wired = wiring()
        contacts.log_contact(wired.uow(), plan_id, **body, actor=auth.staff_actor(),
                             now=wired.now(), scope=auth.scope())

    return attempt(plan_id, "contact", call, "contact")
