"""WCAG 2.2 AA on the sign-in and error pages, measured in the browser: every field has a
label, text contrast is at least 4.5:1, focus is visible, errors are tied to their field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

# The contrast ratio of an element's text colour on the first opaque background behind it.
CONTRAST = """(el) => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let bg = null;
  for (let node = el; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c; break; }
  }
  bg = bg || [255, 255, 255];
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_the_sign_in_page_meets_contrast_labels_and_focus(page: Any) -> None:
    page.goto("/app/login")
    for selector in ("h1", "label[for=email]", "label[for=password]", "button[type=submit]",
                     ".brand a", ".skip-link"):
        ratio = page.locator(selector).first.evaluate(CONTRAST)
        assert ratio >= 4.5, (selector, ratio)
    for field in page.locator("input:not([type=hidden])").all():
        assert page.locator(f"label[for={field.get_attribute('id')}]").count() == 1
    page.get_by_label("Email").focus()
    outline = page.get_by_label("Email").evaluate(
        "(el) => [getComputedStyle(el).outlineStyle,"
        "         parseFloat(getComputedStyle(el).outlineWidth)]")
    assert outline[0] != "none" and outline[1] >= 2, outline
    assert page.locator("main#main").count() == 1
    assert page.locator("a.skip-link").get_attribute("href") == "#main"


def test_a_missing_field_is_named_beside_it_and_described_by_it(page: Any,
                                                                live_server: LiveServer) -> None:
    page.goto("/app/login")
    page.get_by_label("Password").fill("something long enough")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    email = page.get_by_label("Email")
    assert email.get_attribute("aria-invalid") == "true"
    described = email.get_attribute("aria-describedby")
    assert described == "email-error"
    error = page.locator(f"#{described}")
    assert error.inner_text() == "Enter your email."
    assert error.evaluate(CONTRAST) >= 4.5


def test_the_failure_message_is_an_alert_with_enough_contrast(page: Any,
                                                              live_server: LiveServer) -> None:
    page.goto("/app/login")
    page.get_by_label("Email").fill("nobody@clinic.example")
    page.get_by_label("Password").fill("something long enough")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "The email or password is incorrect."
    assert alert.evaluate(CONTRAST) >= 4.5
