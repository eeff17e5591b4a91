"""`vitrina contracts`: the message schemas."""

from __future__ import annotations

import typer

from vitrina.cli.common import console, handle_errors

app = typer.Typer(help="Message contracts (JSON Schema files).", no_args_is_help=True)


@app.command("export")
@handle_errors
def export() -> None:
    """Regenerate the JSON Schema files from the typed models."""
    from vitrina.contracts.export import export_all

    for path in export_all():
        console.print(f"wrote {path}")


@app.command("show")
@handle_errors
def show(name: str) -> None:
    """Print one contract's JSON Schema."""
    from vitrina.contracts.codec import schema_text

    console.print_json(schema_text(name))
