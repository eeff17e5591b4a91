"""Where the filter's product versions are, and reading them back when a ban or unban needs them.

The filter's shelves (domain/banlist.Shelf) keep, per product, WHERE the latest version can
be read again — not its bytes (at 1M products the bytes were ~1.2 GB of the filter's RSS):
- SHOP: an offset in `shop-products` partition p (a version judged since this replica took
  the partition; the input record itself);
- FILTERED / WITHHELD: an offset in `filtered-products` / `withheld-products` partition p (a
  version found when the shelf was rebuilt from those compacted topics).
One int per product: ``offset << 2 | source``.

Reading back (`VersionReader.read`) is batched: one long-lived consumer, assign() at the first
wanted offset of each partition, nearby offsets read in one pass, far ones reached by seek().
A version whose record is gone — `shop-products` deletes after its retention (7 days), a
compacted topic drops superseded records — is looked up instead in the filter's own compacted
topic, which holds the latest version of every product on the shelf by construction:
`filtered-products` p for a published product, `withheld-products` p for a withheld one (one
scan of that partition, read to its end). Only a version missing from there too (the topic
was deleted or truncated by hand) is reported missing; the filter then still retracts a banned
product but cannot keep its copy (services/filter.py says what it does).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from confluent_kafka import Consumer, KafkaError, TopicPartition

from vitrina.domain.banlist import Effect
from vitrina.errors import BrokerError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.inspect import TO_THE_END, TopicFollower
from vitrina.kafka.offsets import watermark_offsets
from vitrina.settings import Settings

log = logging.getLogger(__name__)

SHOP, FILTERED, WITHHELD = 0, 1, 2
# A far wanted offset is reached by seek() rather than by reading the records in between:
# ~200 records of ~1 KB cost about as much as the fetch round trip a seek costs.
_SEEK_GAP = 200
# Small prefetch queues: this reader fetches a few records at a time; librdkafka's default
# (64 MB per consumer) would show in the filter's RSS. 10 ms fetch wait: a fetch still
# long-polling from the previous read (default 500 ms) delayed the next read by that much,
# and every ban waits for its read (measured: 510 -> 17 ms per read); likewise the 1 s
# pause after a full prefetch queue (fetch.queue.backoff.ms), which a 2 MB queue hits.
_READER_CONFIG: dict[str, Any] = {
    "enable.partition.eof": True,
    "queued.max.messages.kbytes": 2048,
    "fetch.queue.backoff.ms": 10,
    **TO_THE_END,  # fetch.wait.max.ms 10
}


def where(source: int, offset: int) -> int:
    """The shelf's location of the record at `offset` of `source` (SHOP/FILTERED/WITHHELD)."""
    return offset << 2 | source


def source_of(at: int) -> int:
    return at & 3


def offset_of(at: int) -> int:
    return at >> 2


class Wanted(NamedTuple):
    """One version to read: its partition, location, product and shelf it is on."""

    partition: int
    at: int
    product_id: str
    shelf: Literal["visible", "withheld"]


class VersionReader:
    """Reads product versions back by location, falling back to the filter's own topics."""

    def __init__(
        self, settings: Settings, principal: str, shop: str, filtered: str, withheld: str
    ) -> None:
        self.settings = settings
        self.principal = principal
        self.topics = (shop, filtered, withheld)
        self._consumer: Consumer | None = None

    def read(self, wanted: Iterable[Wanted], timeout: float = 60.0) -> dict[Wanted, bytes]:
        """The bytes of every wanted version that can still be found (missing ones absent)."""
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return {}
        deadline = time.monotonic() + timeout
        found = self._read_exact(wanted, deadline)
        missing = [w for w in wanted if w not in found]
        if missing:
            found.update(self._read_latest(missing, deadline))
        return found

    # -- by exact offset -------------------------------------------------------------------
    def _reader(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                consumer_config(
                    self.settings,
                    self.principal,
                    f"vitrina-{self.principal}-versions",  # never commits; assign() only
                    **_READER_CONFIG,
                )
            )
        return self._consumer

    def _read_exact(self, wanted: list[Wanted], deadline: float) -> dict[Wanted, bytes]:
        queues: dict[tuple[str, int], deque[int]] = {}
        by_place: dict[tuple[str, int, int], list[Wanted]] = {}
        for w in wanted:
            place = (self.topics[source_of(w.at)], w.partition)
            by_place.setdefault((*place, offset_of(w.at)), []).append(w)
        for topic, partition, offset in sorted(by_place):
            queues.setdefault((topic, partition), deque()).append(offset)
        consumer = self._reader()
        # Only offsets inside [low, high) are read: one before the start (deleted by
        # retention) or past the end would make the consumer reset to the earliest record.
        for (topic, partition), offsets in list(queues.items()):
            low, high = watermark_offsets(
                consumer,
                TopicPartition(topic, partition),
                service=self.principal,
                timeout_s=max(1.0, deadline - time.monotonic()),
            )
            kept = deque(o for o in offsets if low <= o < high)
            if kept:
                queues[(topic, partition)] = kept
            else:
                del queues[(topic, partition)]
        if not queues:
            return {}
        consumer.assign([TopicPartition(t, p, q[0]) for (t, p), q in queues.items()])
        sought: dict[tuple[str, int], int] = {}
        found: dict[Wanted, bytes] = {}
        try:
            while queues:
                if time.monotonic() > deadline:
                    raise BrokerError(
                        f"re-reading {len(wanted)} product versions did not finish in time",
                        hint="the broker may be overloaded; the filter restarts and repairs",
                    )
                # poll(), not consume(500, ...): consume waits out its whole timeout unless
                # 500 records arrive, and a ban usually needs one record.
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                place = (msg.topic() or "", msg.partition() or 0)
                queue = queues.get(place)
                if queue is None:
                    continue  # done with this partition; a prefetched record
                err = msg.error()
                if err is not None:
                    if err.code() != KafkaError._PARTITION_EOF:
                        raise BrokerError(f"re-reading {place[0]}: {err}")
                    del queues[place]  # the rest is not there (beyond the end)
                    continue
                offset = msg.offset() or 0
                while queue and queue[0] < offset:
                    queue.popleft()  # deleted or compacted away: found later, or not
                if queue and queue[0] == offset:
                    queue.popleft()
                    key = (msg.key() or b"").decode("utf-8", "replace")
                    value = msg.value()
                    for w in by_place[(*place, offset)]:
                        if value is not None and key == w.product_id:
                            found[w] = value
                if not queue:
                    del queues[place]
                elif queue[0] - offset > _SEEK_GAP and sought.get(place) != queue[0]:
                    # Once per target: records fetched before the seek may still arrive.
                    sought[place] = queue[0]
                    consumer.seek(TopicPartition(place[0], place[1], queue[0]))
        finally:
            consumer.unassign()
        return found

    # -- the latest version, from the filter's own compacted topic ---------------------------
    def _read_latest(self, wanted: list[Wanted], deadline: float) -> dict[Wanted, bytes]:
        _, filtered, withheld = self.topics
        keys: dict[tuple[str, int], dict[str, list[Wanted]]] = {}
        for w in wanted:
            place = (filtered if w.shelf == "visible" else withheld, w.partition)
            keys.setdefault(place, {}).setdefault(w.product_id, []).append(w)
        log.info(
            "%d product versions are no longer at their offsets; scanning %s for them",
            len(wanted),
            sorted(keys),
        )
        latest: dict[tuple[str, int, str], bytes | None] = {}
        follower = TopicFollower(
            self.settings,
            [TopicPartition(t, p) for t, p in keys],
            principal=self.principal,
            **_READER_CONFIG,
        )
        try:
            for msg in follower.read_to_end(max(1.0, deadline - time.monotonic())):
                place = (msg.topic() or "", msg.partition() or 0)
                key = (msg.key() or b"").decode("utf-8", "replace")
                if key in keys[place]:
                    latest[(*place, key)] = msg.value()
        finally:
            follower.close()
        found: dict[Wanted, bytes] = {}
        for (topic, partition), products in keys.items():
            for product_id, ws in products.items():
                value = latest.get((topic, partition, product_id))
                if value is not None:
                    for w in ws:
                        found[w] = value
        return found

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def with_bytes(
    reader: VersionReader, effects: list[tuple[int, Effect]]
) -> list[tuple[int, Effect]]:
    """Effects (partition, effect) of bans, unbans and repairs, their versions' bytes re-read.

    A version found nowhere (only when a topic was deleted or truncated by hand) is logged
    and its effect dropped: a banned product is still retracted but no copy is kept (an
    unban cannot republish it; the store's next update of it will); an unbanned product's
    withheld entry is released and it stays unpublished until that update.
    """
    wanted = {
        i: Wanted(p, e.at, e.product_id, "withheld" if e.kind == "publish" else "visible")
        for i, (p, e) in enumerate(effects)
        if e.needs_bytes
    }
    if not wanted:
        return effects
    found = reader.read(wanted.values())
    kept: list[tuple[int, Effect]] = []
    for i, (p, e) in enumerate(effects):
        w = wanted.get(i)
        if w is None:
            kept.append((p, e))
        elif w in found:
            kept.append((p, e._replace(raw=found[w])))
        else:
            log.error(
                "product %s: its latest version (%s) is in none of %s; %s",
                e.product_id,
                w.at,
                reader.topics,
                "retracted without a copy; it returns with its next update"
                if w.shelf == "visible"
                else "not republished; it returns with its next update",
            )
    return kept
