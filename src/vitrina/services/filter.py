"""`vitrina run filter`: moderates the catalogue with a live ban list; no banned product leaks.

Chain (kafka/worker.StreamWorker): decode + validate a `shop-products` record → judge it
against the ban list → write `filtered-products` (allowed) or `blocked-products` (audit, with
the ban) → commit the input offset once the outputs are durable. Invalid records raise
ContractError and go to `dead-letters`.

The ban list (`banned-products`, 1 partition, compacted) is read by a SEPARATE assign()-based
consumer from the beginning and folded into a dict. It is loaded to its end (partition EOF,
not the high watermark, which the embedded broker under-reports) before the first product is
judged; after that new bans are folded before every poll, so a ban takes effect within one
poll interval (0.2 s). Every replica reads the WHOLE ban list, so replicas need no
co-partitioning of bans and products: any replica can judge any product.

Retraction and reinstatement need the latest version of each product. Each replica keeps a
"shelf" per input partition it owns (domain/banlist.Shelf): WHERE the latest version of each
product it has published, and of each banned product (withheld), can be read again — one int,
not the bytes; a ban or unban re-reads the versions it needs (services/filter_versions.py).
Both are rebuilt on assignment from compacted topics, so the state survives restarts and
moves with the partition:
- `filtered-products` partition p: what is published; the filter writes a product to the
  SAME partition number it read it from (explicit partition), so partition p of the output
  holds exactly the products of input partition p — co-partitioned by construction, whatever
  partitioner the stores used (librdkafka's default is consistent_random = CRC32, Java's is
  murmur2; we never need to recompute either);
- `withheld-products` partition p (the filter's own compacted changelog): latest version of
  each banned product, so an unban republishes the newest version.
A ban or unban is acted on only by the replica whose shelf holds the product — exactly one,
since a product's records live in one input partition (the record key must equal the
product_id; a mismatched key is dead-lettered). A ban of a never-seen product writes nothing
now and blocks the product when it arrives.

Crash safety: product outputs are guarded by the input offset (committed after they are
durable; a replay rewrites the same keys). Ban-triggered writes are phased: the copy
(`withheld`) is durable before the original is tombstoned, the republished product before the
withheld copy is released; on assignment the rebuilt shelf is reconciled with the ban list
(domain/banlist.reconcile), which repairs a crash between phases. All outputs are keyed and
compacted where customers see them, so a replay never creates a second visible copy. With
`kafka.transactions=true` (Apache Kafka) the worker wraps outputs and offsets in transactions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

from confluent_kafka import Message, TopicPartition
from prometheus_client import Gauge

from vitrina import metrics
from vitrina.contracts.codec import loads
from vitrina.contracts.door import check_record_key, judge_product
from vitrina.domain.banlist import (
    BanList,
    Effect,
    Shelf,
    apply_effect,
    fold_ban,
    fold_shelf,
    on_ban,
    on_product,
    on_unban,
    reconcile,
    route,
)
from vitrina.errors import BrokerError, ContractError
from vitrina.kafka.deadletter import Output
from vitrina.kafka.inspect import TO_THE_END, TopicFollower, topic_partitions
from vitrina.kafka.steps import SideWork, Step
from vitrina.kafka.worker import StreamWorker
from vitrina.services.bans import decode_ban
from vitrina.services.filter_outputs import blocked_audit, check_partitions
from vitrina.services.filter_versions import (
    FILTERED,
    SHOP,
    WITHHELD,
    VersionReader,
    where,
    with_bytes,
)
from vitrina.settings import Settings

# Here, not in vitrina.metrics: only the filter's process exports it (that module's docstring).
BAN_LIST_SIZE = Gauge("vitrina_filter_ban_list_size", "Products currently banned")

log = logging.getLogger(__name__)

SERVICE = "filter"
GROUP_ID = "vitrina-filter"


# The rebuild's reader. A small prefetch queue: the rebuild keeps only offsets, the fetch
# buffers would otherwise be the biggest thing in memory while it runs. With a queue that
# small, librdkafka's 1 s pause after a full queue (fetch.queue.backoff.ms, default 1000)
# made the rebuild wait instead of read: 200k published products took 12-16 s to rebuild,
# at 0.5 s of CPU, against 1.9 s with 10 ms (benchmarks/filter_rebuild.py) — and every
# start, rebalance and rewind of the filter waits for its rebuild.
REBUILD_READER: dict[str, Any] = {
    "queued.max.messages.kbytes": 8192,
    "fetch.queue.backoff.ms": 10,
    **TO_THE_END,
}


class FilterStep(Step):
    """Judges products against the live ban list and keeps filtered-products right.

    The Step of the worker (`process`: decode → validate → route) and its SideInput (the
    ban list caught up before every poll; shelves rebuilt in the loop on assignment). It
    returns what to write; the worker writes it — no reference back to the worker.
    """

    service = SERVICE

    def __init__(self, settings: Settings, group_id: str = GROUP_ID) -> None:
        self.settings = settings
        self.group_id = group_id
        topics = settings.topics
        self.input_topic = topics.shop_products
        self.filtered, self.blocked = topics.filtered_products, topics.blocked_products
        self.withheld, self.bans_topic = topics.withheld_products, topics.banned_products
        self.ban_list: BanList = {}
        self.shelves: dict[int, Shelf] = {}
        self._bans: TopicFollower | None = None
        self.versions = VersionReader(
            settings, SERVICE, self.input_topic, self.filtered, self.withheld
        )
        self._rejects = SideWork()
        # Counted locally, published to Prometheus once per poll (catch_up): a counter
        # increment per product costs a lock.
        self._passed = 0
        self._blocked = 0

    # -- the ban list (side input) -------------------------------------------------------
    def load_ban_list(self, timeout: float = 60.0) -> int:
        """Read the whole ban list to its end (partition EOF) before any product is judged."""
        partitions = topic_partitions(self.settings, self.bans_topic, SERVICE)
        # The group only bookmarks which invalid ban records were dead-lettered already.
        self._bans = TopicFollower(
            self.settings, partitions, principal=SERVICE, group_id=f"{self.group_id}-ban-letters"
        )
        try:
            for msg in self._bans.read_to_end(timeout):
                self._fold_ban_record(msg)
        except BrokerError as exc:
            raise BrokerError(
                f"the ban list {self.bans_topic} did not load: {exc.message}",
                hint="is the broker overloaded? the filter judges nothing "
                "until the whole ban list is loaded",
            ) from None
        self._drop_rejects_already_dead_lettered()
        BAN_LIST_SIZE.set(len(self.ban_list))
        log.info("ban list loaded: %d banned products", len(self.ban_list))
        return len(self.ban_list)

    def catch_up(self) -> SideWork:
        """Fold bans that arrived since the last poll; the effects on products they hit."""
        self._publish_counts()
        work, self._rejects = self._rejects, SideWork()
        if self._bans is None:
            return work
        changed: dict[str, None] = {}
        for msg in self._bans.poll(1000):
            key = self._fold_ban_record(msg)
            if key is not None:
                changed[key] = None
        # Acted on once per product, on its state after the whole poll: a ban and its unban
        # in one poll leave the product as it was (not withheld while unbanned).
        effects = self._act_on_bans(changed)
        BAN_LIST_SIZE.set(len(self.ban_list))
        work.rejected += self._rejects.rejected
        self._rejects = SideWork()
        if work.rejected:
            work.done = self._bookmark(work.rejected)
        work.phases = self._phases(effects)
        return work

    def _drop_rejects_already_dead_lettered(self) -> None:
        """Dead-letter each invalid ban record once, not again at every start."""
        assert self._bans is not None
        done = self._bans.committed()
        self._rejects.rejected = [
            (msg, exc)
            for msg, exc in self._rejects.rejected
            if (msg.offset() or 0) >= done.get((msg.topic() or "", msg.partition() or 0), -1)
        ]

    def _bookmark(self, rejected: list[tuple[Message, Exception]]) -> Callable[[], None]:
        marks: dict[tuple[str, int], int] = {}
        for msg, _ in rejected:
            key = (msg.topic() or "", msg.partition() or 0)
            marks[key] = max(marks.get(key, 0), (msg.offset() or 0) + 1)

        def bookmark() -> None:
            if self._bans is not None:
                self._bans.commit(marks)

        return bookmark

    def _publish_counts(self) -> None:
        if self._passed:
            metrics.FILTER_PASSED.inc(self._passed)
            self._passed = 0
        if self._blocked:
            metrics.FILTER_BLOCKED.inc(self._blocked)
            self._blocked = 0

    def _fold_ban_record(self, msg: Message) -> str | None:
        """Fold one ban-list record; the product id when the ban list changed."""
        key = (msg.key() or b"").decode("utf-8", "replace")
        try:
            ban = decode_ban(msg.value(), key)
        except ContractError as exc:
            # Not a ban: never silently ignored — it goes to dead-letters with the reason.
            log.warning("invalid ban-list record at offset %s: %s", msg.offset(), exc)
            self._rejects.rejected.append((msg, exc))
            return None
        change = fold_ban(self.ban_list, key, ban)
        return None if change.kind == "unchanged" else key

    def _act_on_bans(self, product_ids: Iterable[str]) -> list[tuple[int, Effect]]:
        """Retract newly banned products, republish unbanned ones (the shelf that holds each)."""
        effects: list[tuple[int, Effect]] = []
        for key in product_ids:
            ban = self.ban_list.get(key)
            for partition, shelf in self.shelves.items():
                if key in shelf:
                    found = on_ban(shelf, key, ban) if ban is not None else on_unban(shelf, key)
                    effects += [(partition, e) for e in found]
                    break
        return effects

    # -- products ------------------------------------------------------------------------
    def process(self, message: Message) -> list[Output]:
        raw = message.value()
        # One pass over the bytes for nearly every record; `product` (a dict) only when the
        # slow path parsed it or a ban needs it below.
        product_id, product = judge_product(raw)
        key = message.key()
        check_record_key(key, product_id, "stores' records must be keyed by product_id")
        partition = cast(int, message.partition())
        shelf = self.shelves.get(partition)
        if shelf is None:
            shelf = self.shelves[partition] = Shelf()
        at = cast(int, message.offset()) << 2 | SHOP  # = where(SHOP, offset), inlined
        if product_id not in self.ban_list and product_id not in shelf.withheld:
            # on_product's common case, inlined (it runs for nearly every record): allowed,
            # nothing withheld to release -> publish.
            published = Output(self.filtered, key, raw, None, partition)
            shelf.visible[product_id] = at
            self._passed += 1
            return [published]
        raw = cast(bytes, raw)
        if product is None:
            product = loads(raw)
        verdict = route(product, self.ban_list)
        effects = on_product(shelf, product_id, raw, verdict, at)
        # Every output is built before the shelf changes: a record that cannot be written
        # is dead-lettered and leaves the state as it was.
        outputs = [self._output(partition, effect, product) for effect in effects]
        for effect in effects:
            apply_effect(shelf, effect)
        if verdict.allowed:
            self._passed += 1
        else:
            self._blocked += 1
        return outputs

    def _output(
        self, partition: int, effect: Effect, product: dict[str, Any] | None = None
    ) -> Output:
        pid = effect.product_id
        if effect.kind == "publish":
            return Output(self.filtered, pid, effect.raw, partition=partition)
        if effect.kind == "retract":
            return Output(self.filtered, pid, None, partition=partition)
        if effect.kind == "withhold":
            return Output(self.withheld, pid, effect.raw, partition=partition)
        if effect.kind == "release":
            return Output(self.withheld, pid, None, partition=partition)
        assert effect.ban is not None and effect.raw is not None
        return Output(self.blocked, pid, blocked_audit(effect.raw, effect.ban, product))

    def _phases(self, effects: list[tuple[int, Effect]]) -> list[list[Output]]:
        """Ban-triggered effects as phases: each durable before the next is written."""
        effects = with_bytes(self.versions, effects)
        phases = []
        for phase in sorted({e.phase for _, e in effects}):
            outputs = []
            for partition, effect in effects:
                if effect.phase != phase:
                    continue
                shelf = self.shelves.get(partition)
                if shelf is not None:
                    apply_effect(shelf, effect)
                outputs.append(self._output(partition, effect))
                self._count(effect)
            phases.append(outputs)
        return phases

    @staticmethod
    def _count(effect: Effect) -> None:
        if effect.kind == "retract":
            metrics.FILTER_RETRACTED.inc()
        elif effect.kind == "publish":
            metrics.FILTER_REINSTATED.inc()

    # -- partitions come and go (called in the loop) ---------------------------------------
    def recover(self, partitions: list[TopicPartition]) -> SideWork:
        """Rebuild the shelves of newly owned partitions and repair them against the bans."""
        numbers = [tp.partition for tp in partitions if tp.topic == self.input_topic]
        if not numbers:
            return SideWork()
        sources = [TopicPartition(self.filtered, p) for p in numbers]
        sources += [TopicPartition(self.withheld, p) for p in numbers]
        shelves = {p: Shelf() for p in numbers}
        reader = TopicFollower(self.settings, sources, principal=SERVICE, **REBUILD_READER)
        try:
            for msg in reader.read_to_end(60.0):
                key = (msg.key() or b"").decode("utf-8", "replace")
                visible = msg.topic() == self.filtered
                kind: Literal["visible", "withheld"] = "visible" if visible else "withheld"
                at = None
                if msg.value() is not None:
                    at = where(FILTERED if visible else WITHHELD, cast(int, msg.offset()))
                fold_shelf(shelves[cast(int, msg.partition())], kind, key, at)
        finally:
            reader.close()
        self.shelves.update(shelves)
        effects = [(p, e) for p, shelf in shelves.items() for e in reconcile(shelf, self.ban_list)]
        if effects:
            log.info("repairing %d records after assignment of %s", len(effects), numbers)
        log.info(
            "assigned %s: %d products rebuilt",
            numbers,
            sum(len(s) for s in shelves.values()),
        )
        return SideWork(phases=self._phases(effects))

    def drop(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            if tp.topic == self.input_topic:
                self.shelves.pop(tp.partition, None)

    def close(self) -> None:
        self._publish_counts()
        self.versions.close()
        if self._bans is not None:
            self._bans.close()
            self._bans = None


def build(
    settings: Settings,
    *,
    group_id: str = GROUP_ID,
    instance_id: str | None = None,
    metrics_port: int | None = None,
) -> tuple[FilterStep, StreamWorker]:
    """Assemble the filter: ban list loaded to its end, then the worker (not yet running).

    shop-products ─▶ decode + validate + route (FilterStep.process) ─▶ filtered / blocked /
    withheld (Kafka) ─▶ commit; the ban list is the worker's side input (the same object).
    """
    check_partitions(settings)
    step = FilterStep(settings, group_id)
    step.load_ban_list()
    worker = StreamWorker(
        settings,
        step,
        [settings.topics.shop_products],
        group_id=group_id,
        side_input=step,
        principal=SERVICE,
        instance_id=instance_id,
        metrics_port=metrics_port,
        # 16 MB of prefetched products (~13k), not librdkafka's 64 MB: the filter's RSS
        # target is 300 MB, and 13k records cover more than a poll interval at full speed
        # (every consumer's short pause after a full queue, kafka/clients.py, keeps it fed).
        consumer_extra={"queued.max.messages.kbytes": 16384},
    )
    return step, worker


def main(settings: Settings) -> None:
    """Run the filter until SIGTERM/SIGINT; /metrics on settings.ports.filter."""
    _, worker = build(settings, metrics_port=settings.ports.filter)
    worker.install_signal_handlers()
    worker.run()
