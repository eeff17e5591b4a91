"""`vitrina ban …`: manage the ban list (add, remove, list, import)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vitrina.cli.common import console, handle_errors, settings, shown, spelt
from vitrina.domain.limits import PRODUCT_ID_CHARS

if TYPE_CHECKING:
    from vitrina.services.bans import BanService

app = typer.Typer(help="Ban products: banned products never reach customers.", no_args_is_help=True)
# Beyond this many bans, `ban list` prints plain tab-separated lines: a table of 100,000
# bans took ~25 s to draw.
TABLE_ROWS = 500
COLUMNS = ("product_id", "reason", "banned_by", "banned_at")


def _service() -> BanService:
    from vitrina.services.bans import BanService  # lazy: `vitrina --help` stays fast

    return BanService(settings())


@app.command("add")
@handle_errors
def add(
    ids: list[str] = typer.Argument(..., help=f"Product ids ({PRODUCT_ID_CHARS})."),
    reason: str = typer.Option(..., "--reason", "-r", help="Why (shown in the audit)."),
    by: str = typer.Option("operator", "--by", help="Who bans."),
) -> None:
    """Ban products; takes effect within a second, published ones are withdrawn."""
    bans = _service().ban(ids, reason, by)
    console.print(f"banned {len(bans)} product(s): {', '.join(b.product_id for b in bans)}")


@app.command("remove")
@handle_errors
def remove(ids: list[str] = typer.Argument(..., help="Product ids to unban.")) -> None:
    """Lift bans; the latest version of each product is republished."""
    done = _service().unban(ids)
    console.print(f"unbanned {len(done)} product(s): {', '.join(done)}")


@app.command("list")
@handle_errors
def list_bans(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Current bans with reason, author and time."""
    bans = _service().list()
    if as_json:
        import orjson

        console.print_json(orjson.dumps(bans).decode())
        return
    if len(bans) > TABLE_ROWS:
        import sys

        console.print(f"{len(bans)} banned product(s), one a line, tab-separated:")
        console.file.flush()
        lines = ("\t".join(spelt(" ".join(str(b[c]).split())) for c in COLUMNS) for b in bans)
        sys.stdout.write("\t".join(COLUMNS) + "\n" + "".join(f"{line}\n" for line in lines))
        return
    from rich.table import Table

    table = Table(*COLUMNS, title=f"{len(bans)} banned product(s)")
    for ban in bans:
        table.add_row(*(shown(ban[c]) for c in COLUMNS))
    console.print(table)


@app.command("import")
@handle_errors
def import_file(
    path: Path = typer.Argument(..., help='JSON: {"product_id": [...]} or [...].'),
    reason: str = typer.Option("imported", "--reason", "-r", help="Why."),
    by: str = typer.Option("import", "--by", help="Who bans."),
) -> None:
    """Ban every product id of a JSON file."""
    bans = _service().import_file(path, reason, by)
    console.print(f"banned {len(bans)} product(s) from {path}")
