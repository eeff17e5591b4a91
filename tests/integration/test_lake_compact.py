"""`vitrina lake compact` against the real broker, a real `vitrina run lake-sink` and real
Parquet files: it refuses while the sink runs, then merges only what the sink's group
committed, and the lake holds every record once."""

from __future__ import annotations

import signal
import subprocess
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from tests.conftest import free_port, wait_for
from tests.integration.test_lake_sink import (
    OLD_DAY_MS,
    assert_events_once,
    committed,
    event,
    j,
    produce,
    sink_env,
    start_sink,
)
from tests.support import run_vitrina
from tests.unit.test_lake_writer import event_rows

from vitrina.kafka.clients import consumer_config
from vitrina.kafka.inspect import group_members, topic_incarnation
from vitrina.lake.pii import pii_key
from vitrina.lake.writer import LakeWriter
from vitrina.services.lake_sink import LakeSink
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def lake_compact(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_vitrina("lake", "compact", *args, env={**env, "COLUMNS": "200"}, timeout=120)


def test_compact_refuses_while_the_sink_runs_then_merges_only_what_it_committed(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    topic = settings.topics.client_events
    group = f"lake-cli-{uuid.uuid4().hex[:6]}"
    env, log = sink_env(settings, group, free_port()), tmp_path / "sink.log"
    writer = LakeWriter.from_settings(settings)
    total = 1200
    records = [
        (f"u-{i % 13}", j(event(i)), OLD_DAY_MS if i % 3 == 0 else None) for i in range(total)
    ]
    produce(settings, topic, records)
    sink = start_sink(env, log)
    try:
        wait_for(
            lambda: sum(v for v in committed(settings, group, topic).values() if v > 0) == total,
            timeout=90,
            message=f"the sink to commit all {total} records ({log})",
        )
        refused = lake_compact(env)
        assert refused.returncode != 0
        assert "the lake sink is running" in refused.stdout + refused.stderr
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(30)
    wait_for(lambda: not group_members(settings, group, "lake-sink"), 30, "the sink's group empty")

    # Partition 0's commit moved back to the middle of its files: those from there on are
    # uncommitted as after a kill, and a later sink deletes and writes them again.
    offsets = committed(settings, group, topic)
    files = {p: writer.files("client_events", p) for p in offsets}
    middle = files[0][len(files[0]) // 2].first_offset
    consumer = Consumer(consumer_config(settings, "test", group))
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, middle)], asynchronous=False)
    finally:
        consumer.close()
    before = sorted(f.path for f in writer.files("client_events"))

    dry = lake_compact(env, "client-events", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    assert sorted(f.path for f in writer.files("client_events")) == before

    done = lake_compact(env)
    assert done.returncode == 0, done.stdout + done.stderr
    print(refused.stdout, refused.stderr, dry.stdout, done.stdout)
    after = {p: writer.files("client_events", p) for p in offsets}
    assert f"client_events: {len(before)} → {sum(map(len, after.values()))} files" in done.stdout
    # Below the commit: merged (one file a date); from it on: untouched, by name.
    past = [f.path for f in files[0] if f.first_offset >= middle]
    assert [f.path for f in after[0] if f.first_offset >= middle] == past
    assert len([f for f in after[0] if f.first_offset < middle]) <= 2  # two dates
    assert all(len(after[p]) <= 2 for p in offsets if p)  # the other partitions: all merged
    assert_events_once(writer, total)
    assert writer.hidden_files("client_events", ".compact-") == []


def test_a_round_on_a_stale_incarnation_merges_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    """A round merges every file of an incarnation other than the current one. A sink whose
    assignment predates the topic's recreation knows an older incarnation as current, so it
    would take the new incarnation's files — committed or not — for old ones: the round asks
    the broker first and merges nothing of a dataset whose incarnation moved on."""
    settings = make_settings()
    writer = LakeWriter.from_settings(settings)
    current = topic_incarnation(settings, settings.topics.client_events, "lake-sink")
    for start in range(0, 40, 10):  # uncommitted: the group has no offset at all
        writer.write(
            "client_events", date(2024, 5, 1), event_rows(0, range(start, start + 10)), current
        )
    sink = LakeSink(settings, writer, pii_key(settings))
    try:
        assert sink._compact({"client_events": {0: 5}}, {"client_events": "stale1"}) == {}
        assert [f.first_offset for f in writer.files("client_events")] == [0, 10, 20, 30]
        done = sink._compact({"client_events": {0: 25}}, {"client_events": current})
        assert done["client_events"].absorbed == 3  # below the commit, as the round's rule
    finally:
        sink.close()
