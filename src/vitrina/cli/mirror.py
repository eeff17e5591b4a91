"""`vitrina mirror`: replicate every topic to the second (mirror) cluster."""

from __future__ import annotations

import logging

import typer

from vitrina.cli.common import console, handle_errors, settings

app = typer.Typer()


@app.command()
@handle_errors
def mirror(
    target: str = typer.Option(
        None,
        "--target",
        help="Bootstrap servers of the target cluster "
        "(default: the embedded mirror broker, broker.mirror_port).",
    ),
) -> None:
    """Replicate every declared topic to the mirror cluster until Ctrl-C (resumes on restart).

    Start the second broker first: `vitrina broker start --mirror` (or `vitrina up --mirror`).
    """
    from vitrina.services.mirror import main, target_settings

    s = settings()
    logging.basicConfig(
        level=s.log_level, force=True, format="%(asctime)s mirror %(levelname)s %(message)s"
    )
    console.print(
        f"mirroring {s.kafka.bootstrap_servers} → "
        f"{target_settings(s, target).kafka.bootstrap_servers} (Ctrl-C stops; "
        f"metrics on :{s.ports.mirror}/metrics)"
    )
    main(s, target)
