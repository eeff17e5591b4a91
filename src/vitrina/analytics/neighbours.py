"""Serving the recommender's item neighbours: "similar products" and "customers also bought".

Both lists come from the same model as the personal recommendations: its item-item
neighbours (co-buyers normalised by both products' reach; `item_neighbours`, one row per
product and neighbour, written by every committed `analytics run`). A neighbour in the
product's own category is an alternative ("similar"), one in another category a complement
("also_bought"). The client API reads the newest published run from the lake (the one whose
lists the recommendations topic holds; a `--no-publish` run serves nothing) and re-reads it
when a newer one is committed.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from vitrina.analytics.following import REFRESH_S, RunFollower, served
from vitrina.analytics.lakeio import AnalyticsLake
from vitrina.settings import Settings

KINDS = ("similar", "also_bought")


class ItemNeighbours(RunFollower[dict[str, dict[str, list[tuple[str, float]]]]]):
    """Neighbours of every product of the newest committed run, folded per product
    (`RunFollower`: read off the request path, swapped whole)."""

    output = "item_neighbours"

    def __init__(self, lake: AnalyticsLake, refresh_s: float = REFRESH_S) -> None:
        super().__init__(lake, {}, refresh_s)

    def fold(self, table: pa.Table) -> dict[str, dict[str, list[tuple[str, float]]]]:
        # Column by column: ~3x cheaper than a dict per row (to_pylist of the table).
        columns = [table.column(name).to_pylist() for name in ("product_id", "kind")]
        others, scores = table.column("other_id").to_pylist(), table.column("score").to_pylist()
        folded: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for product, kind, other, score in zip(*columns, others, scores, strict=True):
            kinds = folded.get(product)  # rows sorted by product_id, rank
            if kinds is None:
                kinds = folded[str(product)] = {k: [] for k in KINDS}
            kinds[str(kind)].append((str(other), float(score)))
        return folded

    def lists(self, product_id: str) -> tuple[str | None, dict[str, list[tuple[str, float]]]]:
        """The run served and the product's {"similar": [(id, score)…], "also_bought":
        […]}, best first (empty if unknown), both from the same run."""
        run, by_product = self.snapshot()
        return run, by_product.get(product_id, {k: [] for k in KINDS})

    def of(self, product_id: str) -> dict[str, list[tuple[str, float]]]:
        """The product's lists of `lists`, without the run."""
        return self.lists(product_id)[1]


def item_neighbours(settings: Settings) -> ItemNeighbours:
    """One reader per lake per process (the client API's)."""
    return served(ItemNeighbours, settings)


def neighbour_lists(
    found: dict[str, list[tuple[str, float]]], *, hidden: Any, limit: int
) -> dict[str, list[tuple[str, float]]]:
    """Each list without the products `hidden(product_id)` rejects, cut to `limit`."""
    return {
        kind: [(pid, score) for pid, score in found.get(kind, []) if not hidden(pid)][:limit]
        for kind in KINDS
    }
