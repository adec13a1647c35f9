"""Browser tests: the whole app (build_app) on a temporary SQLite file, served from a thread by
werkzeug, driven by playwright through Debian's Chromium (never a downloaded browser).

Every request to a host other than the app's is aborted and fails the test; so does any
console error or uncaught page error. Without Chromium or the playwright package the tests
skip saying why; with CI=true that is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from app_factory import build_app
from config import Settings
from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.services import staff as staff_service
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PASSWORD = "correct horse battery"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {reason}")
    pytest.skip(reason)


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail under CI=true)."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    _unavailable("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    raise AssertionError("unreachable")


@dataclass
class LiveServer:
    """The app served on 127.0.0.1 and a way to write data into its database."""

    url: str
    uow_factory: Callable[[], UnitOfWork]
    _counter: Any = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def clinic(self, **overrides: Any) -> ClinicView:
        return builders.clinic(self.uow_factory, self.now(), **overrides)

    def staff(self, role: str, *clinic_ids: str, name: str = "Sam Staff",
              password: str = PASSWORD) -> StaffUser:
        """A new staff user with a unique email (`staff<N>@clinic.example`)."""
        return staff_service.create_staff(
            self.uow_factory(), email=f"staff{next(self._counter)}@clinic.example", name=name,
            role=role, clinic_ids=clinic_ids, password=password, actor=builders.ACTOR,
            now=self.now())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """build_app on a fresh, migrated SQLite file, served from a thread (real clock)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'cadence-browser.db'}"
    engine = make_engine(url)
    schema.upgrade(engine, "head")
    # Plain http on 127.0.0.1, as `make run`: the session cookie is not Secure there.
    app = build_app(Settings(database_url=url, testing=True, log_level="WARNING",
                             web_plain_http=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-app", daemon=True)
    thread.start()
    try:
        factory = make_session_factory(engine)
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", lambda: UnitOfWork(factory))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["cadence"].engine.dispose()
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian, through playwright."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@dataclass
class PageProblems:
    """What a page did that fails the test: foreign requests, console errors."""

    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    # Pages answered with an error status (a test may well expect a 404 page): Chromium's
    # "Failed to load resource" line about such a page itself is not a page error.
    error_documents: set[str] = field(default_factory=set)

    def unexpected_console_errors(self) -> list[str]:
        return [text for text, url in self.console_errors
                if not (text.startswith("Failed to load resource")
                        and url in self.error_documents)]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, live_server: LiveServer, page_problems: PageProblems) -> Iterator[Any]:
    """A fresh browser context and page on the live server. Requests to any other host are
    aborted; they and console errors fail the test when it ends."""
    own = urlsplit(live_server.url).netloc
    context = browser.new_context(base_url=live_server.url)

    def only_ours(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            page_problems.foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    opened = context.new_page()
    opened.on("console", lambda message: page_problems.console_errors.append(
        (message.text, message.location.get("url", ""))) if message.type == "error" else None)
    opened.on("pageerror", lambda error: page_problems.console_errors.append((str(error), "")))
    opened.on("response", lambda response: page_problems.error_documents.add(response.url)
              if response.status >= 400 and response.request.resource_type == "document"
              else None)
    yield opened
    context.close()
    assert page_problems.foreign_requests == [], "requests left the app's host"
    assert page_problems.unexpected_console_errors() == [], "the page logged console errors"


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login page, as a person would (labels and the button's name)."""
    page.goto("/app/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as docs/screenshots/<name>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
