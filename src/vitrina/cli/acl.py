"""`vitrina acl plan|apply`: least-privilege ACLs per service, as code."""

from __future__ import annotations

import typer
from rich.table import Table

from vitrina.cli.common import console, handle_errors, settings
from vitrina.settings import Settings

app = typer.Typer(help="ACLs as code (least privilege per service).", no_args_is_help=True)

BOOTSTRAP_HELP = (
    "Apply to this cluster instead of kafka.bootstrap_servers (e.g. the mirror "
    "cluster: kafka-mirror-1:9093)."
)


def _settings(bootstrap_servers: str | None) -> Settings:
    s = settings()
    if not bootstrap_servers:
        return s
    return s.model_copy(
        update={"kafka": s.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})}
    )


@app.command()
@handle_errors
def plan() -> None:
    """Print the planned ACLs, per principal (no cluster needed)."""
    from vitrina.security.acl import PREFIXED, plan_acls

    rules = plan_acls(settings())
    table = Table("principal", "operation", "resource", "name", "pattern")
    for r in rules:
        table.add_row(
            r.principal,
            r.operation,
            r.resource_type,
            r.name + ("*" if r.pattern_type == PREFIXED else ""),
            r.pattern_type,
        )
    console.print(table)
    console.print(f"{len(rules)} ACLs for {len({r.principal for r in rules})} principals")


@app.command()
@handle_errors
def apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only print the diff."),
    bootstrap_servers: str = typer.Option(None, "--bootstrap-servers", help=BOOTSTRAP_HELP),
) -> None:
    """Make the cluster's ACLs match the plan; print + (added) and - (removed). Idempotent."""
    from vitrina.security.acl import apply_acls

    with console.status("reading the cluster's ACLs…"):
        diff = apply_acls(_settings(bootstrap_servers), dry_run=dry_run)
    for line in diff.lines():
        console.print(
            f"[green]{line}[/]" if line.startswith("+") else f"[red]{line}[/]", highlight=False
        )
    verb = "would add" if dry_run else "added"
    console.print(
        f"{verb} {len(diff.add)}, {'would remove' if dry_run else 'removed'} "
        f"{len(diff.remove)}, unchanged {diff.unchanged}, "
        f"left alone {diff.unmanaged} (unmanaged principals)"
    )
