"""The web page in headless Debian Chromium (Playwright for Python), over a real API server.

The ban → vanish check uses the API's live ban re-check: the filter and the indexer are not
running here, so the product stays in the index, and the page must still stop showing it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from tests.integration.test_api_neighbours import learned_refinement
from tests.integration.test_client_api import (
    ADMIN,
    HOSTILE_NAME,
    ApiServer,
    api_settings,
    catalogue,
    produce,
    seed_index,
)

from vitrina.contracts.codec import encode
from vitrina.settings import Settings

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="needs Debian chromium: apt-get install -y chromium "
        "(scripts/install-system-deps.sh)",
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def site(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, str, list[dict[str, Any]]]]:
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("web"))
    products = catalogue(120)
    seed_index(settings, products)
    stats = [
        encode(
            "category_stats",
            {
                "category": name,
                "products": n,
                "min_price": 10.0,
                "avg_price": 100.0 * n,
                "max_price": 999.0,
                "stock_available": n,
                "stock_reserved": 0,
                "orders": n * 2,
                "revenue": 1000.0 * n,
                "computed_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
            },
        )
        for name, n in (("Электроника", 7), ("<i>Спорт</i>", 3))
    ]
    produce(
        settings,
        settings.topics.analytics_categories,
        [("Электроника", stats[0]), ("<i>Спорт</i>", stats[1])],
    )
    with ApiServer(settings) as server:
        yield settings, server.url, products


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


def search(page: Any, url: str, text: str) -> None:
    """Search for `text` and wait until the list shows that search's answer. (Waits are
    selectors and `expect`: the page's CSP forbids the eval wait_for_function polls with.)"""
    from playwright.sync_api import expect

    page.goto(url + "/#/")
    page.fill("#q", text)
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results")).to_have_attribute("data-q", text)


def test_search_shows_results_and_escapes_store_text(page: Any, site: Any) -> None:
    _, url, _ = site
    search(page, url, "клавиатура")
    cards = page.locator("#results .card")
    assert cards.count() >= 1
    assert "Найдено" in page.text_content("#summary")
    hostile = page.locator('#results .card[data-product-id="990001"] a.name')
    assert hostile.text_content().startswith(HOSTILE_NAME), "HTML in names is shown as text"
    assert page.evaluate("window.__pwned") is None, "a script in a product name ran"
    assert page.locator("#results script, #results img").count() == 0
    assert page.console_errors == [], "no CSP violations or script errors"


def test_the_page_says_how_it_read_a_price_and_an_order_typed_in_the_query(
    page: Any, site: Any
) -> None:
    """«клавиатура до 5000» is a price filter and «самая дешевая клавиатура» a price order
    (search/typed_filters.understood): the page says so under the summary, and lists the
    keyboards by price. A plain query says nothing."""
    _, url, _ = site

    def shown(selector: str) -> str:  # ru-RU groups digits with a no-break space
        return page.text_content(selector).replace("\xa0", " ").replace("\u202f", " ")

    search(page, url, "клавиатура до 5000")
    assert shown("#understood") == "Понято: «клавиатура» · до 5 000 ₽"
    search(page, url, "самая дешевая клавиатура")
    assert shown("#understood") == "Понято: «клавиатура» · сначала дешёвые"
    cards = page.locator("#results .card .price").all_text_contents()
    prices = [float("".join(t.split()[:-1]).replace(",", ".")) for t in cards]  # 4 999,99 RUB
    assert len(prices) >= 2 and prices == sorted(prices), cards
    search(page, url, "клавиатура")
    assert shown("#understood") == ""
    assert page.console_errors == []


def test_filters_and_product_page(page: Any, site: Any) -> None:
    from playwright.sync_api import expect

    _, url, products = site
    page.goto(url + "/#/")
    page.fill("#price_max", "2000")
    page.check("#in_stock")
    page.select_option("#sort", "price_asc")
    page.click("#search-form button[type=submit]")
    # The filtered search's answer, not the unfiltered list the page showed first: waiting
    # for any card read that list once (4409.99 first) when it was still on the page.
    results = page.locator("#results")
    expect(results).to_have_attribute("data-search", "price_max=2000&in_stock=true&sort=price_asc")
    page.wait_for_selector("#results .card")
    prices = page.eval_on_selector_all("#results .card", "cs => cs.map(c => c.dataset.productId)")
    by_id = {p["product_id"]: p for p in products}
    amounts = [by_id[pid]["price"]["amount"] for pid in prices]
    assert amounts == sorted(amounts) and all(a <= 2000 for a in amounts)
    first = prices[0]
    page.click(f'#results .card[data-product-id="{first}"] a.name')
    page.wait_for_selector("#product-name")
    assert page.text_content("#product-name") == by_id[first]["name"]
    assert by_id[first]["description"] in page.text_content("#product")


def shown_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all("#results .card", "cs => cs.map(c => c.dataset.productId)")


def test_a_search_lives_in_the_address_for_links_reloads_and_back(page: Any, site: Any) -> None:
    """The search and its filters, sort and page are in the URL: a link opens the same
    results, the product page's back link and the browser's Back return to them."""
    from playwright.sync_api import expect

    _, url, products = site
    card = '#results .card[data-product-id="{}"]'.format
    page.goto(url + "/#/")
    page.fill("#price_max", "50000")
    page.select_option("#sort", "price_asc")
    page.click("#search-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"#/\?.*price_max=50000.*sort=price_asc"))
    # that search's answer, not the unfiltered list shown before it (data-search, app.js)
    expect(page.locator("#results")).to_have_attribute(
        "data-search", "price_max=50000&sort=price_asc"
    )
    page.wait_for_selector("#results .card")
    first_page = shown_ids(page)
    link = page.url
    page.click("#next")
    expect(page).to_have_url(re.compile(r"offset=12"))
    page.wait_for_selector(card(first_page[0]), state="detached")
    second_page = shown_ids(page)
    assert second_page and not set(second_page) & set(first_page)
    page.go_back()  # Back steps to the first page of results
    page.wait_for_selector(card(first_page[0]))
    assert shown_ids(page) == first_page and page.input_value("#price_max") == "50000"

    fresh = page.context.new_page()  # the link in a new tab: the same form and results
    fresh.goto(link)
    fresh.wait_for_selector(card(first_page[0]))
    expect(fresh.locator("#sort")).to_have_value("price_asc")
    assert fresh.input_value("#price_max") == "50000" and shown_ids(fresh) == first_page
    fresh.close()

    wanted = products[5]  # a plain query string from outside: /?q=…
    page.goto(url + "/?q=" + quote(wanted["name"]))
    page.wait_for_selector(card(wanted["product_id"]))
    expect(page.locator("#q")).to_have_value(wanted["name"])
    page.click(card(wanted["product_id"]) + " a.name")
    page.wait_for_selector("#product-name")
    page.click("#view-product a.back")  # "← к результатам": the same search, not a blank one
    page.wait_for_selector(card(wanted["product_id"]))
    expect(page.locator("#q")).to_have_value(wanted["name"])
    assert page.console_errors == []


def test_a_slow_answer_to_an_older_search_does_not_replace_a_newer_one(
    page: Any, site: Any
) -> None:
    from playwright.sync_api import expect

    _, url, products = site
    first, second = products[3]["name"], products[4]["name"]
    held: list[Any] = []
    page.goto(url + "/#/")
    expect(page.locator("#results")).to_have_attribute("data-q", "")
    page.route(
        re.compile(r".*/api/v1/search\?q=" + re.escape(quote_plus(first)) + "&.*"),
        lambda route: held.append(route),
    )
    page.fill("#q", first)
    page.click("#search-form button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(quote_plus(first))))
    page.fill("#q", second)
    page.click("#search-form button[type=submit]")
    expect(page.locator("#results")).to_have_attribute("data-q", second)
    assert len(held) == 1, "the first search's request was held back"
    with page.expect_response(lambda r: quote_plus(first) in r.url):
        held[0].continue_()  # the older search answers last
    with pytest.raises(AssertionError):  # and must not replace the newer one's list
        expect(page.locator("#results")).to_have_attribute("data-q", first, timeout=1500)
    assert page.locator(f'#results .card[data-product-id="{products[4]["product_id"]}"]').count()


def test_operator_bans_and_product_vanishes(page: Any, site: Any) -> None:
    _, url, products = site
    target = products[10]
    search(page, url, target["name"])
    selector = f'#results .card[data-product-id="{target["product_id"]}"]'
    page.wait_for_selector(selector)
    page.goto(url + "/#/ops")
    page.fill("#token", ADMIN)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#topics tbody tr")
    assert page.evaluate("sessionStorage.getItem('vitrina.adminToken')") == ADMIN
    page.fill("#ban-id", target["product_id"])
    page.fill("#ban-reason", "подделка")
    page.click("#ban-form button[type=submit]")
    page.wait_for_selector(f'#bans tr[data-ban="{target["product_id"]}"]')
    assert page.locator("#health tbody tr").count() >= 1
    search(page, url, target["name"])
    page.wait_for_selector(selector, state="detached")
    page.goto(url + f"/#/product/{target['product_id']}")
    page.wait_for_selector("#error:not([hidden])")
    assert "not available" in page.text_content("#error")


def test_a_product_address_with_a_broken_escape_says_so(page: Any, site: Any) -> None:
    """A blind review: #/product/%E0%A4%A threw "URIError: URI malformed" and left an empty
    product view."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site[1] + "/#/product/%E0%A4%A")
    page.wait_for_selector("#error:not([hidden])")
    assert "broken %-escape" in page.text_content("#error")
    assert errors == [] and page.console_errors == []


def test_api_docs_render_offline_under_the_pages_policy(page: Any, site: Any) -> None:
    """A blind review: /docs, which `vitrina up` prints, was blank: FastAPI's page loads
    Swagger UI from a CDN (unreachable offline) with an inline script, both refused by the
    page's Content-Security-Policy. Served by the API itself now."""
    page.goto(site[1] + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Vitrina client API" in page.text_content(".swagger-ui .info .title")
    page.wait_for_selector('.opblock-summary-path[data-path="/api/v1/search"]')
    assert page.console_errors == []


def test_wrong_token_says_so(page: Any, site: Any) -> None:
    page.goto(site[1] + "/#/ops")
    page.fill("#token", "wrong")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "token is wrong" in page.text_content("#error")


def test_category_charts_and_phone_width(browser: Any, site: Any) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(site[1] + "/#/stats")
        page.wait_for_selector("#charts svg rect")
        assert page.locator("#charts .chart").count() == 4
        labels = page.eval_on_selector_all("#charts svg text", "ts => ts.map(t => t.textContent)")
        assert "<i>Спорт</i>" in labels, "category names are text, not markup"
        search(page, site[1], "клавиатура")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than a phone screen"
    finally:
        context.close()


def test_operator_sees_alerts_as_text_with_severity(page: Any, site: Any) -> None:
    import httpx
    from tests.integration.test_ops_alerts import HOSTILE, notification

    body = notification("VitrinaBrowserCheck", severity="critical")
    posted = httpx.post(
        site[1] + "/api/v1/alerts/webhook",
        json=body,
        timeout=10,
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert posted.status_code == 202, posted.text
    page.goto(site[1] + "/#/ops")
    page.fill("#token", ADMIN)
    page.click("#token-form button[type=submit]")
    item = page.locator('#notifications li.alert[data-alert="VitrinaBrowserCheck"]').first
    item.wait_for()
    assert "sev-critical" in (item.get_attribute("class") or "")
    assert HOSTILE in item.text_content(), "alert text from rule annotations is shown as text"
    assert "Что делать: read `vitrina dlq show`" in item.text_content()
    assert page.locator("#alerts-panel img, #alerts-panel script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.text_content("#alerts-state"), "says whether Prometheus runs / what fires"


def test_a_query_that_finds_nothing_shows_what_customers_searched_next(
    browser: Any, broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A refinement learned by a real analytics run (test_api_neighbours): the page shows
    its results and says whose search they are, in place of «Ничего не найдено»."""
    from playwright.sync_api import expect

    settings = api_settings(broker_settings, tmp_path_factory.mktemp("web-refined"))
    target = learned_refinement(settings)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        with ApiServer(settings) as server:
            search(page, server.url, "бздынька")
            assert page.locator("#results .card").count() >= 1
            expect(page.locator("#understood")).to_have_text(
                "По запросу «бздынька» ничего не нашлось. Показаны результаты по запросу "
                f"«{target}» — так его искали другие покупатели."
            )
            search(page, server.url, "хрючевоз")
            assert page.text_content("#summary") == "Ничего не найдено"
            assert page.text_content("#understood") == ""
    finally:
        context.close()
