"""Helpers for the staff-page tests: sign in as a role, read a page's forms the way a browser
would (labels, buttons, hidden fields, the CSRF token) and post one of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient

from scheduler.services import audit
from scheduler.services.staff import StaffUser
from tests.builders import UowFactory, footprint
from tests.web.conftest import sign_in


@dataclass
class Form:
    """One <form>: where it posts, its accessible name, its fields, labels and buttons."""

    action: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value (hidden and visible)
    labels: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)  # name -> option values


class _Forms(HTMLParser):
    TEXT_TAGS = ("label", "button", "h1", "h2", "h3")  # never nested in our pages

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.ids: dict[str, str] = {}  # heading id -> text (for aria-labelledby)
        self._form: Form | None = None
        self._labelledby: str | None = None
        self._open: tuple[str, str, list[str]] | None = None  # (tag, id, text parts)
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in self.TEXT_TAGS:
            self._open = (tag, a.get("id", ""), [])
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("aria-label", ""))
            self._labelledby = a.get("aria-labelledby")
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag in ("input", "textarea"):
            if a.get("type") != "checkbox" or "checked" in a:
                self._form.fields[a.get("name", "")] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name", "")
            self._form.selects[self._select] = []
            self._form.fields[self._select] = ""
        elif tag == "option" and self._select is not None:
            self._form.selects[self._select].append(a.get("value", ""))
            if "selected" in a or not self._form.fields[self._select]:
                self._form.fields[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if self._open is not None and self._open[0] == tag:
            _, element_id, parts = self._open
            words = " ".join("".join(parts).split())
            self._open = None
            if element_id:
                self.ids[element_id] = words
            if self._form is not None and tag == "label":
                self._form.labels.append(words)
            if self._form is not None and tag == "button":
                self._form.buttons.append(words)
        if tag == "form" and self._form is not None:
            if self._labelledby:
                self._form.name = self.ids.get(self._labelledby, "")
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with_button(html: str, button: str) -> Form:
    found = [f for f in forms(html) if button in f.buttons]
    assert len(found) == 1, f"{len(found)} forms with the button {button!r}"
    return found[0]


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def submit(client: FlaskClient, page_path: str, button: str, **values: str) -> Any:
    """Open `page_path`, fill the form of `button` with `values` and post it (its hidden
    fields, CSRF token and plan version included, as a browser would)."""
    form = form_with_button(text(client.get(page_path)), button)
    return client.post(form.action, data={**form.fields, **values})


def signed_in_as(client: FlaskClient, make_staff: Callable[..., StaffUser], role: str,
                 *clinic_ids: str) -> StaffUser:
    user = make_staff(role, *clinic_ids)
    assert sign_in(client, user.email).status_code == 303
    return user


def written(uow_factory: UowFactory, plan_id: str) -> dict[str, Any]:
    """What a write would change: the plan's footprint and its audit entries."""
    entries = audit.list_entries(uow_factory(), scope=None, plan_id=plan_id, limit=200).items
    return {**footprint(uow_factory(), plan_id), "audit": len(entries)}
