"""`vitrina generate catalog|traffic`: realistic Russian data, deterministic for a seed."""

from __future__ import annotations

from pathlib import Path

import typer

from vitrina.cli.common import console, handle_errors, settings

app = typer.Typer(help="Generate a catalogue file or live traffic.", no_args_is_help=True)


@app.command("catalog")
@handle_errors
def catalog(
    n: int = typer.Option(1000, "-n", "--count", min=1, help="Number of products."),
    seed: int = typer.Option(42, "--seed", help="Same seed → same catalogue."),
    output: Path = typer.Option(
        Path("catalog.json"),
        "-o",
        "--output",
        help="File to write; .jsonl/.ndjson → JSON Lines, else array.",
    ),
) -> None:
    """Write a realistic Russian catalogue (categories, brands, prices, stock, specs)."""
    from rich.progress import Progress

    from vitrina.domain.catalog import dump_catalog
    from vitrina.domain.generator import generate_catalog

    jsonl = output.suffix.lower() in {".jsonl", ".ndjson"}
    output.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with Progress(console=console) as bar, output.open("wb") as fh:
        task = bar.add_task(f"writing {output.name}", total=n)

        def counted():
            for i, product in enumerate(generate_catalog(n, seed=seed), 1):
                if i % 1000 == 0:
                    bar.update(task, completed=i)
                yield product
            bar.update(task, completed=n)

        for chunk in dump_catalog(counted(), jsonl=jsonl):
            fh.write(chunk)
            written += len(chunk)
    console.print(
        f"wrote {n} products ({written / 1e6:.1f} MB, "
        f"{'JSON Lines' if jsonl else 'JSON array'}) to {output}"
    )


@app.command("traffic")
@handle_errors
def traffic(
    rate: float = typer.Option(50.0, "--rate", "-r", min=0.1, help="Messages per second."),
    duration: float = typer.Option(30.0, "--duration", "-d", min=0.1, help="Seconds to run."),
    catalog_file: Path = typer.Option(
        None, "--catalog", help="Catalogue to pick products from (default: the packaged sample)."
    ),
    seed: int = typer.Option(None, "--seed", help="Fix the sessions (ids repeat across runs)."),
) -> None:
    """Produce orders and client events (view, add_to_cart, purchase, review) to Kafka."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from vitrina.services.shop_load import ensure_broker
    from vitrina.services.traffic import load_catalog, run_traffic

    s = settings()
    ensure_broker(s, s.topics.orders)
    ensure_broker(s, s.topics.client_events)
    products = load_catalog(catalog_file)
    expected = int(rate * duration)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(f"traffic at {rate:g} msg/s", total=expected)
        sent = run_traffic(
            s,
            rate=rate,
            duration=duration,
            catalog=products,
            seed=seed,
            on_sent=lambda k: bar.advance(task, k),
        )
    console.print(
        f"sent {sum(sent.values())} messages: {sent['orders']} orders to "
        f"{s.topics.orders}, {sent['client_events']} events to {s.topics.client_events}"
    )
