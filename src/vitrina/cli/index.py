"""`vitrina index rebuild`: build the search index again from filtered-products."""

from __future__ import annotations

from typing import Any

import typer

from vitrina.cli.common import console, counting_bar, handle_errors, settings

app = typer.Typer(help="The search index: rebuild it from filtered-products.", no_args_is_help=True)


@app.command("rebuild")
@handle_errors
def rebuild_command(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    group: str = typer.Option(
        "vitrina-indexer", "--group", help="The indexer's consumer group (to rewind)."
    ),
) -> None:
    """Drop the index and replay filtered-products into it (the platform must be stopped).

    For an upgrade that changes how products are indexed. The embedded broker is started for
    the rebuild when it is not running. Safe to stop at any moment: run it again, or start
    the platform, and indexing resumes where it stopped.
    """
    from vitrina import broker
    from vitrina.services.index_rebuild import rebuild

    s = settings()
    # The embedded broker stops with `vitrina up`: start it for the rebuild, stop it after.
    own_broker = broker.start_for_command(s)
    if own_broker:
        with console.status("starting the embedded broker…"):
            broker.start(s)
    try:
        with counting_bar(as_json) as bar:
            tasks: list[Any] = []  # the bar appears with the replay, not before the checks

            def progress(done: int, total: int) -> None:
                if not tasks:
                    tasks.append(bar.add_task("re-indexing filtered-products", total=total))
                bar.update(tasks[0], completed=done, total=total)

            report = rebuild(s, group_id=group, on_progress=progress)
    finally:
        if own_broker:
            broker.stop(s)
    if as_json:
        import orjson

        console.print_json(orjson.dumps(report.as_dict()).decode())
    else:
        console.print(
            f"rebuilt the {report.backend} index: {report.documents} products from "
            f"{report.records} records in {report.seconds:.1f} s"
        )
