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


def _cluster_addresses(
    out: Path, bootstrap: str | None, mirror_bootstrap: str | None
) -> tuple[str | None, str | None, str]:
    """Bootstrap, mirror bootstrap and CA path the client `.properties` should use.

    The compose folder keeps the containers' names (kafka-N:9093, /run/secrets/vitrina);
    anywhere else the folder's real path and the chosen cluster: --bootstrap-servers, else
    kafka.bootstrap_servers of the profile, else `vitrina cluster up`'s brokers.
    """
    from vitrina.security.credentials import COMPOSE_CA

    if out.resolve() == (COMPOSE_DIR / "secrets").resolve():
        return bootstrap, mirror_bootstrap, COMPOSE_CA
    if bootstrap is None:
        from vitrina.kafka.clients import identity

        s = settings()
        if not identity(s).embedded:
            bootstrap = s.kafka.bootstrap_servers
        else:
            from vitrina.cluster import topology

            bootstrap = ",".join(
                f"127.0.0.1:{p.client}" for p in topology.Plan(s.data_dir).primary_ports
            )
            mirror_bootstrap = mirror_bootstrap or ",".join(
                f"127.0.0.1:{p.client}" for p in topology.Plan(s.data_dir).mirror_ports
            )
    return bootstrap, mirror_bootstrap, str((out / "ca.pem").resolve())


@app.command()
@handle_errors
def init(
    out: Path = typer.Option(
        None,
        "--out",
        help="Folder to write to (default: "
        "deploy/compose/secrets in the repo, else <data_dir>/secrets/kafka).",
    ),
    brokers: int = typer.Option(3, "--brokers", min=1, help="Brokers of the main cluster."),
    mirror_brokers: int = typer.Option(
        3, "--mirror-brokers", min=0, help="Brokers of the mirror cluster (0: none)."
    ),
    bootstrap_servers: str = typer.Option(
        None,
        "--bootstrap-servers",
        help="The cluster the client .properties connect to "
        "(default: kafka.bootstrap_servers, or `vitrina cluster up`'s brokers).",
    ),
    mirror_bootstrap_servers: str = typer.Option(
        None, "--mirror-bootstrap-servers", help="The mirror cluster, for MirrorMaker 2."
    ),
    force: bool = typer.Option(False, "--force", help="Replace existing material (all of it)."),
) -> None:
    """Generate a local CA, broker certificates and per-service SCRAM credentials."""
    from vitrina.security.credentials import build_material, format_command, write_material

    target = out or default_out()
    bootstrap, mirror_bootstrap, ca_path = _cluster_addresses(
        target, bootstrap_servers, mirror_bootstrap_servers
    )
    with console.status("generating keys and certificates…"):
        files = build_material(
            brokers=brokers,
            mirror_brokers=mirror_brokers,
            now=datetime.now(UTC),
            bootstrap=bootstrap,
            mirror_bootstrap=mirror_bootstrap,
            ca_path=ca_path,
        )
        written = write_material(target, files, force=force)
    console.print(
        f"[green]wrote {len(written)} files[/] to {target} (folder 0700, secrets 0600)",
        highlight=False,
    )
    args_file = target / "kafka-storage-scram.args"
    console.print(
        "next — the SCRAM users exist once each node's storage is formatted with them:",
        highlight=False,
    )
    console.print(
        "  on this machine: `vitrina cluster up` (formats with them, applies ACLs)",
        highlight=False,
        markup=False,
    )
    # soft_wrap: one line, so the command can be copied as is
    console.print(
        f"  your own brokers, once per node: {format_command(args_file)}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    console.print(
        "  compose: docker compose -f deploy/compose/docker-compose.yml up -d",
        highlight=False,
        markup=False,
    )
    console.print(
        "  then: `vitrina --profile <cluster|distributed> acl apply` (see docs/operations.md)",
        highlight=False,
        markup=False,
    )
