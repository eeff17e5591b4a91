"""Load store catalogues into `shop-products`: validate each product, dead-letter the rest.

`vitrina shop load` applies the same door as the SHOP API (contracts/door.py): the product
contract, depth and size limits, canonical instants, and product ownership (`product-owners`:
an id belongs to the store that first published it). Valid products are produced keyed by
`product_id` with their original bytes when nothing needed normalising; invalid ones go to
`dead-letters` with the reason and `source_file` / `source_position` headers. A bad record
never stops a load; a broker that does not confirm the writes does, loudly.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient

from vitrina import metrics
from vitrina.contracts.door import admitted_product, check_store, too_large
from vitrina.domain.catalog import (
    Catalog,
    CatalogError,
    Record,
    check_size,
    jsonl_record,
    parse_catalog,
)
from vitrina.domain.product_shapes import NOTHING_DECLARED, Declared
from vitrina.errors import BrokerError, ContractError, VitrinaError
from vitrina.kafka.clients import admin_config
from vitrina.kafka.deadletter import dead_letter
from vitrina.kafka.lifecycle import release
from vitrina.kafka.produce import produce
from vitrina.kafka.worker import make_producer
from vitrina.services.ownership import (
    OWNER_HINT,
    OWNER_RULE,
    OwnersView,
    claim_batches,
    owner_message,
    owner_partitions,
)
from vitrina.services.shop_lines import candidates
from vitrina.services.shop_report import Deliveries, FileReport, LoadReport, reason_of
from vitrina.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "shop-load"
CATALOG_SUFFIXES = {".json", ".jsonl", ".ndjson"}
# 60 s: librdkafka's message.timeout.ms in our producer config; waiting longer is pointless.
FLUSH_TIMEOUT_S = 60.0
# How long a load waits for product-owners to be read to its end before it starts.
OWNERS_WAIT_S = 60.0
# 3 s: a just-created topic reaches a single KRaft broker's metadata in well under a second.
TOPIC_GRACE_S = 3.0
# Blocks of 1,000 checked products that may wait for their claims' acknowledgement while
# the loader checks the next ones; past that it waits (memory: references to their bytes).
BLOCKS_AHEAD = 16


def check_product(
    record: Record, declared: Declared = NOTHING_DECLARED
) -> tuple[str, bytes, str | None]:
    """Key, bytes and store of one parsed record as the door admits it; ContractError if not.

    `declared`: what the load declared for products that do not say it (`--currency`,
    `--category`)."""
    if record.error is not None:
        raise ContractError(record.error, field="(root)", rule=record.rule or "json")
    # First: it may not be an object.
    value, out = admitted_product(record.value, record.raw, declared)
    store = value.get("store_id")
    check_store(store)
    return value["product_id"], out, store


def owner_conflict(product_id: str, owner: str, store: str | None) -> ContractError:
    return ContractError(
        owner_message(product_id, owner, store),
        field="product_id",
        rule=OWNER_RULE,
        hint=OWNER_HINT,
    )


def key_of(record: Record) -> bytes | None:
    value = record.value
    if isinstance(value, dict) and isinstance(value.get("product_id"), str):
        return value["product_id"].encode()[:200]
    return None


def catalogue_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their catalogue files (sorted); complain about missing paths."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in CATALOG_SUFFIXES
                )
            )
        elif path.is_file():
            files.append(path)
        elif path.exists():  # a FIFO, a socket, a device: read to no end or not at all
            raise VitrinaError(
                f"{path} is not a regular file or a folder",
                hint="give catalogue files or folders (copy a stream to a file first)",
            )
        else:
            raise VitrinaError(f"{path} does not exist", hint="give catalogue files or folders")
    return files


def ensure_broker(settings: Settings, topic: str, timeout: float = 8.0) -> None:
    """Fail fast, naming the bootstrap address, when the broker or the topic is missing."""
    from vitrina.kafka.clients import identity
    from vitrina.kafka.errors import check_topic, fetch_metadata

    # As shop-load itself (not admin): a wrong password, an untrusted CA or a missing ACL is
    # named here, in about a second, before any record is read.
    ident = identity(settings, SERVICE)
    admin = [
        AdminClient(
            {
                **admin_config(settings, SERVICE),
                "socket.connection.setup.timeout.ms": int(timeout * 1000),
            }
        )
    ]
    # A topic created a moment ago (`vitrina topics apply` just before) may not be in every
    # broker's metadata yet: Apache Kafka propagates it asynchronously. Ask again for up to
    # TOPIC_GRACE_S before saying it does not exist; a denial is reported at once.
    grace_ends = time.monotonic() + TOPIC_GRACE_S
    try:
        while True:
            metadata = fetch_metadata(admin[0], ident, topic, timeout)
            info = metadata.topics.get(topic)
            err = info.error if info is not None else None
            denied = err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
            ready = info is not None and err is None and bool(info.partitions)
            if ready or denied or time.monotonic() >= grace_ends:
                break
            time.sleep(0.2)
    finally:
        release(admin, "the shop-load metadata client")  # with a deadline, see lifecycle
    check_topic(ident, topic, metadata, "WRITE")


Progress = Callable[[int], None]


class ShopLoader:
    """Validates catalogue records and produces them; one producer for a whole load."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: str = "file",
        producer: Producer | None = None,
        owners: dict[str, str] | None = None,
        declared: Declared = NOTHING_DECLARED,
    ) -> None:
        self.settings = settings
        # What the catalogues' products that do not say it get (`--currency`, `--category`).
        self.declared = declared
        self.topic = settings.topics.shop_products
        self.owners_topic = settings.topics.product_owners
        # product_id -> store_id (first claim wins); None: no ownership checks.
        self.owners = owners
        self.dlq = settings.topics.dead_letters
        self.source = source
        self.deliveries = Deliveries()
        self.produced: Counter[str] = Counter()
        # Products of claimed blocks handed to the producer (their claims confirmed).
        self.claimed_and_produced = 0
        # Error-only delivery reports: a Python callback per delivered product would cost
        # more than its validation; flush() still waits for every acknowledgement.
        only_errors: dict[str, Any] = {"delivery.report.only.error": True}
        self.producer = producer or make_producer(
            settings, SERVICE, on_delivery=self.deliveries, **only_errors
        )
        self.report = LoadReport()
        self._owners_partitions: int | None = None
        # Claims go out on a producer of their own: the products they cover wait for their
        # acknowledgement (`_publish`), not for the products' own.
        self.claims_producer: Producer | None = None
        # Blocks of checked products and their claims' unacknowledged record counts.
        self._unclaimed: deque[tuple[list[int], list[tuple[str, bytes]]]] = deque()
        self._accepted = metrics.SHOP_ACCEPTED.labels(source)

    def _produce(
        self,
        topic: str,
        key: bytes | str | None,
        value: bytes,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        produce(self.producer, topic, value, key, headers=headers)  # waits while queue full

    def _claim(self, claims: list[tuple[str, str]]) -> list[int]:
        """Write a batch of ownership claims to product-owners, then forget the batch; the
        returned one-item list counts its records not yet acknowledged.

        One record per partition holding every id of the batch that hashes there (the
        batch form, ownership.py), not one per product id: the load writes ~1 record per
        product instead of 2, and its main thread saves a produce() per product.
        """
        pending = [0]
        if not claims:
            return pending
        if self.claims_producer is None:
            # A few records per 1,000 products, with a delivery report for each, and a
            # shorter linger than the products' (they wait for it).
            claims_linger: dict[str, Any] = {"linger.ms": 5}
            self.claims_producer = make_producer(self.settings, SERVICE, **claims_linger)

        def acknowledged(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                pending[0] -= 1
            else:
                self.deliveries(err, msg)

        for partition, key, value in claim_batches(claims, self._owner_partitions()):
            pending[0] += 1
            produce(
                self.claims_producer,
                self.owners_topic,
                value,
                key,
                partition=partition,
                on_delivery=acknowledged,
            )
            self.produced[self.owners_topic] += 1
        claims.clear()
        return pending

    def _hand_over(self, products: list[tuple[str, bytes]], pending: list[int]) -> None:
        """Products to publish once their claims (`pending`, from `_claim`) are acknowledged:
        a loader killed at any moment leaves no published product unclaimed, for another
        store to take over before this one loads again. The main thread does not wait for
        the acknowledgement while it can check the next blocks instead."""
        self._unclaimed.append((pending, products))
        self._publish(wait_all=False)

    def _publish(self, wait_all: bool, timeout: float = FLUSH_TIMEOUT_S) -> None:
        """Produce the blocks whose claims are acknowledged, in their order; wait for the
        oldest when more than BLOCKS_AHEAD wait (or for all, with `wait_all`), at most
        `timeout` seconds."""
        waiting = self._unclaimed
        deadline = time.monotonic() + timeout
        while waiting:
            pending, products = waiting[0]
            if pending[0] and self.claims_producer is not None:
                must = wait_all or len(waiting) > BLOCKS_AHEAD
                self.claims_producer.poll(0.05 if must else 0)
                if self.deliveries.failed[self.owners_topic]:
                    raise self._claims_failed("was refused")
                if pending[0]:
                    if not must:
                        return
                    if time.monotonic() >= deadline:
                        raise self._claims_failed(f"not confirmed in {timeout:.0f} s")
                    continue
            waiting.popleft()
            topic, produce_one = self.topic, self.producer.produce
            for product_id, out in products:
                try:
                    produce_one(topic, out, product_id)
                except BufferError:  # local queue full: wait for deliveries
                    self._produce(topic, product_id, out)
            self.claimed_and_produced += len(products)

    def _claims_failed(self, what: str) -> BrokerError:
        return BrokerError(
            f"an ownership claim written to {self.owners_topic} at "
            f"{self.settings.kafka.bootstrap_servers} {what} (first error: "
            f"{self.deliveries.first_error}); the products it covers were not published, "
            f"{self.claimed_and_produced:,} of this load's before them were",
            hint="check `vitrina broker status` and load again; products are keyed by "
            "product_id, so loading twice is safe",
        )

    def _owner_partitions(self) -> int:
        """How many partitions product-owners has (asked once per load)."""
        if self._owners_partitions is None:
            self._owners_partitions = owner_partitions(self.producer, self.settings)
        return self._owners_partitions

    def load_catalog(
        self, catalog: Catalog, name: str, progress: Progress | None = None
    ) -> FileReport:
        """Produce every record of one parsed catalogue; never stops on a bad record."""
        report = FileReport(name, catalog.shape, skipped=catalog.skipped)
        self.report.files.append(report)
        # Parsed JSON has no reference cycles, but a big catalogue makes the cyclic GC walk
        # every live product again and again (measured: 2-3x slower on 50k arrays).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._load_records(catalog, name, report, progress)
        finally:
            if gc_was_enabled:
                gc.enable()
        self._accepted.inc(report.sent)
        return report

    def _load_records(
        self, catalog: Catalog, name: str, report: FileReport, progress: Progress | None
    ) -> None:
        # The hot loop: locals instead of attribute lookups. One msgspec pass
        # (services/shop_lines.py) checks a record that is valid with canonical instants,
        # whose bytes go out as they are (nearly every record); the rest take the full door
        # here, which normalises the instants or names the rule.
        topic, produce, poll = self.topic, self.producer.produce, self.producer.poll
        declared = self.declared
        owners = self.owners
        # With ownership checks, a product is published after its claim is acknowledged:
        # a block's products and claims (per 1,000 records) go to `_hand_over`.
        claims: list[tuple[str, str]] = []  # new (product_id, store) of this block
        block: list[tuple[str, bytes]] = []
        stores: dict[str, str] = {}
        seen = sent = rejected = 0
        try:
            for position, raw, record, checked_id, store in candidates(catalog):
                seen += 1
                try:
                    if checked_id is not None:  # the one-pass check accepted these bytes
                        product_id, out = checked_id, cast(bytes, raw)
                    else:
                        if record is None:  # a JSON Lines line, parsed only now
                            record = jsonl_record(position, cast(bytes, raw))
                        product_id, out, store = check_product(record, declared)
                    if owners is None:
                        try:
                            produce(topic, out, product_id)
                        except BufferError:  # local queue full: wait for deliveries
                            self._produce(topic, product_id, out)
                        except KafkaException:  # over the client's message.max.bytes
                            raise too_large(len(out)) from None
                    else:  # a product without store_id may not replace an owned one either
                        owner = owners.get(product_id)
                        if owner is not None and owner != store:
                            raise owner_conflict(product_id, owner, store)
                        # The door kept it within MAX_RECORD_BYTES: it fits a record.
                        block.append((product_id, out))
                        if store is not None and owner is None:
                            # One string per store, not one per product, kept for the load.
                            store = stores.setdefault(store, store)
                            owners[product_id] = store
                            claims.append((product_id, store))
                except ContractError as exc:
                    if record is None:
                        record = jsonl_record(position, cast(bytes, raw))
                    self._reject(record, exc, name)
                    rejected += 1
                else:
                    sent += 1
                # Serve callbacks and progress every 1000 records: cheap, keeps queue moving.
                if seen % 1000 == 0:
                    if owners is not None:
                        self._hand_over(block, self._claim(claims))
                        block = []
                    poll(0)
                    if progress:
                        progress(1000)
            if owners is not None:  # the last blocks wait for `finish`, not for each file
                self._hand_over(block, self._claim(claims))
        finally:
            report.records += seen
            report.sent += sent
            report.rejected += rejected
            self.produced[topic] += sent
        if progress and seen % 1000:
            progress(seen % 1000)

    def load_bytes(self, data: bytes, name: str, progress: Progress | None = None) -> FileReport:
        try:
            catalog = parse_catalog(data)
        except CatalogError as exc:
            report = FileReport(name, "invalid", skipped=str(exc))
            self.report.files.append(report)
            return report
        return self.load_catalog(catalog, name, progress)

    def _reject(
        self, record: Record, exc: ContractError, name: str, key: bytes | None = None
    ) -> None:
        reason = reason_of(exc)
        self.report.reasons[reason] += 1
        metrics.SHOP_REJECTED.labels(self.source, exc.rule or "invalid").inc()
        # A record too large for Kafka cannot be dead-lettered whole: its first 1,000 bytes.
        value = record.raw[:1000] if exc.rule == "size" and record.raw else record.raw
        out = dead_letter(
            self.dlq,
            service=SERVICE,
            error=f"{record.where}: {exc}",
            key=key if key is not None else key_of(record),
            value=value,
            source_topic=self.topic,
            extra_headers=[
                ("source_file", name.encode()),
                ("source_position", record.where.encode()),
            ],
        )
        self._produce(out.topic, out.key, out.value or b"", list(out.headers or []))
        self.produced[out.topic] += 1

    def finish(self, timeout: float = FLUSH_TIMEOUT_S) -> LoadReport:
        """Wait until the broker confirmed every write; raise BrokerError if it did not."""
        self._publish(wait_all=True, timeout=timeout)  # products waiting for their claims
        deadline = time.monotonic() + timeout
        remaining = self.producer.flush(min(timeout, 1.0))
        while remaining > 0 and time.monotonic() < deadline:
            remaining = self.producer.flush(1.0)
        failures = self.deliveries.failed
        self.report.delivered = self.produced[self.topic] - failures[self.topic]
        self.report.dead_lettered = self.produced[self.dlq] - failures[self.dlq]
        failed = sum(failures.values())
        first = self.deliveries.first_error
        if first is not None:  # an ACL denial or a refused login says so, not "not confirmed"
            from vitrina.kafka.clients import identity
            from vitrina.kafka.errors import KafkaAccessDenied, KafkaAuthError, explain

            problem = explain(
                first, identity(self.settings, SERVICE), operation="WRITE", topic=self.topic
            )
            if isinstance(problem, KafkaAccessDenied | KafkaAuthError):
                raise problem
        if remaining or failed:
            raise BrokerError(
                f"{failed + remaining} records were not confirmed by the broker at "
                f"{self.settings.kafka.bootstrap_servers} (first error: "
                f"{self.deliveries.first_error})",
                hint="check `vitrina broker status` and load again; products are keyed by "
                "product_id, so loading twice is safe",
            )
        return self.report


def load_paths(
    settings: Settings,
    paths: Iterable[Path],
    *,
    on_file: Callable[[Path, Catalog], Progress | None] | None = None,
    declared: Declared = NOTHING_DECLARED,
    owners_view: OwnersView | None = None,
) -> LoadReport:
    """`vitrina shop load`: every catalogue file under `paths` into `shop-products`.

    `declared`: the currency of the prices that name none (a bare `price`) and the category
    of products without one; without them such products are rejected, as nothing guesses.
    `owners_view`: a started view of product-owners to check against (a test's), else one
    of the load's own."""
    files = catalogue_files(paths)
    if not files:
        raise VitrinaError("no catalogue files found", hint="give .json / .jsonl files or folders")
    ensure_broker(settings, settings.topics.shop_products)
    ensure_broker(settings, settings.topics.product_owners)
    # Owners followed for the whole load, not read once at its start: another store's claim
    # made while a long load ran was never seen, so the load published its own version over
    # that store's product (a blind review; 16 of 20,000 ids). Now only claims made within
    # the follower's lag of each other both pass (contracts.md, the same limit as the API's).
    view = owners_view or OwnersView(settings, principal=SERVICE).start()
    try:
        owners = view.ready(OWNERS_WAIT_S).by_product
    except BaseException:
        if owners_view is None:
            view.stop()
        raise
    loader = ShopLoader(settings, owners=owners, declared=declared)
    try:
        for path in files:
            try:
                check_size(path.stat().st_size)  # before reading: it may not fit in memory
                catalog = parse_catalog(path.read_bytes())
            except OSError as exc:
                loader.report.files.append(FileReport(str(path), "unreadable", skipped=str(exc)))
                continue
            except CatalogError as exc:
                loader.report.files.append(FileReport(str(path), "invalid", skipped=str(exc)))
                continue
            progress = on_file(path, catalog) if on_file else None
            loader.load_catalog(catalog, str(path), progress)
        return loader.finish()
    finally:
        # Every write is confirmed (or reported) by now: destroy the producer with a
        # deadline instead of at exit, where librdkafka could wait for ever (lifecycle.py).
        producer: list[Any] = [loader.producer]
        claims: list[Any] = [loader.claims_producer]
        del loader.producer
        loader.claims_producer = None
        release(producer, "the shop-load producer")
        if claims[0] is not None:
            release(claims, "the shop-load claims producer")
        if owners_view is None:
            view.stop()
