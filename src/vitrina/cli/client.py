"""`vitrina client …`: a customer's view of the platform, through the client API over HTTP."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from vitrina.cli.common import console, fail, handle_errors, price_text, settings, shown

app = typer.Typer(
    help="Search and recommendations as a customer sees them (via the client API).",
    no_args_is_help=True,
)

NOT_RUNNING_HINT = "start it with `vitrina up` or `vitrina run client-api`"


def api_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    s = settings()
    return f"http://{s.api.host}:{s.ports.client_api}"


def path_segment(text: str) -> str:
    """`text` as one URL path segment: every reserved character escaped, and the dots too,
    which clients would resolve away in "." or ".." (`vitrina client recommend 'a/b?c#d'`
    asked for another address; a blind review)."""
    from urllib.parse import quote

    return quote(text, safe="").replace(".", "%2E")


def call(url: str | None, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """GET an API route; print the API's own error message and hint on failure."""
    import httpx

    base = api_url(url)
    try:
        response = httpx.get(
            base + path, params={k: v for k, v in params.items() if v is not None}, timeout=30
        )
    except httpx.ConnectError:
        raise fail(f"the client API is not running at {base}", NOT_RUNNING_HINT) from None
    except httpx.HTTPError as exc:
        raise fail(f"the client API at {base} did not answer: {exc}", NOT_RUNNING_HINT) from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise fail(
            f"unexpected answer from {base} (HTTP {response.status_code})",
            "is something else listening on that port?",
        ) from None
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise fail(error.get("message") or f"HTTP {response.status_code}", error.get("hint"))
    return body


def _stock(product: dict[str, Any] | None) -> str:
    stock = (product or {}).get("stock") or {}
    available = stock.get("available", 0)
    return str(available) if available else "[red]нет[/]"


_ORDERS = {"price_asc": "cheapest first", "price_desc": "dearest first"}


def _understood(read: dict[str, Any] | None) -> str:
    """How the API read the query («наушники до 5к» → «наушники» · ≤ 5000 ₽), or ""."""
    if not read:
        return ""
    parts = [f"«{shown(read.get('q') or '')}»"]
    low, high = read.get("price_min"), read.get("price_max")
    if low is not None and high is not None:
        parts.append(f"{low:g}–{high:g} ₽")
    elif low is not None or high is not None:
        parts.append(f"≥ {low:g} ₽" if low is not None else f"≤ {high:g} ₽")
    if read.get("in_stock"):
        parts.append("in stock")
    if read.get("sort") in _ORDERS:
        parts.append(_ORDERS[read["sort"]])
    return " · ".join(parts)


@app.command()
@handle_errors
def search(
    query: str = typer.Argument("", help="Search text, e.g. «клавиатура»."),
    user: str = typer.Option(None, "--user", "-u", help="Customer id (logged with the query)."),
    category: str = typer.Option(None, "--category"),
    brand: str = typer.Option(None, "--brand"),
    price_min: float = typer.Option(None, "--price-min"),
    price_max: float = typer.Option(None, "--price-max"),
    in_stock: bool = typer.Option(False, "--in-stock", help="Only products in stock."),
    sort: str = typer.Option("relevance", "--sort", help="relevance, price_asc, price_desc"),
    limit: int = typer.Option(10, "--limit", "-n"),
    offset: int = typer.Option(0, "--offset"),
    url: str = typer.Option(None, "--url", help="Client API URL (default: from settings)."),
) -> None:
    """Search products as a customer."""
    body = call(
        url,
        "/api/v1/search",
        {
            "q": query,
            "user": user,
            "category": category,
            "brand": brand,
            "price_min": price_min,
            "price_max": price_max,
            "in_stock": in_stock or None,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        },
    )
    read = _understood(body.get("understood"))
    refined = body.get("refined") or {}
    table = Table(
        title=f"«{query}»: {body['total']} found ({body['latency_ms']:.1f} ms)"
        + (f"\nread as {read}" if read else "")
        + (
            f"\nnothing found; showing «{shown(refined['query'])}», what "
            f"{refined['customers']} customers searched next"
            if refined
            else ""
        )
    )
    for column in ("id", "name", "price", "category", "brand", "stock"):
        table.add_column(column, justify="right" if column in ("price", "stock") else "left")
    for item in body["items"]:
        # Product text comes from stores: shown() keeps rich markup and control characters
        # out of the terminal.
        table.add_row(
            item["product_id"],
            shown(item["name"]),
            price_text(item),
            shown(item["category"]),
            shown(item.get("brand") or ""),
            _stock(item),
        )
    console.print(table)


@app.command()
@handle_errors
def recommend(
    user: str = typer.Argument(..., help="Customer id, e.g. Eva."),
    limit: int = typer.Option(10, "--limit", "-n"),
    url: str = typer.Option(None, "--url", help="Client API URL (default: from settings)."),
) -> None:
    """Show a customer's recommendations (popular products for a new customer)."""
    body = call(url, f"/api/v1/recommendations/{path_segment(user)}", {"limit": limit})
    sources = {
        "personal": "personal",
        "popular": "popular (new or unknown customer)",
        "top-in-stock": "top in-stock products (no popularity data yet)",
        "none": "nothing to recommend yet",
    }
    title = f"Recommendations for {shown(user)}: {sources.get(body['source'], body['source'])}"
    model = body.get("model")
    if model:  # a known customer's list may still be popularity: the model check's choice
        title += f" · model {shown(model)}"
        if body["source"] == "personal" and model == "popularity":
            title += " (the personal model did not beat it on these orders)"
    table = Table(title=title)
    for column in ("id", "name", "price", "score", "why"):
        table.add_column(column)
    for item in body["items"]:
        product = item.get("product") or {}
        table.add_row(
            item["product_id"],
            shown(product.get("name") or "?"),
            price_text(product),
            f"{item['score']:.3f}",
            shown(item.get("reason", "")),
        )
    console.print(table)
