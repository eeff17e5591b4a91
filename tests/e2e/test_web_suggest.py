"""The search box suggests product names as the customer types (headless Chromium)."""

from __future__ import annotations

import contextlib
from typing import Any

from tests.e2e.test_web_browser import browser, page, pytestmark, site  # noqa: F401

__all__ = ["pytestmark"]


def test_typing_fills_the_suggestion_list_with_names_as_text(page: Any, site: Any) -> None:  # noqa: F811
    _, url, _ = site
    page.goto(url + "/#/")
    page.type("#q", "клавиат", delay=30)
    # The list of the whole word, not the first one shown: on a loaded machine a keystroke
    # came more than the page's 120 ms pause after the one before, and the list of "к"
    # (bestsellers starting with к) was read before the list of "клавиат" replaced it.
    options = "#suggestions option"
    whole_word = f"""() => {{
        const os = [...document.querySelectorAll('{options}')].map((o) => o.value);
        return os.length > 0 && os.every((v) => v.includes('лавиатур'));
    }}"""
    from playwright.sync_api import TimeoutError as NotWithin

    with contextlib.suppress(NotWithin):  # the assert below shows what the list held
        page.wait_for_function(whole_word, timeout=15_000)
    values = page.eval_on_selector_all(options, "os => os.map(o => o.value)")
    assert values and all("лавиатур" in v for v in values), values
    assert page.evaluate("window.__pwned") is None, "a script in a product name ran"
    assert page.console_errors == []
