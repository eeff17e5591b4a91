"""The search interface every backend implements and every caller (API, CLI) uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from vitrina.errors import BadRequestError

SortOrder = Literal["relevance", "price_asc", "price_desc"]
SORT_ORDERS: tuple[str, ...] = ("relevance", "price_asc", "price_desc")
MAX_LIMIT = 1000
# 100k: deeper pages are scraping, not browsing; both backends refuse them the same way.
MAX_OFFSET = 100_000


@dataclass(frozen=True)
class SearchFilters:
    category: str | None = None
    brand: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class SearchHit:
    product_id: str
    score: float
    product: dict[str, Any]  # the stored product document (as in filtered-products)


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[SearchHit] = field(default_factory=list)


def distinct_names(hits: list[SearchHit]) -> list[dict[str, str]]:
    """The hits' product names, each once (its best hit's product_id), in the hits' order:
    what suggest-as-you-type lists."""
    seen: dict[str, dict[str, str]] = {}
    for hit in hits:
        name = str(hit.product.get("name") or "")
        if name and name not in seen:
            seen[name] = {"product_id": hit.product_id, "name": name}
    return list(seen.values())


# A stage that found fewer products than this is "thin": the next stage tops it up, below
# its products. One product a description happens to match in every word hid all the
# others («новогодняя елка»: the tinsel whose description says «украшения елки», none of the
# trees; «мясорубка для фарша»: the one grinder whose text says фарш; a sixth blind review).
THIN_STAGE = 3


def topped_up(thin: SearchPage, more: SearchPage, limit: int, offset: int) -> SearchPage:
    """The page at `offset` of a thin stage's products (all of them, first) followed by the
    next stage's (`more`, from its first product) that are not among them. The total
    counts a thin stage's product once when `more` has it on its page (else twice: by at
    most THIN_STAGE - 1)."""
    seen = {hit.product_id for hit in thin.hits}
    added = [hit for hit in more.hits if hit.product_id not in seen]
    also_there = len(more.hits) - len(added)  # the thin stage's products the next one found
    total = thin.total + max(0, more.total - also_there)
    return SearchPage(total=total, hits=[*thin.hits, *added][offset : offset + limit])


class SearchBackend(Protocol):
    """Upserts keyed by product_id, deletes on tombstones, queries with filters and sort."""

    def upsert(
        self, products: list[dict[str, Any]], sources: Sequence[bytes | None] | None = None
    ) -> None:
        """Replace each product's document. `sources`: the products' JSON as received, one
        per product (None: not at hand), when the caller has it (the indexer): a backend may
        store it as the product's copy instead of encoding the product again."""

    def delete(self, product_ids: list[str]) -> None: ...

    def commit(self) -> None:
        """Make every upsert/delete so far durable and visible."""

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        sort: SortOrder = "relevance",
        limit: int = 10,
        offset: int = 0,
        *,
        all_words: bool = False,
    ) -> SearchPage:
        """One page of results; `all_words`: only the products that have every word as
        search reads it (no "any word" or typo stage when none has)."""

    def get(self, product_id: str) -> dict[str, Any] | None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def check_request(filters: SearchFilters | None, sort: str, limit: int, offset: int) -> None:
    """Reject impossible requests with a clear BadRequestError (both backends share it)."""
    if sort not in SORT_ORDERS:
        raise BadRequestError(
            f"unknown sort {sort!r}", hint="use relevance, price_asc or price_desc"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequestError(f"limit {limit} is out of range", hint=f"use 1..{MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequestError(f"offset {offset} is out of range", hint=f"use 0..{MAX_OFFSET}")
    if filters is not None:
        lo, hi = filters.price_min, filters.price_max
        for name, value in (("price_min", lo), ("price_max", hi)):
            if value is not None and (value != value or value < 0):  # NaN or negative
                raise BadRequestError(
                    f"{name}={value} is not a valid price", hint="use a number ≥ 0"
                )
        if lo is not None and hi is not None and lo > hi:
            raise BadRequestError(
                f"price_min {lo} is above price_max {hi}", hint="swap them or drop one"
            )


def product_summary(product: dict[str, Any], score: float | None = None) -> dict[str, Any]:
    """The fields a results list shows; the rest is on the product page."""
    stock = product.get("stock") or {}
    summary = {
        "product_id": product.get("product_id"),
        "name": product.get("name"),
        "price": product.get("price"),
        "category": product.get("category"),
        "brand": product.get("brand"),
        "stock": stock or None,
        "in_stock": bool(stock.get("available", 0)),
    }
    if score is not None:
        summary["score"] = score
    return summary
