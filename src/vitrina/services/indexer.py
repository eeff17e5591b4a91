"""`vitrina run indexer`: filtered-products → search index.

A product upserts its document (keyed by product_id), a tombstone deletes it, an invalid
record dead-letters, and so does a document the search backend refuses for good
(RejectedDocuments: e.g. an immense term) — with the backend's reason, its offset committed,
the rest of its batch written. Changes are buffered, applied and committed to the index every
`search.commit_seconds`; only then may the worker commit offsets. Upserts and deletes are
idempotent by product_id, so a replay after kill -9 converges to the same index.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from vitrina import metrics
from vitrina.contracts.codec import decode
from vitrina.contracts.door import check_record_key
from vitrina.domain.limits import is_product_id
from vitrina.errors import ContractError
from vitrina.kafka.deadletter import REPLAY_HEADERS, Output, dead_letter
from vitrina.kafka.produce import fits
from vitrina.kafka.steps import BatchSink
from vitrina.kafka.worker import StreamWorker
from vitrina.search.base import SearchBackend
from vitrina.search.errors import RejectedDocuments
from vitrina.settings import Settings

log = logging.getLogger(__name__)
GROUP_ID = "vitrina-indexer"


def product_id_of(key: bytes | str | None) -> str:
    """The product_id a tombstone's key names; a tombstone without a usable key is invalid."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else (key or "")
    if not is_product_id(text):
        raise ContractError(
            f"tombstone with key {text[:50]!r} names no product_id",
            field="(key)",
            rule="pattern",
            hint="filtered-products is keyed by product_id",
        )
    return text


@dataclass(frozen=True, slots=True)
class Change:
    """One pending record: the index change it asks for and where it came from.

    The coordinates and raw bytes are kept until the batch is written, so a document the
    backend refuses can be dead-lettered as the original record.
    """

    product_id: str
    product: dict[str, Any] | None  # None: delete
    topic: str
    partition: int
    offset: int
    key: bytes | str | None
    value: bytes | None
    carried: tuple[tuple[str, bytes], ...] = ()  # replay headers, kept on a dead letter


class IndexerStep(BatchSink[Change]):
    """Folds filtered-products into index changes; applies and commits them in batches.

    A batch leaves the buffer only once the index committed it, so a failed write commits
    no offset, and an index that is away (UnavailableError) is retried with the same batch.
    Documents refused for good (RejectedDocuments) become dead letters the worker produces
    before it commits the batch's offsets.
    """

    service = "indexer"
    flush_records = 5000
    # Caught up with filtered-products: commit at once, so a new product is searchable in
    # milliseconds, not after `commit_seconds`. Under load batches fill and commits come
    # every `flush_records` or `commit_seconds` as before.
    flush_when_idle = True

    def __init__(
        self,
        backend: SearchBackend,
        commit_seconds: float,
        clock: Any = time.monotonic,
        dead_letters_topic: str = "dead-letters",
    ) -> None:
        super().__init__(clock)
        self.backend = backend
        self.flush_seconds = commit_seconds
        self.dead_letters_topic = dead_letters_topic

    def decode(self, message: Message) -> Change:
        value = message.value()
        key = message.key()
        if value is None:
            pid, product = product_id_of(key), None
        else:
            product = decode("product", value)
            pid = str(product["product_id"])
            check_record_key(
                key, pid, "filtered-products is keyed by product_id (the filter writes it so)"
            )
        carried = tuple(
            (str(h[0]), h[1])
            for h in (message.headers() or [])
            if h[0] in REPLAY_HEADERS and isinstance(h[1], bytes)
        )
        return Change(
            pid,
            product,
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            key,
            value,
            carried,
        )

    def write(self, batch: list[Change]) -> None:
        started = time.perf_counter()
        changes = {c.product_id: c for c in batch}  # the latest record per product_id wins
        deletes = [pid for pid, c in changes.items() if c.product is None]
        # each product with the record's bytes decode() parsed it from: its stored copy
        upserted = [(c.product, c.value) for c in changes.values() if c.product is not None]
        upserts = [product for product, _ in upserted]
        refused: dict[str, str] = {}
        # RejectedDocuments comes after the rest of the call's documents were written.
        try:
            if deletes:
                self.backend.delete(deletes)
        except RejectedDocuments as exc:
            refused.update(exc.reasons)
        try:
            if upserts:
                self.backend.upsert(upserts, [value for _, value in upserted])
        except RejectedDocuments as exc:
            refused.update(exc.reasons)
        self.backend.commit()
        for pid, reason in refused.items():
            change = changes.get(pid)
            if change is None:  # the backend named an id we did not send: say so, keep going
                log.error(
                    "indexer: the search index refused product %s, which was not in the batch: %s",
                    pid,
                    reason,
                )
                continue
            self.dead_lettered.append(self._dead_letter(change, reason))
        if refused:
            log.warning(
                "indexer: %d document(s) refused by the search index, dead-lettered; "
                "e.g. product %s: %s",
                len(refused),
                *next(iter(refused.items())),
            )
        metrics.INDEXER_UPSERTED.inc(len(upserts))
        metrics.INDEXER_DELETED.inc(len(deletes))
        metrics.INDEXER_COMMIT.observe(time.perf_counter() - started)

    def _dead_letter(self, change: Change, reason: str) -> Output:
        metrics.REJECTED.labels(self.service, "search_refused").inc()
        metrics.DEAD_LETTERED.labels(self.service, change.topic).inc()
        value, extra = change.value, list(change.carried)
        if not fits(change.key, value):  # the dead letter itself must fit: keep the start
            extra.append(("value_truncated_from", str(len(value or b"")).encode()))
            value = (value or b"")[:100_000]
        return dead_letter(
            self.dead_letters_topic,
            service=self.service,
            error=f"the search index refused product {change.product_id}: {reason}",
            key=change.key,
            value=value,
            source_topic=change.topic,
            partition=change.partition,
            offset=change.offset,
            extra_headers=extra,
        )

    def close(self) -> None:
        self.backend.close()


def build_worker(
    settings: Settings,
    *,
    group_id: str | None = None,
    metrics_port: int | None = None,
    consumer_extra: dict[str, Any] | None = None,
) -> StreamWorker:
    """decode (product or tombstone; invalid → dead-letters) → batch → index → commit."""
    from vitrina.search.api import open_search

    step = IndexerStep(
        open_search(settings),
        settings.search.commit_seconds,
        dead_letters_topic=settings.topics.dead_letters,
    )
    return StreamWorker(
        settings,
        step,
        [settings.topics.filtered_products],
        sink=step,
        group_id=group_id or GROUP_ID,
        metrics_port=metrics_port,
        consumer_extra=consumer_extra,
    )


def main(settings: Settings) -> None:
    from vitrina.search.backends import describe_backend

    worker = build_worker(settings, metrics_port=settings.ports.indexer)
    worker.install_signal_handlers()
    log.info("indexer: %s → %s", settings.topics.filtered_products, describe_backend(settings))
    worker.run()
