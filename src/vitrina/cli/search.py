"""`vitrina search "умные часы" --category Электроника …`: search the product index.

The same query engine and ranking as the client API's /api/v1/search, read straight from the
index. What differs: no live ban re-check (a product banned seconds ago shows until the
filter has withdrawn it) and no query log in client-queries. `vitrina client search` goes
through the API itself.
"""

from __future__ import annotations

import typer

from vitrina.cli.common import console, handle_errors, price_text, settings, shown

app = typer.Typer()


# A command, not a group: a group's usage line promised a COMMAND it does not have.
@app.command(
    "search",
    help="Search the index directly (the API's engine and ranking; no live ban "
    "re-check, no query log — `vitrina client search` goes through the API).",
)
@handle_errors
def search_command(
    query: str = typer.Argument("", help="Words to look for; empty lists every product."),
    category: str = typer.Option(None, "--category", "-c", help="Exact category."),
    brand: str = typer.Option(None, "--brand", "-b", help="Exact brand."),
    price_min: float = typer.Option(None, "--price-min", help="Lowest price, RUB."),
    price_max: float = typer.Option(None, "--price-max", help="Highest price, RUB."),
    in_stock: bool = typer.Option(False, "--in-stock", help="Only products in stock."),
    sort: str = typer.Option(
        "relevance", "--sort", "-s", help="relevance | price_asc | price_desc"
    ),
    limit: int = typer.Option(10, "--limit", "-n", help="Results per page (1..1000)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many results (paging)."),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    from rich.table import Table

    from vitrina.search.api import search
    from vitrina.search.base import SearchFilters, product_summary

    filters = SearchFilters(
        category=category,
        brand=brand,
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock or None,
    )
    page = search(query, filters, sort, limit, offset, settings=settings())  # type: ignore[arg-type]
    if as_json:
        import orjson

        # The page as the client API's GET /api/v1/search gives it (a blind review: this
        # said "hits" where the API says "items"), without the API's live ban re-check.
        items = [product_summary(h.product, float(h.score)) for h in page.hits]
        page_json = {"total": page.total, "limit": limit, "offset": offset, "items": items}
        console.print_json(orjson.dumps(page_json).decode())
        return
    table = Table(title=f"«{query}»: {page.total} found" if query else f"{page.total} products")
    for column, justify in (
        ("#", "right"),
        ("product_id", "left"),
        ("name", "left"),
        ("brand", "left"),
        ("category", "left"),
        ("price", "right"),
        ("stock", "right"),
        ("score", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for rank, hit in enumerate(page.hits, start=offset + 1):
        p = hit.product
        # Product text comes from stores: shown() keeps rich markup and control characters
        # out of the terminal.
        table.add_row(
            str(rank),
            hit.product_id,
            shown(p.get("name", "")),
            shown(p.get("brand") or ""),
            shown(p.get("category", "")),
            price_text(p),
            str((p.get("stock") or {}).get("available", "")),
            f"{hit.score:.2f}" if sort == "relevance" else "",
        )
    console.print(table)
    if not page.hits:
        console.print("[yellow]nothing found[/] — try fewer words or drop a filter")
