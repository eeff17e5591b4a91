"""`vitrina shop load PATH…`: load store catalogues into `shop-products`."""

from __future__ import annotations

from pathlib import Path

import typer

from vitrina.cli.common import console, counting_bar, err_console, handle_errors, settings

app = typer.Typer(help="Store catalogues: load files into shop-products.", no_args_is_help=True)


@app.command("load")
@handle_errors
def load(
    paths: list[Path] = typer.Argument(
        ...,
        help='Catalogue files (JSON array, object, {"products": [...]}, JSON Lines, objects '
        "one after another; gzip-compressed too) or folders of them.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Exit 2 when any record was rejected or a file refused whole (without it: "
        "only when nothing was sent).",
    ),
    currency: str | None = typer.Option(
        None,
        "--currency",
        metavar="CODE",
        help="The currency of prices that name none (a bare price, or one without "
        "currency), e.g. RUB; without it such products are rejected. A price that names "
        "its own keeps it.",
    ),
    category: str | None = typer.Option(
        None,
        "--category",
        metavar="NAME",
        help="The category of products that name none, e.g. Одежда; without it such "
        "products are rejected. A product that names its own keeps it.",
    ),
) -> None:
    """Validate each product and produce it keyed by product_id; invalid ones → dead-letters.

    Exits 2 when records were rejected or files refused and nothing was sent."""
    from vitrina.domain.catalog import Catalog
    from vitrina.domain.product_shapes import Declared, is_category, is_currency
    from vitrina.services.shop_load import load_paths

    if currency is not None and not is_currency(currency):
        raise typer.BadParameter(
            f"{currency!r} is not a currency: three capital letters (ISO 4217), e.g. RUB",
            param_hint="--currency",
        )
    if category is not None and not is_category(category):
        raise typer.BadParameter(
            "a category is visible text of at most 200 characters", param_hint="--category"
        )
    s = settings()
    with counting_bar(as_json) as bar:

        def on_file(path: Path, catalog: Catalog):
            task = bar.add_task(path.name[:40], total=catalog.estimate or None)
            return lambda n: bar.advance(task, n)

        report = load_paths(s, paths, on_file=on_file, declared=Declared(currency, category))
    if as_json:
        import orjson

        console.print_json(orjson.dumps(report.as_dict()).decode())
    else:
        _print_summary(report)
    failed = report.rejected or report.refused_files
    if failed and not report.sent:  # a load that loaded nothing is not a success
        err_console.print(
            "[red]nothing was sent:[/] every record was rejected or its file refused "
            "(`vitrina dlq list` shows why)"
        )
        raise typer.Exit(2)
    if strict and failed:
        raise typer.Exit(2)


def _print_summary(report) -> None:
    from rich.table import Table

    files = Table(title="catalogues", show_lines=False)
    for col in ("file", "shape", "records", "sent", "rejected", "note"):
        files.add_column(col, justify="right" if col in ("records", "sent", "rejected") else "left")
    for f in report.files:
        files.add_row(
            Path(f.path).name,
            f.shape,
            str(f.records),
            str(f.sent),
            str(f.rejected),
            f.skipped or "",
        )
    console.print(files)
    if report.reasons:
        reasons = Table(title="rejected, by reason (see `vitrina dlq list`)")
        reasons.add_column("reason")
        reasons.add_column("records", justify="right")
        for reason, count in report.reasons.most_common():
            reasons.add_row(reason, str(count))
        console.print(reasons)
    console.print(
        f"[bold green]sent {report.sent}[/] (confirmed {report.delivered}), "
        f"[bold]{'[red]' if report.rejected else ''}rejected {report.rejected}"
        f"{'[/red]' if report.rejected else ''}[/] → dead-letters "
        f"(confirmed {report.dead_lettered})"
    )
