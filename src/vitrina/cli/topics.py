"""`vitrina topics apply|list`: topics as code."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from vitrina.cli.common import console, fail, handle_errors, settings

app = typer.Typer(help="Topics as code.", no_args_is_help=True)


@app.command()
@handle_errors
def apply() -> None:
    """Create every declared topic that is missing; report what differs. Safe to run twice.

    Exits 1 when an existing topic differs from its declaration (partitions, replication
    factor, configs): topics are never altered behind the operator's back.
    """
    from vitrina.kafka.admin import apply_topics

    report = apply_topics(settings())
    for name in report.created:
        console.print(f"[green]created[/]   {name}")
    for name in report.unchanged:
        console.print(f"unchanged {name}")
    for name, diffs in report.differs.items():
        for diff in diffs:
            console.print(f"[yellow]differs[/]   {name}: {diff}")
    console.print(
        f"{len(report.created)} created, {len(report.unchanged)} unchanged, "
        f"{len(report.differs)} differ"
    )
    if not report.matches:
        raise fail(
            f"{len(report.differs)} topic(s) differ from their declaration: "
            f"{', '.join(sorted(report.differs))}",
            hint="partitions can only grow and the replication factor needs a "
            "reassignment: fix the topic on the cluster (kafka-topics --alter / "
            "kafka-reassign-partitions) or the declaration (kafka.partitions, "
            "kafka.replication_factor)",
        )


@app.command("list")
@handle_errors
def list_() -> None:
    """Declared topics next to what the broker has."""
    from vitrina.kafka.admin import admin_client, describe_topics
    from vitrina.kafka.clients import identity
    from vitrina.topics import declared_topics

    s = settings()
    specs = declared_topics(s)
    actual = describe_topics(admin_client(s), ident=identity(s, "admin"))
    table = Table("partitions", "rf", "policy", "key", "value", "state")
    table.columns.insert(0, Column("topic", overflow="fold", min_width=18))
    for spec in specs:
        state = actual.get(spec.name)
        table.add_row(
            spec.name,
            str(state.partitions if state else spec.partitions),
            str(spec.replication_factor),
            spec.configs.get("cleanup.policy", ""),
            spec.key,
            spec.value,
            "present" if state else "[red]missing[/]",
        )
    for name in sorted(set(actual) - {s.name for s in specs}):
        table.add_row(name, str(actual[name].partitions), "", "", "", "", "not declared")
    console.print(table)
