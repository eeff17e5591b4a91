"""Compaction of the lake's small files on real Parquet files: what is merged, what is left,
and every record exactly once after a stop at any step of a merge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.test_lake_writer import event_rows

from vitrina.lake import compaction
from vitrina.lake.compaction import compact, finish_merges, merge, plan
from vitrina.lake.reader import read_dataset
from vitrina.lake.writer import LakeFile, LakeWriter
from vitrina.settings import load_settings

DAY = date(2024, 5, 1)
NEXT = date(2024, 5, 2)
ROLE = "client_events"
INC = "abc123"


class Stop(Exception):
    """A stop (kill -9) at a step of a merge: the files are as the step left them."""


@pytest.fixture
def writer(tmp_path: Path) -> LakeWriter:
    return LakeWriter.from_settings(load_settings(data_dir=tmp_path))


def write_files(writer: LakeWriter, partition: int, starts: range, size: int = 10) -> None:
    for start in starts:
        writer.write(ROLE, DAY, event_rows(partition, range(start, start + size)), INC)


def positions(writer: LakeWriter) -> list[tuple[int, int]]:
    table = read_dataset(writer, ROLE, ["_partition", "_offset"])
    return sorted(
        zip(
            table.column("_partition").to_pylist(), table.column("_offset").to_pylist(), strict=True
        )
    )


def stop_at(at: str) -> Callable[[str], None]:
    def crash(step: str) -> None:
        if step == at:
            raise Stop(step)

    return crash


def on_disk(writer: LakeWriter) -> list[Path]:
    """The dataset's data files as the disk holds them (not as a reader lists them)."""
    return sorted(Path(writer.root, ROLE).glob("date=*/part-*.parquet"))


def hidden(writer: LakeWriter) -> list[str]:
    return writer.hidden_files(ROLE, compaction.MARK)


def test_files_below_the_committed_offset_merge_into_the_first_one(writer: LakeWriter) -> None:
    write_files(writer, 0, range(0, 200, 10))  # 20 files, offsets 0..199
    write_files(writer, 1, range(0, 50, 10))
    before = positions(writer)
    outcome = compact(writer, ROLE, {0: 150, 1: 30}, INC, target_bytes=1 << 30)

    p0 = [f.first_offset for f in writer.files(ROLE, 0)]
    p1 = [f.first_offset for f in writer.files(ROLE, 1)]
    # Files starting below 150 became one file named by offset 0; those at or past it stay.
    assert p0 == [0, 150, 160, 170, 180, 190]
    assert p1 == [0, 30, 40]
    assert (outcome.merged, outcome.absorbed) == (2, 15 + 3)  # the first files too
    assert positions(writer) == before  # nothing lost, nothing twice
    first = writer.files(ROLE, 0)[0]
    assert first.path.endswith("part-000-000000000000-abc123.g1.parquet")
    merged = pq.read_table(first.path)
    assert merged.column("_offset").to_pylist() == list(range(150))  # in offset order
    assert hidden(writer) == []
    # The sink's crash recovery deletes files from the committed offset on: never a merged one.
    beyond = [f.path for f in writer.files(ROLE, 0) if f.first_offset >= 150]
    assert writer.delete_uncommitted(ROLE, 0, 150, INC) == beyond
    assert positions(writer)[:150] == before[:150]


def test_a_local_merge_reads_its_files_without_python_in_arrow_s_threads(
    writer: LakeWriter,
) -> None:
    """`analytics show` aborted at exit in CI (exit 134): Arrow read a lake file through a
    Python file in its own threads and let go of it there after the interpreter had begun
    to exit. Compaction (`vitrina lake compact`) read its files so too. On a local lake
    Arrow now reads the operating system's file: no Python file is touched by any thread
    but the caller's, and the merge keeps every record once."""
    import threading

    from tests.support import threads_touching_files

    write_files(writer, 0, range(0, 100, 10))
    before = positions(writer)
    with threads_touching_files(writer.fs) as touched:
        outcome = compact(writer, ROLE, {0: 100}, INC, target_bytes=1 << 30)
    assert outcome.absorbed == 10
    assert positions(writer) == before
    assert touched <= {threading.get_ident()}


def test_plan_keeps_dates_apart_and_large_files_alone(writer: LakeWriter) -> None:
    def lake_file(day: date, offset: int, size: int) -> LakeFile:
        return LakeFile(ROLE, day, 0, offset, f"/x/{offset}", size, INC)

    files = [
        lake_file(DAY, 0, 10),
        lake_file(NEXT, 5, 10),
        lake_file(DAY, 10, 10),
        lake_file(DAY, 20, 60),  # at least half the target: already large
        lake_file(DAY, 30, 10),
        lake_file(DAY, 40, 39),
        lake_file(DAY, 50, 20),  # would pass the target: a group of its own, of one
        lake_file(NEXT, 60, 10),
        lake_file(DAY, 70, 10),  # at the committed offset: a replay may write it again
    ]
    groups = plan(files, committed=70, target_bytes=80)
    assert [[f.first_offset for f in g] for g in groups] == [[0, 10, 30, 40], [5, 60]]
    assert plan(files, committed=1, target_bytes=80) == []


@pytest.mark.parametrize("step", ["merged", "decided", "replaced", "absorbed"])
def test_a_merge_stopped_at_any_step_leaves_every_record_once(
    writer: LakeWriter, step: str
) -> None:
    write_files(writer, 0, range(0, 60, 10))
    before = positions(writer)
    group = plan(writer.files(ROLE), committed=60, target_bytes=1 << 30)[0]

    first = Path(group[0].path)
    original = first.read_bytes()
    with pytest.raises(Stop):
        merge(writer, group, crash_at=stop_at(step))
    assert hidden(writer), "a stopped merge leaves its hidden files"
    if first.exists():  # no file is ever overwritten: a reader that opened it reads it whole
        assert first.read_bytes() == original
    # Readers meanwhile see every record once: before the replace the files as they were,
    # after it the merged file without the absorbed ones still on disk.
    assert positions(writer) == before

    finished = finish_merges(writer, ROLE, {0})
    assert finished == (0 if step == "merged" else 1)
    assert positions(writer) == before
    assert hidden(writer) == []
    names = [f.first_offset for f in writer.files(ROLE, 0)]
    assert names == ([0, 10, 20, 30, 40, 50] if step == "merged" else [0])


def test_an_intent_cut_short_is_undone_and_other_partitions_are_not_touched(
    writer: LakeWriter,
) -> None:
    write_files(writer, 0, range(0, 30, 10))
    write_files(writer, 1, range(0, 30, 10))
    before = positions(writer)
    for partition, step in ((0, "decided"), (1, "merged")):
        group = plan(writer.files(ROLE, partition), committed=30, target_bytes=1 << 30)[0]
        with pytest.raises(Stop):
            merge(writer, group, crash_at=stop_at(step))
    # Partition 0's intent was cut short while written: nothing was moved yet.
    intent0 = next(p for p in hidden(writer) if "part-000" in p and p.endswith(".json"))
    Path(intent0).write_bytes(b'{"into": "part-000-0000')
    assert finish_merges(writer, ROLE, {0}) == 0
    assert [f.first_offset for f in writer.files(ROLE, 0)] == [0, 10, 20]
    assert all("part-001" in p for p in hidden(writer))  # partition 1's merge is not ours here
    assert finish_merges(writer, ROLE, {1}) == 0  # stopped before its intent: undone too
    assert hidden(writer) == [] and positions(writer) == before


def test_an_intent_naming_files_elsewhere_is_not_followed(writer: LakeWriter) -> None:
    write_files(writer, 0, range(0, 30, 10))
    group = plan(writer.files(ROLE), committed=30, target_bytes=1 << 30)[0]
    with pytest.raises(Stop):
        merge(writer, group, crash_at=stop_at("decided"))
    intent = next(p for p in hidden(writer) if p.endswith(".json"))
    Path(intent).write_bytes(
        b'{"into": "part-000-000000000000-abc123.parquet", "absorbed": ["../x"]}'
    )
    finish_merges(writer, ROLE, {0})
    assert [f.first_offset for f in writer.files(ROLE, 0)] == [0, 10, 20]


def test_files_of_an_older_layout_stay_out_of_a_merge(writer: LakeWriter) -> None:
    write_files(writer, 0, range(0, 20, 10))
    older = pa.Table.from_pylist(event_rows(0, range(20, 30))).drop_columns(["rating"])
    writer.write_table(ROLE, DAY, older, INC)
    write_files(writer, 0, range(30, 40, 10))
    before = positions(writer)
    outcome = compact(writer, ROLE, {0: 40}, INC, target_bytes=1 << 30)
    assert outcome.absorbed == 3
    assert [f.first_offset for f in writer.files(ROLE, 0)] == [0, 20]
    assert positions(writer) == before


def test_an_older_incarnation_merges_whole_the_current_one_below_its_commit(
    writer: LakeWriter,
) -> None:
    """A topic deleted and created again: the older incarnation's files are all final (no
    sink replays them), so they merge whatever the current incarnation's commit is — nothing
    else ever would; the current one's only below its committed offset."""
    write_files(writer, 0, range(0, 30, 10))
    for start in range(0, 50, 10):
        writer.write(ROLE, DAY, event_rows(0, range(start, start + 10)), "old1")
    before = positions(writer)
    outcome = compact(writer, ROLE, {0: 20}, INC, target_bytes=1 << 30)
    assert (outcome.merged, outcome.absorbed) == (2, 2 + 5)
    left = sorted((f.incarnation, f.first_offset, f.generation) for f in writer.files(ROLE, 0))
    assert left == [("abc123", 0, 1), ("abc123", 20, 0), ("old1", 0, 1)]
    assert positions(writer) == before


def test_a_merge_cut_short_before_the_topic_was_recreated_is_completed(
    writer: LakeWriter,
) -> None:
    """The next sink works on the new incarnation's files; a decided merge of the old
    one's must not leave its rows twice for ever."""
    write_files(writer, 0, range(0, 30, 10))
    before = positions(writer)
    group = plan(writer.files(ROLE), committed=30, target_bytes=1 << 30)[0]
    with pytest.raises(Stop):
        merge(writer, group, crash_at=stop_at("replaced"))
    assert len(on_disk(writer)) == 4  # the merged file and the three it absorbed
    assert compact(writer, ROLE, {0: 5}, "new1", 1 << 30).finished == 1
    assert positions(writer) == before and hidden(writer) == []
    assert len(on_disk(writer)) == 1


def test_a_merge_reads_and_writes_in_bounded_row_groups(
    writer: LakeWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compaction, "ROW_GROUP_BYTES", 2000)
    monkeypatch.setattr(compaction, "READ_BATCH_ROWS", 4)
    write_files(writer, 0, range(0, 100, 10))
    before = positions(writer)
    assert compact(writer, ROLE, {0: 100}, INC, 1 << 30).absorbed == 10
    (merged,) = writer.files(ROLE, 0)
    meta = pq.ParquetFile(merged.path).metadata
    assert meta.num_row_groups > 3 and meta.num_rows == 100
    assert pq.read_table(merged.path).column("_offset").to_pylist() == list(range(100))
    assert positions(writer) == before


def test_a_frozen_sink_whose_merged_file_was_deleted_keeps_every_file(
    writer: LakeWriter,
) -> None:
    """A sink frozen past its session while it merged: the partition's next owner deletes
    its merged copy as undecided; thawed, the sink writes its intent and goes on. It must
    not delete the files it meant to absorb, nor may readers skip them."""
    write_files(writer, 0, range(0, 30, 10))
    before = positions(writer)
    group = plan(writer.files(ROLE), committed=30, target_bytes=1 << 30)[0]

    def next_owner_meanwhile(step: str) -> None:
        if step == "merged":  # the merged copy written, its intent not yet
            assert finish_merges(writer, ROLE, {0}) == 0  # deletes it: undecided
        if step == "decided":  # the intent written: readers list the lake now
            assert positions(writer) == before

    assert merge(writer, group, crash_at=next_owner_meanwhile) == 0
    assert len(on_disk(writer)) == 3 and positions(writer) == before
    assert hidden(writer) == []


def test_a_merged_file_merges_again_one_generation_on(writer: LakeWriter) -> None:
    write_files(writer, 0, range(0, 30, 10))
    compact(writer, ROLE, {0: 30}, INC, 1 << 30)
    write_files(writer, 0, range(30, 60, 10))
    before = positions(writer)
    assert compact(writer, ROLE, {0: 60}, INC, 1 << 30).absorbed == 4  # .g1 and three
    assert [Path(p).name for p in on_disk(writer)] == ["part-000-000000000000-abc123.g2.parquet"]
    assert positions(writer) == before == [(0, o) for o in range(60)]


def two_sinks(writer: LakeWriter, at: str) -> None:
    """A sink frozen past its session merges 0-29 while the partition's next owner, at
    `at`, merges 0-49 (two files more): every record once, whichever order they end in."""
    write_files(writer, 0, range(0, 50, 10))
    before = positions(writer)
    frozen = plan(writer.files(ROLE), committed=30, target_bytes=1 << 30)[0]

    def next_owner_meanwhile(step: str) -> None:
        if step == at:
            if at == "merged":  # a round: completes or undoes what is not its own first
                assert compact(writer, ROLE, {0: 50}, INC, 1 << 30).absorbed == 5
            else:  # a merge it had planned already
                owner = [f for f in writer.files(ROLE) if f.first_offset < 50]
                assert merge(writer, owner) == 5

    assert merge(writer, frozen, crash_at=next_owner_meanwhile) == 0
    assert positions(writer) == before
    assert [Path(p).name for p in on_disk(writer)] == ["part-000-000000000000-abc123.g1.parquet"]
    assert hidden(writer) == []


def test_a_frozen_sink_s_merge_undone_by_the_next_owner_s_round_deletes_nothing(
    writer: LakeWriter,
) -> None:
    two_sinks(writer, "merged")


def test_a_frozen_sink_never_renames_its_merge_over_the_next_owner_s(
    writer: LakeWriter,
) -> None:
    """Both decided: the next owner's merged file (five files' rows) is in place first; the
    frozen sink's (three files') must not replace it — the last two files' rows would go."""
    two_sinks(writer, "decided")
