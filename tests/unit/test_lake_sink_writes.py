"""The sink writes its files on a background thread: the consumer goes on while a file is
written, offsets may commit only once every file is on disk, and a write that fails hands
its records back for the worker's retry (same file name, each record once).

The writer is the real LakeWriter on a temporary directory; it only waits at a gate (or
fails once) when a test says so, to hold a write in flight."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from tests.conftest import wait_for
from tests.support import ConsumedRecord

from vitrina.domain.generator import generate_catalog
from vitrina.errors import UnavailableError
from vitrina.lake.filesystems import lake_filesystem
from vitrina.lake.reader import read_dataset
from vitrina.lake.writer import LakeWriter, Written
from vitrina.services.lake_sink import LakeSink
from vitrina.services.lake_sink_writes import BackgroundWrites
from vitrina.settings import Settings, load_settings

PRODUCTS = [orjson.dumps(p) for p in generate_catalog(9, seed=31)]


class GatedWriter(LakeWriter):
    """Writes wait at `gate`; the next write raises `fail` once when it is set."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(*lake_filesystem(settings))
        self.gate = threading.Event()
        self.gate.set()
        self.fail: Exception | None = None

    def write_table(self, role: str, day: date, table: pa.Table, incarnation: str = "") -> Written:
        self.gate.wait(60)
        if self.fail is not None:
            exc, self.fail = self.fail, None
            raise exc
        return super().write_table(role, day, table, incarnation)


def make_sink(tmp_path: Path) -> tuple[LakeSink, GatedWriter]:
    config = load_settings(data_dir=tmp_path, lake={"flush_records": 3, "flush_seconds": 60})
    writer = GatedWriter(config)
    return LakeSink(config, writer, b"key"), writer


def offsets(writer: LakeWriter) -> list[int]:
    return sorted(read_dataset(writer, "shop_products", ["_offset"]).column(0).to_pylist())


def feed(sink: LakeSink, first: int, count: int) -> None:
    for offset in range(first, first + count):
        sink.process(ConsumedRecord(offset, PRODUCTS[offset]))  # type: ignore[arg-type]


def test_the_consumer_goes_on_while_a_file_is_written(tmp_path: Path) -> None:
    sink, writer = make_sink(tmp_path)
    writer.gate.clear()  # the first file's write stays in flight
    feed(sink, 0, 3)
    returned = threading.Event()

    def due() -> None:
        sink.flush_if_due(0.0)  # a full buffer: handed to the writer thread
        returned.set()

    threading.Thread(target=due, daemon=True).start()
    # Written in the loop, this waited for the gate (a minute); in the background it returns.
    wait_for(returned.is_set, timeout=20, message="flush_if_due returned during the write")
    feed(sink, 3, 3)  # the next records are decoded meanwhile
    assert not sink.durable()  # a file in flight and records buffered: no commit yet
    writer.gate.set()
    sink.flush()
    assert sink.durable()
    assert offsets(writer) == list(range(6))
    assert len(writer.files("shop_products")) == 2


def test_a_failed_background_write_is_buffered_again_and_retried(tmp_path: Path) -> None:
    sink, writer = make_sink(tmp_path)
    writer.fail = UnavailableError("the lake's backend is away")
    feed(sink, 0, 3)
    sink.flush_if_due(0.0)  # submitted; the error comes back to the loop, not the thread
    with pytest.raises(UnavailableError):
        sink.flush()  # the worker's retry path: consumption paused, flush retried later
    assert sink.buffered == 3 and not sink.durable()
    feed(sink, 3, 2)  # after it, in offset order
    sink.flush()  # the retry: the failed records first, under the first one's file name
    assert sink.durable()
    assert offsets(writer) == list(range(5))
    assert [f.first_offset for f in writer.files("shop_products")] == [0]


def test_close_waits_for_the_write_in_flight(tmp_path: Path) -> None:
    sink, writer = make_sink(tmp_path)
    feed(sink, 0, 3)
    sink.flush_if_due(0.0)
    sink.close()
    assert offsets(writer) == [0, 1, 2]


def test_two_writer_threads_hand_outcomes_back_in_submission_order() -> None:
    """The first file still being written while the second is done: the second's outcome
    waits for the first's (the consumer acts on writes in the order it made them)."""
    first_may_finish = threading.Event()

    def work(key: str, items: list[int]) -> str:
        if key == "first":
            assert first_may_finish.wait(10)
        return key

    writes = BackgroundWrites(work, max_in_flight=2, threads=2)
    writes.submit("first", [1])
    writes.submit("second", [2])
    second = writes._jobs[1].future
    wait_for(second.done, timeout=10, message="the second write runs beside the first")
    assert writes.completed() == []  # the first is not done: nothing handed back yet
    first_may_finish.set()
    assert [job.future.result() for job in writes.close()] == ["first", "second"]
