"""The query log's journal: what a killed process leaves is recovered once, a live one's
segments are never taken, and done segments are deleted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vitrina.api import query_journal
from vitrina.api.query_journal import ACKED, SUFFIX, QueryJournal


def _names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_a_dead_writers_lines_not_done_are_recovered_once(tmp_path: Path) -> None:
    # A child process journals five lines, marks two done and dies by SIGKILL.
    script = f"""
import os, signal
from pathlib import Path

import pytest
from vitrina.api.query_journal import QueryJournal
journal = QueryJournal(Path({str(tmp_path)!r}))
placed = [journal.append(b'{{"n": %d}}\\n' % n) for n in range(5)]
journal.done(*placed[0])
journal.done(*placed[2])
os.kill(os.getpid(), signal.SIGKILL)
"""
    child = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert child.returncode == -9
    journal = QueryJournal(tmp_path)
    pending = journal.recover()
    assert [line for _, _, line in pending] == [b'{"n": 1}', b'{"n": 3}', b'{"n": 4}']
    second = QueryJournal(tmp_path)
    assert second.recover() == []  # held by the first: never twice
    second.close()
    for segment, number, _ in pending:
        journal.done(segment, number)
    journal.collect()
    journal.close()
    assert _names(tmp_path) == set()  # the dead writer's files and our own, all deleted


def test_a_live_writers_segment_is_not_taken(tmp_path: Path) -> None:
    writer = QueryJournal(tmp_path)
    writer.append(b'{"n": 0}\n')
    other = QueryJournal(tmp_path)
    assert other.recover() == []
    other.close()
    writer.close()  # let go with a line not done: the next process recovers it
    assert [line for _, _, line in QueryJournal(tmp_path).recover()] == [b'{"n": 0}']


def test_segments_rotate_and_a_done_one_is_deleted(tmp_path: Path) -> None:
    journal = QueryJournal(tmp_path)
    first = journal.append(b"a\n")
    journal.rotate()
    second = journal.append(b"b\n")
    assert first[0] is not second[0] and len(_names(tmp_path)) == 4  # two segments, two lists
    journal.done(*first)
    journal.collect()
    assert _names(tmp_path) == {second[0].path.name, second[0].path.with_suffix(ACKED).name}
    journal.rotate()
    journal.done(*second)
    journal.collect()
    assert {Path(n).suffix for n in _names(tmp_path)} == {SUFFIX, ACKED}  # only the new one
    journal.close()
    assert _names(tmp_path) == set()


def test_a_line_is_journalled_without_a_system_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line is copied into the segment's map, on the request's path: a write(2) there
    let go of the GIL, and the request then waited for the threads that took it (~18 us of
    a worker's CPU a request, query_journal's docstring). A kill -9 right after the copy
    loses nothing: the map is the kernel's page cache."""
    journal = QueryJournal(tmp_path)
    written: list[int] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        written.append(fd)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    journal.append(b'{"n": 0}\n')
    journal.append(b'{"n": 1}\n')
    monkeypatch.undo()
    assert written == []
    script = f"""
import os, signal
from pathlib import Path
from vitrina.api.query_journal import QueryJournal
journal = QueryJournal(Path({str(tmp_path / "killed")!r}))
journal.append(b'{{"n": 2}}\\n')
os.kill(os.getpid(), signal.SIGKILL)
"""
    child = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert child.returncode == -9
    assert [line for _, _, line in QueryJournal(tmp_path / "killed").recover()] == [b'{"n": 2}']
    journal.close()


def test_a_line_that_does_not_fit_starts_a_new_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines past a segment's room go to a new one at once; sealed, each file is cut to its
    lines (no allocated tail left on disk), and every line is recovered."""
    monkeypatch.setattr(query_journal, "SEGMENT_BYTES", 64)
    journal = QueryJournal(tmp_path)
    lines = [b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * 10) for n in range(3)]  # 2 fit in 64
    placed = [journal.append(line) for line in lines]
    assert placed[0][0] is placed[1][0] is not placed[2][0]
    assert journal.append(b"y" * 100 + b"\n")[0] is journal.current  # longer than a segment
    journal.rotate()
    sealed = [p for p in tmp_path.glob(f"*{SUFFIX}") if p != journal.current.path]
    n = len(lines[0])
    assert sorted(p.stat().st_size for p in sealed) == sorted([2 * n, n, 101])
    journal.close()  # let go with no line done: the next process recovers them
    recovered = [line for _, _, line in QueryJournal(tmp_path).recover()]
    assert sorted(recovered) == sorted([line[:-1] for line in lines] + [b"y" * 100])


def test_a_disk_without_room_for_a_segment_is_an_error_not_a_dead_process(
    tmp_path: Path,
) -> None:
    """A segment's blocks are allocated before it is mapped: a copy into a map the disk
    has no blocks for would kill the process with SIGBUS. Here a file size limit stands
    for a full disk: making the journal fails with OSError, which the query log counts
    (ClientProducer: records kept in memory only)."""
    script = f"""
import resource, signal
from pathlib import Path
from vitrina.api.query_journal import QueryJournal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
try:
    QueryJournal(Path({str(tmp_path)!r}))
except OSError as exc:
    print("refused:", exc.strerror)
"""
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("refused:")
    assert list(tmp_path.iterdir()) == []  # nothing half made is left


def test_a_line_cut_by_a_crash_is_not_recovered(tmp_path: Path) -> None:
    """A machine crash may leave a last line without its line break: it is dropped, not
    produced as a broken record."""
    path = tmp_path / f"1-abc{SUFFIX}"
    path.write_bytes(b'{"n": 0}\n{"n": 1')
    pending = QueryJournal(tmp_path).recover()
    assert [line for _, _, line in pending] == [b'{"n": 0}']
    assert os.path.exists(path)


def test_undelivered_query_log_records_are_reported_once_not_per_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the journal every undelivered record is retried, so a warning per record (as
    before) would have written one for every search, again at every retry, for as long as
    the broker is away. They are counted and reported at most every WARN_EVERY_S."""
    from confluent_kafka import KafkaError

    from vitrina.api.querylog import WARN_EVERY_S, ClientProducer
    from vitrina.settings import load_settings

    settings = load_settings(data_dir=tmp_path, kafka={"bootstrap_servers": "127.0.0.1:9"})
    producer = ClientProducer(settings)
    try:
        timeout = KafkaError(KafkaError._MSG_TIMED_OUT)
        with caplog.at_level("WARNING", logger="vitrina.api.querylog"):
            for n in range(200):
                producer._on_query_delivery((b"{}\n", None, n, {}), timeout, None)  # type: ignore[arg-type]
        warnings = [r for r in caplog.records if "not delivered" in r.getMessage()]
        assert len(warnings) == 1 and WARN_EVERY_S >= 10
        assert len(producer._retry) == 200  # every one of them is retried
    finally:
        producer._retry.clear()
        producer.close()


def test_a_segment_sealed_with_lines_not_delivered_is_synced_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a power cut may lose is bounded by the rotation (1 s), not by the kernel's
    write-back (~30 s); a segment whose lines were all delivered costs no fsync."""
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    journal = QueryJournal(tmp_path)
    delivered = journal.append(b'{"n": 0}\n')
    journal.done(*delivered)
    journal.rotate()
    assert synced == []  # every line delivered: nothing to keep
    first = journal.current
    journal.append(b'{"n": 1}\n')  # the broker is away: not delivered
    journal.rotate()
    assert first.fd in synced and len(synced) == 2  # the segment, then its directory
    journal.close()


def test_a_line_after_close_is_an_oserror(tmp_path: Path) -> None:
    """The query log counts an OSError from the journal and still produces the record; a
    closed journal's segment has no map, and a copy into it was a TypeError instead (a 500
    for a search answered while the process stopped)."""
    journal = QueryJournal(tmp_path)
    journal.close()
    with pytest.raises(OSError, match="closed"):
        journal.append(b'{"n": 0}\n')
