"""Reading the lake back: whole datasets as Arrow tables, and per-file statistics.

Statistics come from Parquet footers only (row counts, min/max of `_offset` and
`_timestamp`), so `vitrina lake stats` stays cheap however large the files are.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from vitrina.lake import layout
from vitrina.lake.filesystems import exists
from vitrina.lake.writer import LakeFile, LakeWriter
from vitrina.settings import Settings


@dataclass(frozen=True)
class FileStats:
    file: LakeFile
    rows: int
    min_offset: int | None
    max_offset: int | None
    newest: datetime | None


@dataclass
class PartitionRange:
    files: int = 0
    rows: int = 0
    min_offset: int | None = None
    max_offset: int | None = None


@dataclass
class DatasetStats:
    role: str
    files: int = 0
    rows: int = 0
    bytes: int = 0
    newest: datetime | None = None
    dates: dict[date, list[int]] = field(default_factory=dict)  # date -> [files, rows, bytes]
    partitions: dict[int, PartitionRange] = field(default_factory=dict)


def read_dataset(
    writer: LakeWriter, role: str, columns: list[str] | None = None, attempts: int = 5
) -> pa.Table:
    """Every row of one dataset (empty table with the schema when there is none).

    A running sink may delete a listed file before it is read: a merge of compaction (its
    rows are in the merged file by then) or the crash cleanup of a rewind (its rows are read
    again). Each listing is whole on its own (`LakeWriter.files`), so a file gone is listed
    and read again, up to `attempts` times."""
    schema = layout.schema_for(role)
    for _ in range(attempts - 1):
        with contextlib.suppress(FileNotFoundError):
            return _read_listed(writer, role, schema, columns)
    return _read_listed(writer, role, schema, columns)


def _read_listed(
    writer: LakeWriter, role: str, schema: pa.Schema, columns: list[str] | None
) -> pa.Table:
    """The files listed now, read (both open them: the dataset its sizes, then the read)."""
    paths = [f.path for f in writer.files(role)]
    if not paths:
        empty = schema.empty_table()
        return empty if columns is None else empty.select(columns)
    dataset = pads.dataset(paths, schema=schema, format="parquet", filesystem=writer.fs)
    return dataset.to_table(columns=columns)


def _column_range(meta: pq.FileMetaData, name: str) -> tuple[Any, Any]:
    index = meta.schema.to_arrow_schema().get_field_index(name)
    low = high = None
    for rg in range(meta.num_row_groups):
        stats = meta.row_group(rg).column(index).statistics
        if stats is None or not stats.has_min_max:
            return None, None
        low = stats.min if low is None else min(low, stats.min)
        high = stats.max if high is None else max(high, stats.max)
    return low, high


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def file_stats(writer: LakeWriter, lake_file: LakeFile) -> FileStats:
    with writer.fs.open(lake_file.path, "rb") as fh:
        meta = pq.read_metadata(fh)
    low, high = _column_range(meta, "_offset")
    _, newest = _column_range(meta, "_timestamp")
    return FileStats(lake_file, meta.num_rows, low, high, _as_utc(newest))


def dataset_stats(writer: LakeWriter, role: str) -> DatasetStats:
    """Files, rows, bytes by date; offset range per source partition; newest record time."""
    out = DatasetStats(role)
    per_partition: dict[int, PartitionRange] = defaultdict(PartitionRange)
    for lake_file in writer.files(role):
        try:
            st = file_stats(writer, lake_file)
        except FileNotFoundError:
            continue  # deleted between listing and reading (a sink removing crash leftovers)
        out.files += 1
        out.rows += st.rows
        out.bytes += lake_file.size
        day = out.dates.setdefault(lake_file.day, [0, 0, 0])
        day[0] += 1
        day[1] += st.rows
        day[2] += lake_file.size
        if st.newest is not None and (out.newest is None or st.newest > out.newest):
            out.newest = st.newest
        rng = per_partition[lake_file.partition]
        rng.files += 1
        rng.rows += st.rows
        if st.min_offset is not None:
            rng.min_offset = (
                st.min_offset if rng.min_offset is None else min(rng.min_offset, st.min_offset)
            )
        if st.max_offset is not None:
            rng.max_offset = (
                st.max_offset if rng.max_offset is None else max(rng.max_offset, st.max_offset)
            )
    out.partitions = dict(sorted(per_partition.items()))
    return out


def lake_exists(writer: LakeWriter) -> bool:
    """Whether the lake's root exists; a storage that does not answer raises (fsspec's
    `exists` said False for a WebHDFS NameNode that refused the connection: "empty")."""
    return exists(writer.fs, writer.root)


def row_counts(settings: Settings) -> dict[str, int]:
    """Rows per dataset (e.g. for `vitrina demo` / status pages); 0 where nothing is written."""
    writer = LakeWriter.from_settings(settings)
    return {role: dataset_stats(writer, role).rows for role in layout.DATASETS}
