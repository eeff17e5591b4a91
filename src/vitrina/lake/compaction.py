"""Compaction of the lake's small files, run by the lake sink over its own partitions.

The sink writes a file per (dataset, partition, date) every `lake.flush_seconds`: at a
steady trickle that is ~720 files an hour per partition, and every reader (DuckDB, Spark,
`vitrina lake stats`) pays per file. Compaction merges a partition's files of one date and
one topic incarnation into files of up to `lake.compact_target_bytes`, keeping the layout:
the merged file is named by its first (lowest) offset, as the file it starts with, one
generation on (`….g1.parquet`, then `.g2`…), its rows in offset order. No file is ever
overwritten.

Only files wholly below the group's committed offset are merged. The sink's crash recovery
deletes this incarnation's files whose first offset is at or past the committed offset
(`LakeWriter.delete_uncommitted`) and the replay writes them again; a merged file is named
by an offset below it, so recovery never deletes one, and none of its rows is ever replayed.

A merge is crash-safe at every step:

1. the merged rows are written to a hidden `.compact-<token>-<merged file's name>` (the
   token is the merge's own: two sinks that both believe they own a partition, one of
   them frozen past its session, never write the same file);
2. an intent, that name + `.json`, names the merged file, the files it absorbs (the first
   one too) and its row count — from here the merge is decided;
3. the merged file is renamed into place, never over an existing file;
4. the absorbed files are deleted, then the intent.

The intent holds the merged file's row count: a merged file is moved, and the absorbed
files deleted, only when the file in hand has that many rows. Otherwise the intent is
dropped and every file left as it is — the case of a sink frozen past its session while it
merged, whose merged copy the partition's next owner deleted as undecided.

`finish_merges` (run by the sink when it is assigned a partition, and before each round)
completes every decided merge (steps 3-4, each idempotent) and deletes a merged file no
complete intent names. So after a kill at any moment the lake holds every record exactly
once. A listing (`LakeWriter.files`) that holds the merged file leaves out the files it
absorbed, and one that does not holds them unchanged (none is overwritten): a reader sees
every record once at every step. The analytics job reads hard links of what it listed on a
local lake, and lists again when a file it listed is gone (`analytics.lakeio`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from vitrina.lake import layout
from vitrina.lake.filesystems import exists, parquet_source
from vitrina.lake.layout import MergeIntent
from vitrina.lake.writer import LakeFile, LakeWriter, parquet_options

log = logging.getLogger(__name__)

MARK, INTENT_SUFFIX = layout.COMPACT_MARK, layout.INTENT_SUFFIX
# Arrow bytes gathered before a row group is written: bounds the memory of a merge (files
# are read batch by batch) while keeping row groups large (~10k products, ~100k orders).
ROW_GROUP_BYTES = 32 * 1024 * 1024
# "Below every offset": an older incarnation's files are all final.
CLOSED = sys.maxsize
READ_BATCH_ROWS = 8192


@dataclass
class Compacted:
    """What one round of compaction did."""

    merged: int = 0  # files written by merges
    absorbed: int = 0  # files deleted because a merged file holds their rows
    finished: int = 0  # decided merges of an earlier (killed) round completed


def plan(files: list[LakeFile], committed: int, target_bytes: int) -> list[list[LakeFile]]:
    """Groups of files to merge, from one partition's files of one incarnation: per date,
    files below `committed` and smaller than half the target, in offset order, gathered
    while their sizes add up to at most `target_bytes`; a group has two files or more."""
    by_day: dict[date, list[LakeFile]] = defaultdict(list)
    for f in files:
        if f.first_offset < committed and f.size < target_bytes // 2:
            by_day[f.day].append(f)
    groups: list[list[LakeFile]] = []
    for day in sorted(by_day):
        group: list[LakeFile] = []
        size = 0
        for f in sorted(by_day[day], key=lambda f: f.first_offset):
            if group and size + f.size > target_bytes:
                if len(group) > 1:
                    groups.append(group)
                group, size = [], 0
            group.append(f)
            size += f.size
        if len(group) > 1:
            groups.append(group)
    return groups


def _merged_name(first: LakeFile) -> str:
    """The merged file's name: its first file's, one generation on (never an existing one:
    the first file of the group is the newest generation of its first offset)."""
    return layout.file_name(
        first.partition, first.first_offset, first.incarnation, first.generation + 1
    )


def merge(
    writer: LakeWriter,
    group: list[LakeFile],
    crash_at: Callable[[str], None] | None = None,
) -> int:
    """Merge `group` (one partition's files of one date, in offset order) into its first
    file; returns the files absorbed. Files whose schema differs from the first one's (an
    older layout) stay out of the merge. `crash_at(step)` is a test's hook."""
    step = crash_at or (lambda _: None)
    first = group[0]
    directory = first.path.rsplit("/", 1)[0]
    merged_name = _merged_name(first)
    merged_path = f"{directory}/{layout.merged_file_name(merged_name, uuid.uuid4().hex[:8])}"
    with parquet_source(writer.fs, first.path) as fh:
        schema = pq.read_schema(fh)
    taken: list[LakeFile] = []
    pending: list[pa.RecordBatch] = []
    size = rows = 0
    with (
        writer.create(merged_path) as handle,
        pq.ParquetWriter(handle, schema, **parquet_options(schema, first.role)) as out,
    ):
        for lake_file in group:
            with parquet_source(writer.fs, lake_file.path) as fh:
                source = pq.ParquetFile(fh)
                if not source.schema_arrow.equals(schema, check_metadata=False):
                    continue
                taken.append(lake_file)
                # Batch by batch: a file may be a large merged one (held whole, tens of MB
                # of Parquet would be hundreds of MB of Arrow in the sink's memory).
                for batch in source.iter_batches(batch_size=READ_BATCH_ROWS):
                    pending.append(batch)
                    size += batch.nbytes
                    rows += batch.num_rows
                    if size >= ROW_GROUP_BYTES:
                        out.write_table(pa.Table.from_batches(pending, schema))
                        pending, size = [], 0
        if pending:
            out.write_table(pa.Table.from_batches(pending, schema))
    if len(taken) < 2:  # nothing to merge after all: no intent, the merged copy goes
        writer.fs.rm_file(merged_path)
        return 0
    step("merged")
    intent = MergeIntent(merged_name, [f.path.rsplit("/", 1)[1] for f in taken], rows)
    with writer.create(merged_path + INTENT_SUFFIX) as fh:
        fh.write(intent.to_json())
    step("decided")
    return len(taken) if _roll_forward(writer, merged_path, intent, step) else 0


def _roll_forward(
    writer: LakeWriter, merged_path: str, intent: MergeIntent, step: Callable[[str], None]
) -> bool:
    """Steps 3-4 of a decided merge, each skipped when already done; False (the intent
    dropped, every file left) when the merged file is not this intent's: a sink frozen past
    its session while it merged, whose merged copy the partition's next owner deleted as
    undecided (or replaced by its own), must not delete the files it meant to absorb."""
    directory = merged_path.rsplit("/", 1)[0]
    target = f"{directory}/{intent.into}"
    # Never over an existing file: another merge's (a sink that also believed it owned the
    # partition) stays, and this merge goes on below only if that file is the same.
    if exists(writer.fs, merged_path) and not (
        writer.rows_in(merged_path) == intent.rows
        and writer.move(merged_path, target, overwrite=False)
    ):
        _remove(writer, merged_path)
    step("replaced")
    if writer.rows_in(target) != intent.rows:
        return _drop_intent(writer, merged_path)
    for name in intent.absorbed:
        path = f"{directory}/{name}"
        if exists(writer.fs, path):
            writer.fs.rm_file(path)
        step("absorbed")
    writer.fs.rm_file(merged_path + INTENT_SUFFIX)
    return True


def _drop_intent(writer: LakeWriter, merged_path: str) -> bool:
    log.warning("lake: a merge into %s was undone: its merged file is gone", merged_path)
    _remove(writer, merged_path + INTENT_SUFFIX)
    return False


def _remove(writer: LakeWriter, path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        writer.fs.rm_file(path)


def finish_merges(writer: LakeWriter, role: str, partitions: Collection[int]) -> int:
    """Complete the decided merges of these partitions' files and delete merged files never
    decided (a kill before or while the intent was written); returns the merges completed.
    Of any topic incarnation: a merge a kill cut short before the topic was recreated is
    completed too."""
    hidden = writer.hidden_files(role, MARK)
    intents = {p for p in hidden if p.endswith(INTENT_SUFFIX)}
    finished = 0
    for path in sorted(hidden):
        merged_path = path.removesuffix(INTENT_SUFFIX)
        into = layout.merged_file_of(merged_path)
        fid = layout.parse_file_name(into) if into else None
        if fid is None or fid.partition not in partitions:
            continue
        if path in intents:
            intent = _read_intent(writer, path)
            if intent is None:  # cut short while written: nothing was moved yet
                _remove(writer, merged_path)
                _remove(writer, path)
                continue
            finished += _roll_forward(writer, merged_path, intent, lambda _: None)
        elif path + INTENT_SUFFIX not in intents:
            _remove(writer, path)  # merged, never decided: its files are all still there
    if finished:
        log.warning(
            "lake: completed %d merge(s) of %s cut short by a stop (partitions %s)",
            finished,
            role,
            ", ".join(map(str, sorted(partitions))),
        )
    return finished


def _read_intent(writer: LakeWriter, path: str) -> MergeIntent | None:
    try:
        return MergeIntent.from_json(writer.fs.cat_file(path), path)
    except FileNotFoundError:
        return None


def plan_round(
    files: list[LakeFile], committed: dict[int, int], incarnation: str, target_bytes: int
) -> list[list[LakeFile]]:
    """The groups one round merges, over the partitions of `committed` (→ the group's
    committed offset): the current incarnation's files below that offset, and every file of
    an older incarnation of the topic (deleted and created again: its records are final, no
    sink reads it any more, and the crash cleanup only deletes the current one's files)."""
    by_source: dict[tuple[str, int], list[LakeFile]] = defaultdict(list)
    for f in files:
        if f.partition in committed:
            by_source[(f.incarnation, f.partition)].append(f)
    groups: list[list[LakeFile]] = []
    for (inc, partition), mine in sorted(by_source.items()):
        below = committed[partition] if inc == incarnation else CLOSED
        groups += plan(mine, below, target_bytes)
    return groups


def compact(
    writer: LakeWriter,
    role: str,
    committed: dict[int, int],
    incarnation: str,
    target_bytes: int,
    stop: threading.Event | None = None,
    merged: Callable[[list[LakeFile], int], None] | None = None,
) -> Compacted:
    """One round over one dataset: for each partition (→ its committed offset), finish
    what a stop cut short, then merge what `plan_round` groups; `merged(group, absorbed)`
    after each merge (a progress bar's hook). Returns between merges once `stop` is set."""
    outcome = Compacted()
    outcome.finished += finish_merges(writer, role, set(committed))
    for group in plan_round(writer.files(role), committed, incarnation, target_bytes):
        if stop is not None and stop.is_set():
            break
        absorbed = merge(writer, group)
        if absorbed:
            outcome.merged += 1
            outcome.absorbed += absorbed
        if merged is not None:
            merged(group, absorbed)
    return outcome
