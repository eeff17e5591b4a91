"""Serving the recommender's item neighbours: "similar products" and "customers also bought".

Both lists come from the same model as the personal recommendations: its item-item
neighbours (co-buyers normalised by both products' reach; `item_neighbours`, one row per
product and neighbour, written by every committed `analytics run`). A neighbour in the product's own category is an alternative ("similar"),
one in another category a complement ("also_bought"). The client API reads the newest
committed run from the lake and re-reads it when a newer run is committed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from vitrina.analytics.lakeio import AnalyticsLake, EmptyLakeError
from vitrina.settings import Settings

KINDS = ("similar", "also_bought")
# 30 s: analytics runs every few minutes; checking the lake for a new run costs one listing.
REFRESH_S = 30.0


class ItemNeighbours:
    """Neighbours of every product of the newest committed run, folded per product."""

    def __init__(self, lake: AnalyticsLake, refresh_s: float = REFRESH_S) -> None:
        self.lake = lake
        self.refresh_s = refresh_s
        self.run_id: str | None = None
        self._by_product: dict[str, dict[str, list[tuple[str, float]]]] = {}
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.refresh_s:
            return
        self._checked = now
        run = self.lake.last_run("item_neighbours")
        if run is None or run == self.run_id:
            return
        try:
            rows = self.lake.read_output("item_neighbours", run).to_pylist()
        except (EmptyLakeError, OSError):
            return  # keep serving what we have
        folded: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for row in rows:  # sorted by product_id, rank
            kinds = folded.setdefault(str(row["product_id"]), {k: [] for k in KINDS})
            kinds[str(row["kind"])].append((str(row["other_id"]), float(row["score"])))
        self._by_product, self.run_id = folded, run

    def of(self, product_id: str) -> dict[str, list[tuple[str, float]]]:
        """{"similar": [(id, score)…], "also_bought": […]}, best first; empty if unknown."""
        with self._lock:
            self._refresh()
            return self._by_product.get(product_id, {k: [] for k in KINDS})


_served: dict[str, ItemNeighbours] = {}
_served_lock = threading.Lock()


def item_neighbours(settings: Settings) -> ItemNeighbours:
    """One reader per lake per process (the client API's)."""
    with _served_lock:
        if settings.lake_url not in _served:
            _served[settings.lake_url] = ItemNeighbours(AnalyticsLake.from_settings(settings))
        return _served[settings.lake_url]


def neighbour_lists(
    found: dict[str, list[tuple[str, float]]], *, hidden: Any, limit: int
) -> dict[str, list[tuple[str, float]]]:
    """Each list without the products `hidden(product_id)` rejects, cut to `limit`."""
    return {
        kind: [(pid, score) for pid, score in found.get(kind, []) if not hidden(pid)][:limit]
        for kind in KINDS
    }
