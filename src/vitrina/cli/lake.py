"""`vitrina lake ls|stats`: what the data lake holds, read from Parquet footers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from vitrina.cli.common import console, fail, handle_errors, settings

if TYPE_CHECKING:  # the lake modules import pyarrow: only when a lake command runs
    from vitrina.lake.writer import LakeWriter
    from vitrina.settings import Settings

app = typer.Typer(help="The Parquet data lake: files, rows, offsets.", no_args_is_help=True)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _open_lake() -> tuple[Settings, LakeWriter]:
    from vitrina.lake.reader import lake_exists
    from vitrina.lake.writer import LakeWriter

    s = settings()
    writer = LakeWriter.from_settings(s)
    if not lake_exists(writer):
        raise fail(
            f"the lake at {s.lake_url} is empty (the directory does not exist yet)",
            hint="start the sink: `vitrina run lake-sink` (or `vitrina up`), "
            "then produce some records",
        )
    return s, writer


def _roles(role: str | None) -> list[str]:
    from vitrina.lake.layout import DATASETS

    if role is None:
        return list(DATASETS)
    role = role.replace("-", "_")
    if role not in DATASETS:
        raise fail(f"unknown dataset {role!r}", hint=f"one of: {', '.join(DATASETS)}")
    return [role]


@app.command("ls")
@handle_errors
def ls(
    role: str = typer.Argument(None, help="One dataset (e.g. orders); default: all."),
    files: bool = typer.Option(False, "--files", "-f", help="List every file."),
) -> None:
    """Files, rows and bytes by dataset and date."""
    from vitrina.lake.reader import dataset_stats, file_stats

    roles = _roles(role)
    s, writer = _open_lake()
    table = Table("dataset", "date", "files", "rows", "size", title=f"lake {s.lake_url}")
    total_files = 0
    for name in roles:
        stats = dataset_stats(writer, name)
        total_files += stats.files
        for day, (n_files, rows, size) in sorted(stats.dates.items()):
            table.add_row(name, day.isoformat(), str(n_files), f"{rows:,}", _size(size))
    if not total_files:
        raise fail(
            f"the lake at {s.lake_url} has no data files" + (f" for {role}" if role else ""),
            hint=f"is `vitrina run lake-sink` running? it flushes every {s.lake.flush_seconds:g} s",
        )
    console.print(table)
    if files:
        detail = Table("file", "rows", "offsets", "size")
        for name in roles:
            for lake_file in writer.files(name):
                st = file_stats(writer, lake_file)
                detail.add_row(
                    lake_file.path,
                    f"{st.rows:,}",
                    f"{st.min_offset}–{st.max_offset}",
                    _size(lake_file.size),
                )
        console.print(detail)


@app.command()
@handle_errors
def stats(role: str = typer.Argument(None, help="One dataset; default: all.")) -> None:
    """Rows per dataset, offset range per source partition, bytes, newest record time."""
    from vitrina.lake.reader import dataset_stats

    roles = _roles(role)
    s, writer = _open_lake()
    summary = Table("dataset", "files", "rows", "size", "newest record", title=f"lake {s.lake_url}")
    partitions = Table("dataset", "partition", "files", "rows", "offsets")
    any_rows = False
    for name in roles:
        st = dataset_stats(writer, name)
        any_rows = any_rows or st.files > 0
        summary.add_row(name, str(st.files), f"{st.rows:,}", _size(st.bytes), _time(st.newest))
        for partition, rng in st.partitions.items():
            partitions.add_row(
                name,
                str(partition),
                str(rng.files),
                f"{rng.rows:,}",
                f"{rng.min_offset}–{rng.max_offset}",
            )
    if not any_rows:
        raise fail(
            f"the lake at {s.lake_url} has no data files",
            hint="is `vitrina run lake-sink` running?",
        )
    console.print(summary)
    console.print(partitions)
