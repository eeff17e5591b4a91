"""Search refinements learned from the shop's own traffic.

A query that finds nothing (a word the catalogue and the word lists lack: торба in the
demo's sample) is what customers rephrase; what two or more of them searched next, within
five minutes, and found something with, is what they meant (`search_refinements`, written by
every committed `analytics run`, `reports.py`). The client API answers such a query, when it
still finds nothing, with its refinement's results and says so (`refined` in the response,
«Показаны результаты по запросу …» on the page); the query log keeps the query as typed
with the 0 it found, so the zero-result report still lists it.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

from vitrina.analytics.following import REFRESH_S, RunFollower, served
from vitrina.analytics.lakeio import AnalyticsLake
from vitrina.settings import Settings


class Refinement(NamedTuple):
    query: str  # what customers searched next
    users: int  # how many of them did


def refinement_key(query: str) -> str:
    """A query as the search statistics group it (LOWER(TRIM(query)))."""
    return query.strip().lower()


class SearchRefinements(RunFollower[dict[str, Refinement]]):
    """The newest committed run's refinements, by the query they refine."""

    output = "search_refinements"

    def __init__(self, lake: AnalyticsLake, refresh_s: float = REFRESH_S) -> None:
        super().__init__(lake, {}, refresh_s)

    def fold(self, table: pa.Table) -> dict[str, Refinement]:
        """By `refinement_key` of the learned query, as requests look them up: the engines'
        TRIM leaves a tab (DuckDB also trims a no-break space, Spark does not), Python's
        strip() does not; where two learned queries meet, the one more customers made."""
        queries, refined = table.column("query").to_pylist(), table.column("refined_to")
        users = table.column("users").to_pylist()
        folded: dict[str, Refinement] = {}
        for query, to, n in zip(queries, refined.to_pylist(), users, strict=True):
            key, found = refinement_key(str(query)), Refinement(str(to), int(n))
            if key and (key not in folded or folded[key].users < found.users):
                folded[key] = found
        return folded

    def of(self, query: str) -> Refinement | None:
        """What customers searched next when `query` found nothing, if enough did."""
        return self.snapshot()[1].get(refinement_key(query))


def search_refinements(settings: Settings) -> SearchRefinements:
    """One reader per lake per process (the client API's)."""
    return served(SearchRefinements, settings)
