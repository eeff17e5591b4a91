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
from vitrina.kafka.steps import BatchSink
from vitrina.kafka.worker import StreamWorker
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


Change = tuple[str, dict[str, Any] | None]  # product_id, product (None: delete)


class IndexerStep(BatchSink[Change]):
    """Folds filtered-products into index changes; applies and commits them in batches.

    A batch leaves the buffer only once the index committed it, so a failed write commits
    no offset, and an index that is away (UnavailableError) is retried with the same batch.
    """

    service = "indexer"
    flush_records = 5000

    def __init__(self, backend: SearchBackend, commit_seconds: float,
                 clock: Any = time.monotonic) -> None:
        super().__init__(clock)
        self.backend = backend
        self.flush_seconds = commit_seconds

    def decode(self, message: Message) -> Change:
        value = message.value()
        if value is None:
            return product_id_of(message.key()), None
        product = decode("product", value)
        return str(product["product_id"]), product

    def write(self, batch: list[Change]) -> None:
        started = time.perf_counter()
        changes = dict(batch)  # the latest record per product_id wins
        deletes = [pid for pid, product in changes.items() if product is None]
        upserts = [product for product in changes.values() if product is not None]
        if deletes:
            self.backend.delete(deletes)
        if upserts:
            self.backend.upsert(upserts)
        self.backend.commit()
        metrics.INDEXER_UPSERTED.inc(len(upserts))
        metrics.INDEXER_DELETED.inc(len(deletes))
        metrics.INDEXER_COMMIT.observe(time.perf_counter() - started)

    def close(self) -> None:
        self.backend.close()


def build_worker(settings: Settings, *, group_id: str | None = None,
                 metrics_port: int | None = None) -> StreamWorker:
    """decode (product or tombstone; invalid → dead-letters) → batch → index → commit."""
    from vitrina.search.api import open_search

    step = IndexerStep(open_search(settings), settings.search.commit_seconds)
    return StreamWorker(settings, step, [settings.topics.filtered_products], sink=step,
                        group_id=group_id or GROUP_ID, metrics_port=metrics_port)


def main(settings: Settings) -> None:
    worker = build_worker(settings, metrics_port=settings.ports.indexer)
    worker.install_signal_handlers()
    log.info("indexer: %s → %s", settings.topics.filtered_products, settings.search_path)
    worker.run()
