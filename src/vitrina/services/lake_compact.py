"""`vitrina lake compact`: merge the lake's small files now, by hand, with the sink stopped.

The lake sink merges the files of the partitions it owns every `lake.compact_interval_s`
(lake/compaction.py). This is the same round over every partition of the lake at once, for
an operator who cannot wait for it: a lake written before compaction existed, or with it
off, a sink that no longer runs, or files of a partition number the topic no longer has.

The same rules as the sink's rounds, asked of the broker: of the topic's current
incarnation only the files below the sink group's committed offsets (a partition without
one is left alone: its files may be replayed), and every file of an older incarnation (a
topic deleted and created again: all final). The order keeps a kill -9 at any moment
harmless, as it does for the sink's rounds (a decided merge is completed by the next round
or the next sink), and it refuses to race the sink:

1. refuse while `vitrina up` runs on this data dir (its lock) or the sink's group has a
   member: the sink compacts its own partitions, and a manual round would undo its merge
   in flight (deleted as undecided — safe, but wasted);
2. per dataset: the topic's incarnation and the group's committed offsets, then
   `compaction.compact` over every partition the lake holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from vitrina.errors import VitrinaError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.inspect import group_members, topic_incarnation, topic_partitions
from vitrina.kafka.lifecycle import release
from vitrina.kafka.offsets import committed_offsets
from vitrina.lake.compaction import Compacted, compact, plan_round
from vitrina.lake.writer import LakeFile, LakeWriter
from vitrina.runstate import PlatformLock
from vitrina.services.lake_sink_tables import SERVICE
from vitrina.settings import Settings


class SinkRunning(VitrinaError):
    """The lake sink runs: it compacts its own partitions."""


@dataclass
class DatasetPlan:
    """One dataset's round: where it stands and what it merges."""

    role: str
    incarnation: str
    committed: dict[int, int]  # partition → the group's committed offset (0: none)
    files: int  # data files before the round
    groups: list[list[LakeFile]] = field(default_factory=list)

    @property
    def absorbs(self) -> int:
        return sum(len(g) for g in self.groups)


@dataclass
class DatasetReport:
    plan: DatasetPlan
    done: Compacted
    files_after: int
    seconds: float


def _committed(settings: Settings, topic: str, partitions: set[int]) -> dict[int, int]:
    """The sink group's committed offset of each of `partitions` the topic has now (0: none)."""
    now = {tp.partition for tp in topic_partitions(settings, topic, principal=SERVICE)}
    offsets = dict.fromkeys(partitions, 0)
    asked = [TopicPartition(topic, p) for p in sorted(partitions & now)]
    if not asked:
        return offsets
    box: list[Any] = [Consumer(consumer_config(settings, SERVICE, settings.lake.consumer_group))]
    try:
        for tp in committed_offsets(box[0], asked, service=SERVICE, timeout_s=30):
            offsets[tp.partition] = max(0, tp.offset)
    finally:
        release(box, "lake compact: offsets consumer")
    return offsets


def refuse_if_sinking(settings: Settings) -> None:
    group = settings.lake.consumer_group
    members = group_members(settings, group, SERVICE, who="the lake sink")
    if members:
        interval = settings.lake.compact_interval_s
        merges = (
            f"it merges its own partitions' files every {interval:g} s"
            if interval
            else "its own merges are off (lake.compact_interval_s = 0)"
        )
        raise SinkRunning(
            f"the lake sink is running: group {group} has {len(members)} member(s) "
            f"({', '.join(members[:3])})",
            hint=f"{merges}; to compact by hand, stop it first "
            "(`vitrina up`: Ctrl-C; a deployment: scale the sink to 0); one killed moments "
            f"ago stays a member for {settings.kafka.session_timeout_ms / 1000:.0f} s",
        )


def plan_lake(settings: Settings, writer: LakeWriter, roles: list[str]) -> list[DatasetPlan]:
    """What a round would merge, per dataset that has files (asks the broker; writes
    nothing)."""
    plans = []
    target = settings.lake.compact_target_bytes
    for role in roles:
        files = writer.files(role)
        if not files:
            continue
        topic = getattr(settings.topics, role)
        incarnation = topic_incarnation(settings, topic, SERVICE)
        committed = _committed(settings, topic, {f.partition for f in files})
        groups = plan_round(files, committed, incarnation, target)
        plans.append(DatasetPlan(role, incarnation, committed, len(files), groups))
    return plans


def compact_lake(
    settings: Settings,
    writer: LakeWriter,
    plans: list[DatasetPlan],
    merged: Callable[[list[LakeFile], int], None] | None = None,
) -> list[DatasetReport]:
    """Run each dataset's round (see the module doc); `merged(group, absorbed)` after each
    merge. Holds the platform lock meanwhile, so `vitrina up` cannot start a sink."""
    lock = PlatformLock(settings).acquire()
    try:
        refuse_if_sinking(settings)
        reports = []
        for plan in plans:
            started = time.monotonic()
            done = compact(
                writer,
                plan.role,
                plan.committed,
                plan.incarnation,
                settings.lake.compact_target_bytes,
                merged=merged,
            )
            after = len(writer.files(plan.role))
            reports.append(DatasetReport(plan, done, after, time.monotonic() - started))
        return reports
    finally:
        lock.release()
