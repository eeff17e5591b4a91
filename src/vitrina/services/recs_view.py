"""A local view of the compacted topics the client API serves from.

`recommendations` (key user_id), `banned-products` (key product_id, null value = unban) and
`analytics-categories` (key category) are folded by key in one background consumer thread.
Compaction never runs on the embedded broker and is lazy on Apache Kafka, so the fold (last
record per key wins, a tombstone deletes) is what makes the view right on both.

The shared reader (kafka/inspect.TopicFollower) assigns every partition from the beginning,
never joining a consumer group: every API replica needs the whole view, and nothing is
committed. "Loaded" means every partition reported end-of-partition once (the embedded
broker's high watermark is wrong, EOF is not).

A record of `banned-products` that is not a ban leaves the product banned here, as in the
filter (which dead-letters it). But it is now that key's latest record, and compaction keeps
only the latest: once compacted, the ban itself would be gone, and the product published
again at the filter's next start. So a view that has read the topic to its end writes each
such ban again as it is (`on_shadowed_bans`, the client API's BanService), and the latest
record of the key is a ban again. Every API process does it; the copies are the same ban.
It waits until the view has caught up (a poll that found nothing new), so an unban written
after the bad record is read first; one written in the same instant as the copy may land
before it and be undone: the product stays banned (the safe side), and unbanning it again
works.

Serving (`serve_recommendations`) is a pure function: recommendations are re-checked at
serve time against the current ban list and stock, because both change faster than the
analytics job recomputes them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from vitrina import metrics
from vitrina.contracts.codec import decode
from vitrina.errors import ContractError, UnavailableError, VitrinaError
from vitrina.kafka.clients import admin_config
from vitrina.kafka.inspect import TopicFollower
from vitrina.services.bans import decode_ban
from vitrina.settings import Settings

log = logging.getLogger(__name__)


# How long a request waits for a just-started view's first read of the ban list.
BANS_FIRST_WAIT_S = 3.0


# -- pure core ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ServedRecommendations:
    user_id: str
    source: str  # personal | popular | top-in-stock | none
    items: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    generated_at: str | None = None
    removed: int = 0  # items dropped at serve time (banned or out of stock)


def allowed_items(
    items: list[dict[str, Any]], banned: Mapping[str, Any], stock_of: Callable[[str], int | None]
) -> tuple[list[dict[str, Any]], int]:
    """Keep items that are not banned and in stock now; `stock_of` is None for unknown ids."""
    kept = []
    for item in items:
        pid = item["product_id"]
        available = None if pid in banned else stock_of(pid)
        if available is not None and available > 0:
            kept.append(item)
    return kept, len(items) - len(kept)


def serve_recommendations(
    user_id: str,
    personal: dict[str, Any] | None,
    popular: dict[str, Any] | None,
    banned: Mapping[str, Any],
    stock_of: Callable[[str], int | None],
    top_in_stock: Callable[[int], list[dict[str, Any]]],
    limit: int,
) -> ServedRecommendations:
    """Choose what to show: personal list, else popular, else the top in-stock products.

    A customer never gets an error: an unknown user, or one whose every recommended item
    was banned or sold out since the job ran, falls through to the next source.
    """
    removed = 0
    for source, record in (("personal", personal), ("popular", popular)):
        if record is None:
            continue
        kept, dropped = allowed_items(list(record.get("items", [])), banned, stock_of)
        removed += dropped
        if kept:
            return ServedRecommendations(
                user_id,
                source,
                kept[:limit],
                record.get("model"),
                record.get("generated_at"),
                removed,
            )
    fallback = [item for item in top_in_stock(limit * 2) if item["product_id"] not in banned]
    if fallback:
        return ServedRecommendations(user_id, "top-in-stock", fallback[:limit], removed=removed)
    return ServedRecommendations(user_id, "none", [], removed=removed)


# -- the view ----------------------------------------------------------------------------
class LocalView:
    """Recommendations, bans and category statistics folded from their compacted topics."""

    def __init__(
        self,
        settings: Settings,
        *,
        poll_timeout_s: float = 0.2,
        on_shadowed_bans: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.poll_timeout_s = poll_timeout_s
        # Bans whose key's latest record is not a ban, to write again (module docstring).
        self.on_shadowed_bans = on_shadowed_bans
        self._shadowed: dict[str, dict[str, Any]] = {}
        self._repair_at = 0.0
        topics = settings.topics
        self._folds: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
            topics.recommendations: ("recommendation", {}),
            topics.banned_products: ("ban", {}),
            topics.analytics_categories: ("category_stats", {}),
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.loaded = threading.Event()
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    # -- reads (thread-safe snapshots) ---------------------------------------------------
    def _table(self, topic: str) -> dict[str, dict[str, Any]]:
        return self._folds[topic][1]

    def recommendation(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._table(self.settings.topics.recommendations).get(user_id)

    def bans(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._table(self.settings.topics.banned_products))

    def is_banned(self, product_id: str) -> bool:
        if not self.loaded.is_set():
            self._wait_for_the_bans()
        with self._lock:
            return product_id in self._table(self.settings.topics.banned_products)

    def _wait_for_the_bans(self) -> None:
        """A started view not yet read to its end: wait for it (BANS_FIRST_WAIT_S), then
        503. A client API killed and started again showed a banned product for ~1 s, its
        view still reading the ban list (a blind review, the filter stopped so the index
        still had it). A view that cannot reach the broker (`error`) does not hold search
        up: the index has every ban the filter applied, and no ban is made meanwhile."""
        deadline = time.monotonic() + BANS_FIRST_WAIT_S
        while self._thread is not None and not self.loaded.wait(0.05):
            if self.error is not None:
                return
            if time.monotonic() >= deadline:
                raise UnavailableError(
                    "the ban list is still loading (the client API just started)",
                    hint="retry in a moment",
                )

    def categories(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self._table(self.settings.topics.analytics_categories).values())
        return sorted(rows, key=lambda r: r["category"])

    # -- fold ----------------------------------------------------------------------------
    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Fold one record: last value per key wins, a null value deletes the key."""
        contract, table = self._folds[topic]
        if key is None:
            metrics.CLIENT_API_VIEW_INVALID.labels(topic).inc()
            log.warning("view: %s: record without a key ignored", topic)
            return
        name = key.decode("utf-8", "replace")
        bans = topic == self.settings.topics.banned_products
        if value is None:
            with self._lock:
                table.pop(name, None)
                if bans:
                    self._shadowed.pop(name, None)
            return
        try:
            # A ban keyed by its own product_id, or not a ban: the filter decides the same.
            record = (decode_ban(value, name) or {}) if bans else decode(contract, value)
        except ContractError as exc:
            # Producers validate on produce, so this is rare; the view cannot dead-letter a
            # topic it does not own, so it counts and logs instead of dropping silently.
            metrics.CLIENT_API_VIEW_INVALID.labels(topic).inc()
            log.warning("view: %s key %s: %s", topic, name, exc)
            if bans:
                with self._lock:
                    if name in table:
                        self._shadowed[name] = table[name]
            return
        with self._lock:
            table[name] = record
            if bans:
                self._shadowed.pop(name, None)

    def _repair_bans(self) -> None:
        """Write again each ban whose latest record is not a ban; retried every 30 s while
        the write fails (the broker away)."""
        if not self._shadowed or self.on_shadowed_bans is None:
            return
        if time.monotonic() < self._repair_at:
            return
        with self._lock:
            shadowed, self._shadowed = self._shadowed, {}
        try:
            self.on_shadowed_bans(shadowed)
        except VitrinaError as exc:
            log.warning("view: %d ban(s) not written again: %s", len(shadowed), exc)
            self._repair_at = time.monotonic() + 30.0
            with self._lock:
                self._shadowed = {**shadowed, **self._shadowed}
            return
        log.warning(
            "view: wrote again %d ban(s) whose latest record was not a ban: %s",
            len(shadowed),
            ", ".join(sorted(shadowed)[:20]),
        )

    # -- background consumer -------------------------------------------------------------
    def start(self) -> LocalView:
        self._thread = threading.Thread(target=self._run, name="client-api-view", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _follow_all(self) -> TopicFollower | None:
        """A reader of every partition of the three topics, or None (error set) if not yet."""
        admin = AdminClient(admin_config(self.settings, "client-api"))
        try:
            # 2 s: requests wait for the first read of the bans until this says "unreachable"
            metadata = admin.list_topics(timeout=2)
        except KafkaException as exc:
            self.error = f"broker unreachable: {exc}"
            return None
        missing = [
            t
            for t in self._folds
            if t not in metadata.topics or metadata.topics[t].error is not None
        ]
        if missing:
            self.error = f"topics missing: {', '.join(missing)} (run `vitrina topics apply`)"
            return None
        self.error = None
        return TopicFollower(
            self.settings,
            [TopicPartition(t, p) for t in self._folds for p in metadata.topics[t].partitions],
            principal="client-api",
        )

    def _run(self) -> None:
        follower: TopicFollower | None = None
        try:
            while not self._stop.is_set() and (follower := self._follow_all()) is None:
                self._stop.wait(1.0)
            while follower is not None and not self._stop.is_set():
                records = follower.poll(500, self.poll_timeout_s, strict=False)
                for msg in records:
                    self.apply(str(msg.topic()), msg.key(), msg.value())
                if follower.at_end and not self.loaded.is_set():
                    self.loaded.set()
                if follower.at_end and not records:  # caught up: each key's latest is known
                    self._repair_bans()
        except Exception as exc:  # keep the API up; /readyz reports the dead view
            self.error = f"view stopped: {exc}"
            log.exception("view stopped")
        finally:
            if follower is not None:
                follower.close()
