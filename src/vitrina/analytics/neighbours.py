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

import logging
import threading
import time
from typing import Any

from vitrina.analytics.lakeio import AnalyticsLake, EmptyLakeError
from vitrina.settings import Settings

KINDS = ("similar", "also_bought")
# 30 s: analytics runs every few minutes; checking the lake for a new run costs one listing.
REFRESH_S = 30.0
# A started reader's first look at the lake: requests before it is done wait this long.
FIRST_READ_WAIT_S = 5.0

log = logging.getLogger(__name__)


class ItemNeighbours:
    """Neighbours of every product of the newest committed run, folded per product.

    Started (`start`, as the client API does), a thread of its own looks for a newer run
    every `refresh_s` and swaps it in once read, so no request waits on the lake: it did,
    for ~0.2 s in each server process's first product page and again each time a run was
    committed, holding the lock every other product page waited on. Not started, `of`
    looks for a newer run itself (scripts, tests)."""

    def __init__(self, lake: AnalyticsLake, refresh_s: float = REFRESH_S) -> None:
        self.lake = lake
        self.refresh_s = refresh_s
        # (run, lists per product): swapped whole, so a request sees one run's or the next's
        self._snapshot: tuple[str | None, dict[str, dict[str, list[tuple[str, float]]]]] = (
            None,
            {},
        )
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._first = threading.Event()  # the first look at the lake is done

    def start(self) -> ItemNeighbours:
        """Read the newest run and keep reading newer ones in a thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._follow, name="item-neighbours", daemon=True
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(10)
        self._thread = None

    def _follow(self) -> None:
        failed = ""
        while not self._stop.is_set():
            try:
                self._refresh(force=True)
                failed = ""
            except Exception as exc:  # the lake away or a bad file: keep serving what we have
                if str(exc) != failed:  # once per distinct failure, not every refresh_s
                    log.warning(
                        "item neighbours: reading the newest run failed (still serving run %s): %s",
                        self.run_id,
                        exc,
                    )
                failed = str(exc)
            finally:
                self._first.set()
            self._stop.wait(self.refresh_s)

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_s:
            return
        self._checked = now
        run = self.lake.last_run("item_neighbours", published=True)
        if run is None or run == self._snapshot[0]:
            return
        try:
            table = self.lake.read_output("item_neighbours", run)
        except (EmptyLakeError, OSError):
            return  # keep serving what we have
        # Column by column: ~3x cheaper than a dict per row (to_pylist of the table).
        columns = [table.column(name).to_pylist() for name in ("product_id", "kind")]
        others, scores = table.column("other_id").to_pylist(), table.column("score").to_pylist()
        folded: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for product, kind, other, score in zip(*columns, others, scores, strict=True):
            kinds = folded.get(product)  # rows sorted by product_id, rank
            if kinds is None:
                kinds = folded[str(product)] = {k: [] for k in KINDS}
            kinds[str(kind)].append((str(other), float(score)))
        self._snapshot = (run, folded)

    @property
    def run_id(self) -> str | None:
        return self._snapshot[0]

    def lists(self, product_id: str) -> tuple[str | None, dict[str, list[tuple[str, float]]]]:
        """The run served and the product's {"similar": [(id, score)…], "also_bought":
        […]}, best first (empty if unknown), both from the same run."""
        if self._thread is not None:
            self._first.wait(FIRST_READ_WAIT_S)  # a process's first requests, at most
        else:
            with self._lock:
                self._refresh()
        run, by_product = self._snapshot
        return run, by_product.get(product_id, {k: [] for k in KINDS})

    def of(self, product_id: str) -> dict[str, list[tuple[str, float]]]:
        """The product's lists of `lists`, without the run."""
        return self.lists(product_id)[1]


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
