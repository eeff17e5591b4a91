"""`vitrina index rebuild`: build the search index again from `filtered-products`.

`filtered-products` is compacted and keyed by product_id, so it holds the latest allowed
version of every product (and tombstones for withdrawn ones): replaying it from the earliest
offsets rebuilds the index with the code's current text analysis. That is what an upgrade
that changes how documents are indexed needs (docs/troubleshooting.md).

The rebuild is the indexer itself (the same step, batches and dead letters), run in the
`vitrina-indexer` group until every partition is read to its end (its end-of-partition
event; Tansu's end offsets run short). The order makes a kill -9 at any
moment harmless:

1. refuse while anything else indexes: `vitrina up` on this data dir (its lock), a member
   in the indexer's group, or (embedded) a writer holding the index's lock;
2. join the group and commit its earliest offsets — the index still holds everything, so
   an indexer started now would only upsert what it already has;
3. drop the index (embedded: its directory; OpenSearch: the index, created again with the
   current mapping on the first write);
4. replay: offsets are committed only after the index committed their batch, so a rebuild
   stopped halfway resumes where it stopped, from `vitrina index rebuild` or the indexer.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from vitrina.errors import BrokerError, UnavailableError, VitrinaError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.inspect import group_members, topic_partitions
from vitrina.kafka.lifecycle import release
from vitrina.kafka.offsets import commit_offsets, watermark_offsets
from vitrina.runstate import PlatformLock
from vitrina.services.indexer import GROUP_ID, build_worker
from vitrina.settings import Settings

log = logging.getLogger(__name__)
PRINCIPAL = "indexer"  # the indexer's own identity: its ACLs cover the group and the topic


class IndexerRunning(VitrinaError):
    """Something else writes the index: a rebuild now would race it."""


@dataclass(frozen=True)
class RebuildReport:
    records: int  # records of filtered-products the rebuild had to replay
    documents: int  # products in the rebuilt index
    seconds: float
    backend: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "documents": self.documents,
            "seconds": round(self.seconds, 2),
            "backend": self.backend,
        }


def _refuse_if_indexing(settings: Settings, group_id: str) -> None:
    members = group_members(settings, group_id, PRINCIPAL, who="the indexer")
    if members:
        raise IndexerRunning(
            f"the indexer is running: group {group_id} has {len(members)} member(s) "
            f"({', '.join(members[:3])})",
            hint="stop it first (`vitrina up`: Ctrl-C; a deployment: scale the indexer to 0); "
            f"one killed moments ago stays a member for {settings.kafka.session_timeout_ms / 1000:.0f} s "
            "(kafka.session_timeout_ms)",
        )
    backend = settings.search.backend
    if backend.type == "embedded" and (settings.search_path / "meta.json").is_file():
        from vitrina.search.embedded import EmbeddedSearch

        try:  # taking the writer lock proves no indexer holds it
            EmbeddedSearch(settings.search_path).close()
        except UnavailableError as exc:
            raise IndexerRunning(exc.message, hint=exc.hint) from None


def _rewind(
    settings: Settings, group_id: str, timeout_s: float = 60.0
) -> tuple[dict[tuple[str, int], int], int]:
    """Commit the earliest offsets for the group; each partition's earliest offset and an
    estimate of the records to replay (Tansu's end offsets run short).

    The commit is made as a member of the group: Tansu (broker.engine=tansu) refuses one from
    outside a group that ever had a member, Apache Kafka one from outside a group with
    members. A member that gets only some of the partitions shares the group: refused.
    """
    topic = settings.topics.filtered_products
    partitions = topic_partitions(settings, topic, principal=PRINCIPAL)
    box: list[Any] = [Consumer(consumer_config(settings, PRINCIPAL, group_id))]
    consumer = box[0]
    try:
        earliest, lows, estimate = [], {}, 0
        for tp in partitions:
            low, high = watermark_offsets(consumer, tp, service="index rebuild")
            earliest.append(TopicPartition(topic, tp.partition, low))
            lows[(topic, tp.partition)] = low
            estimate += max(0, high - low)
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout_s
        while len(consumer.assignment()) < len(partitions):
            if consumer.assignment() and time.monotonic() > deadline - timeout_s / 2:
                raise IndexerRunning(
                    f"group {group_id} gave the rebuild only {len(consumer.assignment())} of "
                    f"{len(partitions)} partitions: another member is consuming",
                    hint="stop the indexer first, then run the rebuild again",
                )
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"index rebuild: group {group_id} assigned no partitions in {timeout_s:.0f} s",
                    hint="is the broker up? run the rebuild again",
                )
            consumer.poll(0.2)  # joins the group; what it fetches is not used
        if not commit_offsets(consumer, earliest, service="index rebuild"):
            raise IndexerRunning(
                f"group {group_id} refused the rewind: an indexer joined it meanwhile",
                hint="stop it first, then run the rebuild again",
            )
    finally:
        del consumer
        release(box, "index rebuild: rewind consumer")
    return lows, estimate


def _drop_index(settings: Settings) -> None:
    backend = settings.search.backend
    if backend.type == "embedded":
        shutil.rmtree(settings.search_path, ignore_errors=True)
        return
    from vitrina.search.opensearch import OpenSearchIndex

    index = OpenSearchIndex.from_settings(backend)
    try:
        index.drop()
    finally:
        index.close()


def rebuild(
    settings: Settings,
    *,
    group_id: str = GROUP_ID,
    on_progress: Callable[[int, int], None] | None = None,
) -> RebuildReport:
    """Rebuild the index from the earliest offsets of filtered-products; see the module doc.

    `on_progress(done, total)` is called as records are consumed.
    """
    from vitrina.search.api import open_search

    started = time.monotonic()
    lock = PlatformLock(settings).acquire()  # `vitrina up` cannot start meanwhile
    try:
        _refuse_if_indexing(settings, group_id)
        lows, estimate = _rewind(settings, group_id)
        _drop_index(settings)
        # Caught up = every partition read to its end (end-of-partition events), not the
        # end offsets read at the start: those run short on Tansu.
        worker = build_worker(
            settings, group_id=group_id, consumer_extra={"enable.partition.eof": True}
        )
        replayed = 0

        def caught_up() -> bool:
            nonlocal replayed
            assignment = worker.consumer.assignment()
            if not assignment:
                return False
            positions = {
                (tp.topic, tp.partition): max(tp.offset, lows.get((tp.topic, tp.partition), 0))
                for tp in worker.consumer.position(assignment)
            }
            replayed = sum(at - lows.get(key, 0) for key, at in positions.items())
            if on_progress is not None:
                on_progress(replayed, max(estimate, replayed))
            ends = worker.reached_end
            return len(positions) == len(lows) and all(
                key in ends and at >= ends[key] for key, at in positions.items()
            )

        worker.run(until=caught_up)
    finally:
        lock.release()
    backend = open_search(settings, readonly=True)
    try:
        documents = backend.count()
    finally:
        backend.close()
    return RebuildReport(
        replayed, documents, time.monotonic() - started, settings.search.backend.type
    )
