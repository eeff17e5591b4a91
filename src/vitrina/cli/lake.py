"""`vitrina lake ls|stats|compact`: what the data lake holds (read from Parquet footers), and
its small files merged by hand."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Table

from vitrina.cli.common import console, counting_bar, fail, handle_errors, settings

if TYPE_CHECKING:  # the lake modules import pyarrow: only when a lake command runs
    from vitrina.lake.writer import LakeWriter
    from vitrina.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
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


def _lake_answers(func: F) -> F:
    """A storage that does not answer (a DataNode down) is said as such, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from vitrina.lake.filesystems import answering

        with answering(settings().lake_url):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


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
@_lake_answers
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
@_lake_answers
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


@app.command()
@handle_errors
@_lake_answers
def compact(
    role: str = typer.Argument(None, help="One dataset; default: all."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would merge; write nothing."),
) -> None:
    """Merge small files now (the platform stopped): what the sink does every few minutes.

    Merges each partition's files of one date below the sink's committed offset, and every
    file of an older incarnation of a topic, into files of up to lake.compact_target_bytes.
    Safe to stop at any moment: the next run or the sink completes what was decided. The
    embedded broker is started for it when it is not running.
    """
    from vitrina import broker
    from vitrina.services.lake_compact import compact_lake, plan_lake, refuse_if_sinking

    roles = _roles(role)
    s, writer = _open_lake()
    own_broker = broker.start_for_command(s)
    if own_broker:
        with console.status("starting the embedded broker…"):
            broker.start(s)
    try:
        if not dry_run:
            refuse_if_sinking(s)  # asked again under the platform lock, before any merge
        with console.status("reading the lake and the sink's committed offsets…"):
            plans = plan_lake(s, writer, roles)
        if not plans:
            raise fail(
                f"the lake at {s.lake_url} has no data files" + (f" for {role}" if role else ""),
                hint="is `vitrina run lake-sink` running?",
            )
        table = Table(
            "dataset", "files", "to merge", "into", "uncommitted partitions", title="compaction"
        )
        for plan in plans:
            idle = [str(p) for p, offset in sorted(plan.committed.items()) if not offset]
            table.add_row(
                plan.role,
                str(plan.files),
                str(plan.absorbs),
                str(len(plan.groups)),
                ", ".join(idle) or "—",
            )
        console.print(table)
        groups = sum(len(p.groups) for p in plans)
        if dry_run or not groups:
            console.print("nothing to merge" if not groups else "dry run: nothing written")
            return
        with counting_bar(False) as bar:
            task = bar.add_task("merging", total=groups)
            reports = compact_lake(s, writer, plans, lambda _g, _n: bar.advance(task))
    finally:
        if own_broker:
            broker.stop(s)
    for report in reports:
        if not (report.done.merged or report.done.finished):
            continue
        console.print(
            f"{report.plan.role}: {report.plan.files} → {report.files_after} files "
            f"({report.done.absorbed} merged into {report.done.merged}, "
            f"{report.done.finished} cut short completed) in {report.seconds:.1f} s"
        )
