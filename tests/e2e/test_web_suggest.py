"""The search box suggests product names as the customer types (headless Chromium)."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_web_browser import browser, page, pytestmark, site  # noqa: F401

__all__ = ["pytestmark"]


def test_typing_fills_the_suggestion_list_with_names_as_text(page: Any, site: Any) -> None:  # noqa: F811
    _, url, _ = site
    page.goto(url + "/#/")
    page.type("#q", "клавиат", delay=30)
    page.wait_for_selector("#suggestions option", state="attached")
    values = page.eval_on_selector_all("#suggestions option", "os => os.map(o => o.value)")
    assert values and all("лавиатур" in v for v in values), values
    assert page.evaluate("window.__pwned") is None, "a script in a product name ran"
    assert page.console_errors == []
