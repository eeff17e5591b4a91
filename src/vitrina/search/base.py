"""The search interface every backend implements and every caller (API, CLI) uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

SortOrder = Literal["relevance", "price_asc", "price_desc"]


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


class SearchBackend(Protocol):
    """Upserts keyed by product_id, deletes on tombstones, queries with filters and sort."""

    def upsert(self, products: list[dict[str, Any]]) -> None: ...

    def delete(self, product_ids: list[str]) -> None: ...

    def commit(self) -> None:
        """Make every upsert/delete so far durable and visible."""

    def search(self, query: str, filters: SearchFilters | None = None,
               sort: SortOrder = "relevance", limit: int = 10, offset: int = 0) -> SearchPage: ...

    def get(self, product_id: str) -> dict[str, Any] | None: ...

    def count(self) -> int: ...

    def close(self) -> None: ...
