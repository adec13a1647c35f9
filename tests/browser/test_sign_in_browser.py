"""Signing in and out in a real browser (Debian's Chromium through playwright)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import LiveServer, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_a_staff_user_signs_in_and_the_header_names_them(page: Any,
                                                         live_server: LiveServer) -> None:
    user = live_server.staff("admin", name="Alex Admin")  # no clinic: the home page
    page.goto("/app/login")
    screenshot(page, "login")
    sign_in(page, user.email)
    assert urlsplit(page.url).path == "/app/"
    assert "Alex Admin" in page.locator("header").inner_text()
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_signing_in_goes_to_the_clinics_follow_ups(page: Any, live_server: LiveServer) -> None:
    clinic = live_server.clinic()
    user = live_server.staff("front_desk", clinic.id)
    sign_in(page, user.email)
    assert urlsplit(page.url).path == f"/app/clinics/{clinic.id}/followups"
