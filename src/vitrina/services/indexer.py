"""`vitrina run indexer`: filtered-products → search index.

A product upserts its document (keyed by product_id), a tombstone deletes it, an invalid
record dead-letters. Changes are buffered, applied and committed to the index every
`search.commit_seconds`; only then may the worker commit offsets. Upserts and deletes are
idempotent by product_id, so a replay after kill -9 converges to the same index.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import Message

from vitrina import metrics
from vitrina.contracts.codec import decode
from vitrina.domain.limits import is_product_id
from vitrina.errors import ContractError
from vitrina.kafka.deadletter import Output
from vitrina.kafka.worker import Step, StreamWorker
from vitrina.search.base import SearchBackend
from vitrina.settings import Settings

log = logging.getLogger(__name__)
GROUP_ID = "vitrina-indexer"


def product_id_of(key: bytes | str | None) -> str:
    """The product_id a tombstone's key names; a tombstone without a usable key is invalid."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else (key or "")
    if not is_product_id(text):
        raise ContractError(f"tombstone with key {text[:50]!r} names no product_id",
                            field="(key)", rule="pattern",
                            hint="filtered-products is keyed by product_id")
    return text


class IndexerStep(Step):
    """Folds filtered-products into pending index changes; commits them on time."""

    service = "indexer"
    produces = False

    def __init__(self, backend: SearchBackend, commit_seconds: float,
                 clock: Any = time.monotonic) -> None:
        self.backend = backend
        self.commit_seconds = commit_seconds
        self.clock = clock
        # product_id -> product (upsert) or None (delete); the latest record per key wins.
        self.pending: dict[str, dict[str, Any] | None] = {}
        self.last_commit = clock()

    def process(self, message: Message) -> list[Output]:
        value = message.value()
        if value is None:
            self.pending[product_id_of(message.key())] = None
        else:
            product = decode("product", value)
            self.pending[str(product["product_id"])] = product
        return []

    def flush_if_due(self, now: float) -> None:
        if self.pending and now - self.last_commit >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        started = time.perf_counter()
        changes, self.pending = self.pending, {}
        deletes = [pid for pid, product in changes.items() if product is None]
        upserts = [product for product in changes.values() if product is not None]
        if deletes:
            self.backend.delete(deletes)
        if upserts:
            self.backend.upsert(upserts)
        self.backend.commit()
        self.last_commit = self.clock()
        metrics.INDEXER_UPSERTED.inc(len(upserts))
        metrics.INDEXER_DELETED.inc(len(deletes))
        metrics.INDEXER_COMMIT.observe(time.perf_counter() - started)

    def durable(self) -> bool:
        return not self.pending

    def close(self) -> None:
        self.backend.close()


def build_worker(settings: Settings, *, group_id: str | None = None,
                 metrics_port: int | None = None) -> StreamWorker:
    from vitrina.search.api import open_search

    step = IndexerStep(open_search(settings), settings.search.commit_seconds)
    return StreamWorker(settings, step, [settings.topics.filtered_products],
                        group_id=group_id or GROUP_ID, metrics_port=metrics_port)


def main(settings: Settings) -> None:
    worker = build_worker(settings, metrics_port=settings.ports.indexer)
    worker.install_signal_handlers()
    log.info("indexer: %s → %s", settings.topics.filtered_products, settings.search_path)
    worker.run()
