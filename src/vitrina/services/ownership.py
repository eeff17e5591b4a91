"""Who owns a product id: the store that first published it, folded from `product-owners`.

`product-owners` is a compacted topic of claims in two forms, both folded the same way:

- one id: key product_id, value the owning store_id (UTF-8 text) — the SHOP API's claims;
- a batch (`vitrina shop load`): key `claims:<unique id>`, value a JSON object
  {product_id: store_id, ...}. A product id never contains `:` (the contract's pattern), so
  the two keys cannot be confused; the key is unique, so compaction never drops a batch.
  Every id of a batch hashes to the batch's partition (librdkafka's default partitioner,
  CRC-32 of the key), so all the claims for one id stay in one partition, in write order.

The doors (SHOP API, `vitrina shop load`) write a claim the first time they see a product id
with a store, and refuse a product whose id another store owns (403 / dead letter, rule
`owner`). The fold keeps the *first* claim per id, so ownership survives restarts of the API
and of the broker's clients; it is never process memory only.

Limit: two doors claiming the same new id in the same instant both succeed once; the fold
(first claim in the topic wins) then decides for every later write.
"""

from __future__ import annotations

import logging
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from vitrina.errors import BrokerError, ContractError, UnavailableError, VitrinaError
from vitrina.kafka.inspect import TO_THE_END, TopicFollower, topic_partitions
from vitrina.kafka.lifecycle import release
from vitrina.settings import Settings

log = logging.getLogger(__name__)

OWNER_RULE = "owner"
# Keys of claim batches; `:` is outside the product_id pattern (schemas/product.json).
BATCH_PREFIX = b"claims:"

ClaimRecord = tuple[int, bytes, bytes]  # (partition, key, value) of one claim batch


def claim_partition(product_id: str, partitions: int) -> int:
    """The partition librdkafka's default partitioner (consistent_random: CRC-32 of the key)
    gives a one-id claim keyed by `product_id`: where a batch holding that id must go too."""
    return zlib.crc32(product_id.encode()) % partitions


def claim_batches(
    claims: Iterable[tuple[str, str]],
    partitions: int,
    batch_key: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> list[ClaimRecord]:
    """(product_id, store_id) claims as one batch record per partition (see the module doc).

    Each batch maps its ids to their stores; `batch_key` makes the key unique (injected so
    tests can fix it).
    """
    by_partition: dict[int, dict[str, str]] = {}
    for product_id, store in claims:
        partition = claim_partition(product_id, partitions)
        batch = by_partition.get(partition)
        if batch is None:
            batch = by_partition[partition] = {}
        batch.setdefault(product_id, store)  # first claim wins, inside a batch too
    return [
        (partition, BATCH_PREFIX + batch_key().encode(), orjson.dumps(batch))
        for partition, batch in sorted(by_partition.items())
    ]


def owner_partitions(producer: Any, settings: Settings, principal: str | None = None) -> int:
    """How many partitions product-owners has, from `producer`'s metadata: where each claim
    batch goes (`claim_batches`). Asked again in steps for up to 30 s (`fetch_metadata`): one
    broker of three killed mid-load made the single 10 s ask time out and `shop load` stop
    with 50k of 60k products unsent (a blind review). BrokerError naming what is wrong when it
    still cannot be read."""
    from vitrina.kafka.clients import identity
    from vitrina.kafka.errors import fetch_metadata

    topic = settings.topics.product_owners
    metadata = fetch_metadata(producer, identity(settings, principal), topic, timeout=30)
    metadata = metadata.topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise BrokerError(
            f"{topic} is missing at {settings.kafka.bootstrap_servers}",
            hint="run `vitrina topics apply` first",
        )
    return len(metadata.partitions)


class NotOwner(VitrinaError):
    status_code = 403


def owner_message(product_id: str, owner: str, store: str | None) -> str:
    """Why `store`'s product may not replace `owner`'s; None: the product names no store."""
    who = "a product without store_id may not replace it" if store is None else f"not {store}"
    return (
        f"product {product_id} belongs to {owner}, {who} (rule: owner — a product "
        "id belongs to the store that first published it)"
    )


OWNER_HINT = "use a product id of your own store"


def owner_error(product_id: str, owner: str, store: str) -> NotOwner:
    return NotOwner(owner_message(product_id, owner, store), hint=OWNER_HINT)


class Owners:
    """product_id -> store_id, first claim wins; thread-safe."""

    def __init__(self) -> None:
        self.by_product: dict[str, str] = {}
        self._lock = threading.Lock()

    def fold(self, key: bytes | None, value: bytes | None) -> None:
        """Take one product-owners record (either form) into account; first claim wins."""
        if not key or not value:
            return
        if key.startswith(BATCH_PREFIX):
            self._fold_batch(key, value)
            return
        product_id = key.decode("utf-8", "replace")
        with self._lock:
            self.by_product.setdefault(product_id, value.decode("utf-8", "replace"))

    def _fold_batch(self, key: bytes, value: bytes) -> None:
        try:
            batch = orjson.loads(value)
        except orjson.JSONDecodeError:
            batch = None
        if not isinstance(batch, dict):
            # Only the doors write here; a broken batch is logged, never a reason to stop
            # folding every claim after it.
            log.warning("product-owners: batch %r is not a JSON object; skipped", key[:80])
            return
        with self._lock:
            setdefault = self.by_product.setdefault
            for product_id, store in batch.items():
                if isinstance(store, str) and store:
                    setdefault(product_id, store)

    def get(self, product_id: str) -> str | None:
        return self.by_product.get(product_id)

    def claim_all(
        self, items: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
        """Claim (product_id, store) pairs, all or nothing.

        Returns (new claims, conflicts as (id, owner, store)); with conflicts nothing is claimed.
        """
        new: list[tuple[str, str]] = []
        conflicts: list[tuple[str, str, str]] = []
        with self._lock:
            for product_id, store in items:
                owner = self.by_product.get(product_id)
                if owner is not None and owner != store:
                    conflicts.append((product_id, owner, store))
                elif owner is None and (product_id, store) not in new:
                    new.append((product_id, store))
            if not conflicts:
                self.by_product.update(new)
        return ([], conflicts) if conflicts else (new, [])

    def release(self, claims: list[tuple[str, str]]) -> None:
        """Forget claims whose write failed (the topic decides again on the next fold)."""
        with self._lock:
            for product_id, store in claims:
                if self.by_product.get(product_id) == store:
                    del self.by_product[product_id]

    def __len__(self) -> int:
        return len(self.by_product)


def load_owners(
    settings: Settings, principal: str | None = "admin", timeout: float = 60.0
) -> Owners:
    """The owners as of now (read to the end once): for one-shot loads.

    Every wait has a deadline: the read (`timeout`, then BrokerError), and letting go of the
    reader and of the metadata client (kafka/lifecycle.py) — a broker killed meanwhile must
    not hang `vitrina shop load` in librdkafka's close.
    """
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config, identity
    from vitrina.kafka.errors import check_topic, fetch_metadata

    topic = settings.topics.product_owners
    ident = identity(settings, principal)
    admin = [AdminClient(admin_config(settings, principal))]
    try:
        metadata = fetch_metadata(admin[0], ident, topic, timeout=min(timeout, 10.0))
    finally:
        release(admin, "the product-owners metadata client")
    check_topic(ident, topic, metadata)
    partitions = [TopicPartition(topic, p) for p in sorted(metadata.topics[topic].partitions)]
    owners = Owners()
    follower = TopicFollower(settings, partitions, principal=principal, **TO_THE_END)
    try:
        for msg in follower.read_to_end(timeout):
            owners.fold(msg.key(), msg.value())
    finally:
        reader = [follower.consumer]
        del follower  # the reader's only reference is now `reader`
        release(reader, "the product-owners reader")
    return owners


def replay_ownership(
    settings: Settings, values: list[bytes | None], principal: str = "admin"
) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """The doors' owner rule for products `vitrina dlq replay` sends back to shop-products:
    {position: why} of those whose id another store owns, and the claims of new ids (written
    before the products, as the doors do). Nothing downstream of the doors checks ownership,
    so a replay that skipped this published a product the door had refused as another
    store's. A value the door does not admit claims nothing: it is replayed as before, and
    the filter judges it. One without a store_id claims nothing either, and is refused if
    its id is owned (as at the door)."""
    from vitrina.contracts.door import admitted_product

    owners = load_owners(settings, principal)
    refused: dict[int, str] = {}
    claims: list[tuple[str, str]] = []
    for position, value in enumerate(values):
        try:  # the id and store as the door reads them (a store's own shape rewritten)
            product, _ = admitted_product(orjson.loads(value or b""), value)
        except (orjson.JSONDecodeError, ContractError):
            continue  # no product the door admits: the filter refuses it again, unpublished
        product_id, store = product["product_id"], product.get("store_id")
        if not store:  # may add an id, unclaimed, as at the door; not replace an owned one
            owner = owners.get(product_id)
            if owner is not None:
                refused[position] = owner_message(product_id, owner, None)
            continue
        new, conflicts = owners.claim_all([(product_id, store)])
        if conflicts:
            refused[position] = owner_message(*conflicts[0])
        claims += new
    return refused, claims


class OwnersView:
    """Owners kept current by a background reader (the SHOP API's long-lived view)."""

    def __init__(self, settings: Settings, principal: str = "shop-api") -> None:
        self.settings = settings
        self.principal = principal
        self.owners = Owners()
        self.loaded = threading.Event()
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="product-owners", daemon=True)

    def start(self) -> OwnersView:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def ready(self, timeout: float = 0.0) -> Owners:
        """The owners once read to the end; UnavailableError (503) until then."""
        if not self.loaded.wait(timeout):
            raise UnavailableError(
                "product ownership is still loading" + (f" ({self.error})" if self.error else ""),
                hint="retry in a few seconds; is the broker up and `vitrina topics apply` done?",
            )
        return self.owners

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # broker away: say why, retry
                self.error = str(exc)
                log.warning("product-owners reader: %s; retrying", exc)
                self._stop.wait(2.0)

    def _follow(self) -> None:
        partitions = topic_partitions(
            self.settings, self.settings.topics.product_owners, self.principal
        )
        follower = TopicFollower(self.settings, partitions, principal=self.principal)
        try:
            while not self._stop.is_set():
                for msg in follower.poll(500, 0.2, strict=False):
                    self.owners.fold(msg.key(), msg.value())
                if follower.at_end and not self.loaded.is_set():
                    self.error = None
                    self.loaded.set()
        finally:
            follower.close()
