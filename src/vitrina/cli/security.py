"""`vitrina security init`: CA, broker certificates, SCRAM users, client property files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from vitrina.cli.common import console, handle_errors, settings

app = typer.Typer(help="Security material for the distributed deployment.", no_args_is_help=True)

COMPOSE_DIR = Path("deploy/compose")


def default_out() -> Path:
    """deploy/compose/secrets when run from the repository (compose reads it from there),
    else <data_dir>/secrets/kafka. Both are gitignored."""
    if (COMPOSE_DIR / "docker-compose.yml").is_file():
        return COMPOSE_DIR / "secrets"
    return settings().secrets_dir / "kafka"


@app.command()
@handle_errors
def init(
    out: Path = typer.Option(None, "--out", help="Folder to write to (default: "
                             "deploy/compose/secrets in the repo, else <data_dir>/secrets/kafka)."),
    brokers: int = typer.Option(3, "--brokers", min=1, help="Brokers of the main cluster."),
    mirror_brokers: int = typer.Option(3, "--mirror-brokers", min=0,
                                       help="Brokers of the mirror cluster (0: none)."),
    force: bool = typer.Option(False, "--force", help="Replace existing material (all of it)."),
) -> None:
    """Generate a local CA, broker certificates and per-service SCRAM credentials."""
    from vitrina.security.credentials import build_material, write_material

    target = out or default_out()
    with console.status("generating keys and certificates…"):
        files = build_material(brokers=brokers, mirror_brokers=mirror_brokers,
                               now=datetime.now(UTC))
        written = write_material(target, files, force=force)
    console.print(f"[green]wrote {len(written)} files[/] to {target} (folder 0700, secrets 0600)")
    console.print("next: docker compose -f deploy/compose/docker-compose.yml up -d, then "
                  "`vitrina --profile distributed acl apply` (see docs/operations.md)")
