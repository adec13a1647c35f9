"""Sessions in a real browser: sign-out ends the session (Back and a revisit lead to the sign-in
page), the lockout's message, keyboard use of the sign-in form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LiveServer, PageProblems, guard, sign_in

pytestmark = pytest.mark.browser

MESSAGE = "The email or password is incorrect."


def test_sign_out_ends_the_session_back_and_revisit_lead_to_sign_in(
        page: Any, live_server: LiveServer) -> None:
    user = live_server.staff("admin", name="Alex Admin")
    sign_in(page, user.email)
    assert urlsplit(page.url).path == "/app/"
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert urlsplit(page.url).path == "/app/login"
    page.go_back()  # the signed-in page is not cached: the server answers, and redirects
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/app/login"
    assert "Alex Admin" not in page.content()
    page.goto("/app/")
    assert urlsplit(page.url).path == "/app/login"
    assert page.get_by_role("button", name="Sign in").is_visible()


def test_five_wrong_passwords_lock_the_account_with_the_same_message(
        page: Any, live_server: LiveServer) -> None:
    clinic = live_server.clinic()
    user = live_server.staff("front_desk", clinic.id)
    for _ in range(5):
        sign_in(page, user.email, "not the password")
        assert page.get_by_role("alert").inner_text() == MESSAGE
    sign_in(page, user.email)  # the right one, but locked
    assert page.get_by_role("alert").inner_text() == MESSAGE
    assert urlsplit(page.url).path == "/app/login"


def test_the_sign_in_form_works_from_the_keyboard_alone(page: Any,
                                                        live_server: LiveServer) -> None:
    user = live_server.staff("admin")
    page.goto("/app/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the brand link, into Email
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/app/"


def test_the_sign_in_page_works_without_javascript(browser: Any,
                                                   live_server: LiveServer) -> None:
    user = live_server.staff("admin")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, user.email)
        assert urlsplit(page.url).path == "/app/"
    finally:
        context.close()


def test_a_request_to_another_host_is_aborted_and_recorded(browser: Any,
                                                           live_server: LiveServer) -> None:
    # Our pages' Content-Security-Policy would refuse the request first; without it, the
    # guard every page fixture installs must still stop it.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    problems = PageProblems()
    try:
        guard(context, live_server.url, problems)
        opened = context.new_page()
        opened.goto("/app/login")
        outcome = opened.evaluate("""() => fetch('https://cdn.example.com/x.js')
                                          .then(() => 'loaded', () => 'blocked')""")
        assert outcome == "blocked"
        assert problems.foreign_requests == ["https://cdn.example.com/x.js"]
    finally:
        context.close()


def test_our_pages_refuse_other_origins_by_content_security_policy(
        page: Any, page_problems: Any) -> None:
    page.goto("/app/login")
    outcome = page.evaluate("""() => fetch('https://cdn.example.com/x.js')
                                     .then(() => 'loaded', () => 'blocked')""")
    assert outcome == "blocked"
    assert any("Content Security Policy" in text for text, _ in page_problems.console_errors)
    page_problems.console_errors.clear()  # provoked on purpose, checked above
