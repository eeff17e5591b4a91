"""`vitrina analytics run|evaluate|show|searches`: the batch job, its offline evaluation, its
output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vitrina.cli.common import console, fail, handle_errors, settings, shown
from vitrina.errors import VitrinaError

if TYPE_CHECKING:
    from vitrina.analytics.lakeio import AnalyticsLake

app = typer.Typer(help="Analytics and recommendations over the data lake.", no_args_is_help=True)

EngineOption = typer.Option(
    None, "--engine", "-e", help="duckdb or spark (default: settings.analytics.engine)."
)


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Callable[[str], None]]:
    if quiet:
        yield lambda _step: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def tick(step: str) -> None:
            bar.update(task, advance=1, description=f"{label}: {step}")

        yield tick


@app.command()
@handle_errors
def run(
    engine: str = EngineOption,
    publish: bool = typer.Option(
        True,
        "--publish/--no-publish",
        help="Serve the run: recommendations and category stats to Kafka, similar products "
        "to the product pages. --no-publish writes it to the lake only (`analytics show`).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run report as JSON."),
    as_of: datetime | None = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
        help="Measure recency from this UTC moment (default: the newest order or event "
        "in the lake).",
    ),
) -> None:
    """Compute category stats, top products, search analytics and recommendations once.

    All or nothing: the run is published and marked current only if every output is valid.
    """
    from vitrina.analytics.job import progress_steps, run_job

    s = settings()
    moment = as_of.replace(tzinfo=UTC) if as_of and as_of.tzinfo is None else as_of
    with _progress(progress_steps() + 1 + int(publish), "analytics", as_json) as tick:
        report = run_job(s, engine_name=engine, publish_topics=publish, progress=tick, as_of=moment)
    if as_json:
        console.print_json(report.to_json())
        return
    table = Table("output", "rows", "lake file")
    for name, rows in report.rows.items():
        table.add_row(name, str(rows), report.lake_paths.get(name, ""))
    console.print(table)
    for topic, count in report.published.items():
        console.print(f"published {count} records to [bold]{topic}[/]")
    console.print(
        f"[green]done[/] in {report.duration_s:.1f}s on {report.engine}: "
        f"recommendations for {report.customers} customers (+ __popular__)"
    )


@app.command()
@handle_errors
def evaluate(
    engine: str = EngineOption,
    k: int = typer.Option(10, "--k", min=1, help="List length to score."),
    holdout: float = typer.Option(
        0.2, "--holdout", min=0.05, max=0.9, help="Share of the order history held out."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
) -> None:
    """Time-split holdout: precision/recall/NDCG@k and coverage vs a popularity baseline."""
    from vitrina.analytics.evaluation import evaluate as run_evaluation
    from vitrina.analytics.job import progress_steps

    with _progress(progress_steps(evaluation=True), "evaluate", as_json) as tick:
        report = run_evaluation(settings(), engine_name=engine, k=k, holdout=holdout, progress=tick)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
        return
    metrics = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", "coverage"]
    table = Table(
        "model",
        *metrics,
        title=f"holdout after {report.cutoff}: {report.users} customers, "
        f"{report.cold_start_users} cold-start left out",
    )
    for model, values in report.models.items():
        table.add_row(model, *(f"{values[m]:.4f}" for m in metrics))
    console.print(table)
    rec, pop = (report.models[m][f"recall@{k}"] for m in ("recommender", "popularity"))
    verdict = "[green]beats[/]" if rec > pop else "[red]does not beat[/]"
    console.print(f"recommender {verdict} popularity on recall@{k} ({rec:.4f} vs {pop:.4f})")


@app.command()
@handle_errors
def show(
    users: list[str] = typer.Argument(None, help="Customer ids (default: a few)."),
    limit: int = typer.Option(5, "--limit", help="Customers shown when none given."),
) -> None:
    """Print recommendations of the last run for some customers (and the popular list)."""
    from vitrina.domain.recommend import POPULAR_USER

    lake, run_id = _last_run()
    if not lake.published(run_id):
        served = lake.last_run(published=True)
        serving = f"those of run {served}" if served else "none yet"
        console.print(
            f"[yellow]run {run_id} was not published (--no-publish); the lists served are "
            f"{serving}[/]",
            highlight=False,
        )
    rows = lake.read_output("recommendations", run_id).to_pylist()
    rows += lake.read_output("popular", run_id).to_pylist()
    by_user: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_user.setdefault(str(row["user_id"]), []).append(row)
    chosen = list(users or [u for u in sorted(by_user) if u != POPULAR_USER][:limit])
    if not users:  # the popular list too, as the help says (a run may have no personal list)
        chosen.append(POPULAR_USER)
    names = _product_names(
        {
            str(r["product_id"])
            for u in chosen
            for r in by_user.get(u, by_user.get(POPULAR_USER, []))
        }
    )
    for user in chosen:
        name = shown(user) if user.strip() else repr(user)  # a blank id shows as ' '
        items = by_user.get(user)
        if items is None:
            console.print(
                f"[yellow]{name}[/]: no personal list in this run (a new customer, or "
                f"nothing left to recommend) — gets {POPULAR_USER}",
                highlight=False,
            )
            items = by_user.get(POPULAR_USER, [])
        table = Table("#", "product", "name", "score", "reason", title=f"{name} (run {run_id})")
        for item in sorted(items, key=lambda r: int(str(r["rank"])))[:10]:
            table.add_row(
                str(item["rank"]),
                str(item["product_id"]),
                shown(names.get(str(item["product_id"]), "—")),
                f"{item['score']:.3f}",
                str(item["reason"]),
            )
        console.print(table)


@app.command()
@handle_errors
def searches(
    limit: int = typer.Option(20, "--limit", "-n", help="Rows of each table."),
) -> None:
    """What customers searched for and did not find, and what they searched next.

    From the last run: the queries that found nothing most often (search_zero_results), and
    the refinements the client API now answers them with (search_refinements: the same
    customer's next search within 5 minutes that found something, 2+ customers). A query
    found nothing and not refined is a word for the word lists."""
    lake, run_id = _last_run()
    try:
        learned_rows = lake.read_output("search_refinements", run_id).to_pylist()
    except FileNotFoundError:  # a run made before refinements were learned
        learned_rows = []
    refined = {str(r["query"]): r for r in learned_rows}
    zero = lake.read_output("search_zero_results", run_id).to_pylist()
    table = Table(
        "#",
        "query",
        "found nothing",
        "searches",
        "answered with",
        title=f"found nothing (run {run_id})",
    )
    for row in sorted(zero, key=lambda r: int(str(r["rank"])))[:limit]:
        refinement = refined.get(str(row["query"]))
        table.add_row(
            str(row["rank"]),
            shown(str(row["query"])),
            str(row["zero_results"]),
            str(row["searches"]),
            (
                f"«{shown(str(refinement['refined_to']))}» ({refinement['users']} customers)"
                if refinement
                else "[yellow]—[/]"
            ),
        )
    console.print(table)
    learned = Table("query", "customers searched next", "customers", title="learned refinements")
    for row in sorted(refined.values(), key=lambda r: (-int(str(r["users"])), str(r["query"])))[
        :limit
    ]:
        learned.add_row(shown(str(row["query"])), shown(str(row["refined_to"])), str(row["users"]))
    console.print(learned)


def _last_run() -> tuple[AnalyticsLake, str]:
    """The lake and its newest run, or a clear error when no run was made yet."""
    from vitrina.analytics.lakeio import AnalyticsLake

    lake = AnalyticsLake.from_settings(settings())
    run_id = lake.last_run()
    if run_id is None:
        raise fail(
            f"no analytics run found in the lake at {lake.url}",
            hint="run `vitrina analytics run` first",
        )
    return lake, run_id


def _product_names(product_ids: set[str]) -> dict[str, str]:
    """The names of the products, from the search index (what customers see); none when the
    index cannot be read — the lists still show, by id (before, only ids were shown)."""
    from vitrina.search.api import open_search

    try:
        backend = open_search(settings(), readonly=True)
    except (VitrinaError, OSError) as exc:
        _names_not_shown(exc)
        return {}
    try:
        return {
            pid: str(product.get("name", ""))
            for pid in sorted(product_ids)
            if (product := backend.get(pid)) is not None
        }
    except (VitrinaError, OSError) as exc:
        _names_not_shown(exc)
        return {}
    finally:
        backend.close()


def _names_not_shown(exc: Exception) -> None:
    reason = str(getattr(exc, "message", exc)).split(" — ")[0]
    console.print(f"[dim]names not shown: {shown(reason)}[/]", highlight=False)
