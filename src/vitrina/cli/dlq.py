"""`vitrina dlq list|show|replay`: see what was rejected and why, and replay it after a fix."""

from __future__ import annotations

import typer

from vitrina.cli.common import console, handle_errors, settings, shown

app = typer.Typer(
    help="Dead letters: list, show, replay (nothing is ever deleted).", no_args_is_help=True
)


def _preview(raw: bytes | None, limit: int) -> str:
    """The first `limit` bytes of a dead letter's key or value as the terminal may show
    them (shown(): they are whatever reached the topic)."""
    if raw is None:
        return "(null)"
    text = shown(raw[:limit].decode("utf-8", "replace"))
    return text + (f"… ({len(raw):,} bytes)" if len(raw) > limit else "")


@app.command("list")
@handle_errors
def list_(
    latest: int = typer.Option(10, "--latest", "-n", help="Show the latest N records."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Summary by source topic, service and reason, then the latest records."""
    from rich.table import Table

    from vitrina.kafka.dlq import distinct, read_dead_letters, records, summarize

    with console.status("reading dead-letters to the end…"):
        # Each rejection once: a worker killed before its commit writes a letter again.
        letters = distinct(read_dead_letters(settings()))
    counts = summarize(letters)
    recent = sorted(letters, key=lambda d: d.timestamp_ms)[-latest:] if latest > 0 else []
    if as_json:
        import orjson

        console.print_json(
            orjson.dumps(
                {
                    "total": len(letters),
                    "records": records(letters),
                    "by_reason": [
                        {"topic": t, "service": s, "reason": r, "count": c}
                        for (t, s, r), c in counts.most_common()
                    ],
                    "latest": [
                        {
                            "ref": d.ref,
                            "topic": d.source_topic,
                            "service": d.service,
                            "error": d.error,
                        }
                        for d in recent
                    ],
                }
            ).decode()
        )
        return
    if not letters:
        console.print("[green]no dead letters[/]")
        return
    refused = records(letters)
    title = f"dead letters: {len(letters)}"
    if refused < len(letters):  # several services refused the same records
        title += f" for {refused} records (each service that refused one wrote its own)"
    table = Table(title=title)
    for col in ("source topic", "service", "reason", "count"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for (topic, service, reason), count in counts.most_common():
        table.add_row(topic, service, shown(reason), str(count))
    console.print(table)
    latest_table = Table(title=f"latest {len(recent)} (show one with `vitrina dlq show P:O`)")
    for col in ("ref", "service", "key", "error"):
        latest_table.add_column(col)
    for d in recent:
        latest_table.add_row(d.ref, d.service, _preview(d.key, 30), shown(d.error[:160]))
    console.print(latest_table)


@app.command("show")
@handle_errors
def show(
    ref: str = typer.Argument(..., help="PARTITION:OFFSET (or OFFSET if unambiguous)."),
    width: int = typer.Option(2000, help="Bytes of the value to preview."),
) -> None:
    """One dead letter: headers, key and a preview of the original bytes."""
    from rich.table import Table

    from vitrina.kafka.dlq import check_refs, find, read_dead_letters

    check_refs([ref])
    letter = find(read_dead_letters(settings()), ref)
    table = Table(title=f"dead letter {letter.ref}", show_header=False)
    table.add_column("header", style="bold")
    table.add_column("value")
    for key, value in letter.headers.items():
        table.add_row(shown(key), shown(value))
    table.add_row("key", _preview(letter.key, 200))
    console.print(table)
    console.print(_preview(letter.value, width), highlight=False)


@app.command("replay")
@handle_errors
def replay(
    topic: str = typer.Option(None, "--topic", help="Only records from this source topic."),
    service: str = typer.Option(None, "--service", help="Only records rejected by this service."),
    reason: str = typer.Option(None, "--reason", help="Only records whose error contains this."),
    offsets: list[str] = typer.Option(
        None, "--offset", help="Only these records (P:O or O); repeatable."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be replayed."),
    again: bool = typer.Option(
        False,
        "--again",
        help="Also send records already replayed (their copies are in their topics): "
        "only for a copy a consumer lost.",
    ),
    unchecked: bool = typer.Option(
        False,
        "--unchecked",
        help="Also send records that still break this version's contract: only while the "
        "services run newer rules than this command.",
    ),
) -> None:
    """Re-produce chosen records to their source topic; nothing is deleted. A record that
    still breaks its contract is not sent (it would only be dead-lettered again)."""
    from vitrina.kafka.dlq import Selection
    from vitrina.kafka.dlq import replay as run_replay

    selection = Selection(topic, service, reason, tuple(offsets or ()))
    with console.status("reading dead-letters and what their topics hold since…"):
        report = run_replay(
            settings(), selection, dry_run=dry_run, again=again, unchecked=unchecked
        )
    verb = "would replay" if dry_run else "replayed"
    console.print(
        f"[bold]{verb} {len(report.chosen)}[/] record(s): "
        + (", ".join(f"{t}: {n}" for t, n in report.by_topic.items()) or "none")
    )
    for letter, why in report.refused[:10]:
        console.print(f"[yellow]not replayed {letter.ref}: {shown(why)}", highlight=False)
    if len(report.refused) > 10:
        console.print(f"[yellow]… and {len(report.refused) - 10} more another store owns")
    for letter, why in report.invalid[:10]:
        console.print(f"[yellow]not replayed {letter.ref}: {shown(why)}", highlight=False)
    if len(report.invalid) > 10:
        console.print(f"[yellow]… and {len(report.invalid) - 10} more that still break it")
    if report.invalid:
        console.print(
            "[dim]fix them at their source (the store sends them again), or replay with "
            "--unchecked once the services' rules accept them",
            highlight=False,
        )
    for letter, why in report.superseded[:10]:
        console.print(f"[yellow]not replayed {letter.ref}: {shown(why)}", highlight=False)
    if len(report.superseded) > 10:
        console.print(f"[yellow]… and {len(report.superseded) - 10} more with newer records")
    if report.replayed_before:
        refs = ", ".join(d.ref for d, _ in report.replayed_before[:10])
        more = "…" if len(report.replayed_before) > 10 else ""
        console.print(
            f"{len(report.replayed_before)} record(s) already replayed (their copies are in "
            f"their topics; not sent again, --again sends them): {refs}{more}",
            highlight=False,
        )
    if report.unreplayable:
        refs = ", ".join(d.ref for d in report.unreplayable[:10])
        console.print(
            f"[yellow]{len(report.unreplayable)} record(s) have no known source "
            f"topic and were left alone: {refs}"
        )
