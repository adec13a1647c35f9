"""The `web` blueprint at /app: sign-in, sign-out, the landing page, HTML error pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from scheduler.services import staff as staff_service
from web import auth, errors
from web.context import wiring
from web.csrf import protect_blueprint

bp = Blueprint("web", __name__, url_prefix="/app", template_folder="templates",
               static_folder="static", static_url_path="/static")
protect_blueprint(bp)
errors.register(bp)

# Same words for an unknown email, a wrong password, a locked or a disabled account.
SIGN_IN_FAILED = "The email or password is incorrect."
# Pages: nothing from another origin, no framing, forms post only here.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


@bp.after_app_request
def _page_headers(response: Response) -> Response:
    if request.path.startswith("/app") or request.path.startswith("/c/"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages carry patient data: never cached, so Back after sign-out asks the server.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path of this app only (no open redirect)."""
    if target and target.startswith("/app") and not target.startswith("//") \
            and "\\" not in target and target.isprintable():
        return target
    return url_for("web.index")


@bp.get("/login")
def login() -> Any:
    if auth.current_staff() is not None:
        return redirect(_safe_next(request.args.get("next")), code=303)
    return render_template("login.html", next=request.args.get("next", ""), errors={},
                           email="")


@bp.post("/login")
def login_post() -> Any:
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    errors: dict[str, list[str]] = {}
    if not email.strip():
        errors["email"] = ["Enter your email."]
    if not password:
        errors["password"] = ["Enter your password."]
    if not errors:
        wired = wiring()
        user = staff_service.authenticate(wired.uow(), email=email, password=password,
                                          now=wired.now())
        if user is not None:
            auth.sign_in(user)
            return redirect(_safe_next(target), code=303)
        errors["form"] = [SIGN_IN_FAILED]
    return render_template("login.html", next=target, errors=errors, email=email), 401


@bp.post("/logout")
def logout() -> Any:
    auth.sign_out()
    return redirect(url_for("web.login"), code=303)


@bp.get("/")
@auth.staff_required()
def index() -> Any:
    """The user's first clinic's follow-ups (the front desk's day starts there)."""
    staff = auth.signed_in()
    if staff.clinic_ids:
        return redirect(f"{url_for('web.index')}clinics/{staff.clinic_ids[0]}/followups",
                        code=303)
    return render_template("home.html")


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_rest: str) -> Any:
    """Any other /app path: the HTML 404 page (not the API's problem+json)."""
    abort(404)
