"""Customer routes: search, product page, recommendations, events, category statistics.

Banned products are hidden here too (re-checked against the live ban list), so a ban takes
effect at the API at once, even before the filter and the indexer have withdrawn the
product from the index.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.convertors import Convertor, register_url_convertor

from vitrina.api.deps import AppState, event_limiter, state, stock_available
from vitrina.api.errors import error_responses
from vitrina.api.fast_search import (
    MAX_FILTER_CHARS,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_USER_CHARS,
    PRICE_MAX,
    SearchRequest,
    search_response,
)
from vitrina.contracts.models import PRODUCT_ID, Product
from vitrina.domain.limits import (
    NO_CONTROL_PATTERN,
    PRODUCT_ID_CHARS,
    USER_ID_PATTERN,
    is_blank,
    is_product_id,
)
from vitrina.domain.recommend import POPULAR_USER
from vitrina.errors import NotFoundError, UnsupportedEncoding
from vitrina.search.base import SearchFilters, product_summary
from vitrina.search.completion import suggestions
from vitrina.services.recs_view import serve_recommendations

# Every customer route may answer 422 (a parameter out of range) or 503 (index away).
router = APIRouter(prefix="/api/v1", responses=error_responses(422, 503))

UserParam = Annotated[
    str | None,
    Query(
        max_length=MAX_USER_CHARS,
        pattern=NO_CONTROL_PATTERN,
        description="customer id for the log (no control characters)",
    ),
]
UserHeader = Annotated[
    str | None, Header(alias="X-User-Id", max_length=MAX_USER_CHARS, pattern=NO_CONTROL_PATTERN)
]


def json_response(body: dict[str, Any]) -> Response:
    """orjson straight to bytes: no jsonable_encoder walk, no response-model re-validation
    (the hot routes' bodies are built here, to the response model's shape)."""
    return Response(orjson.dumps(body), media_type="application/json")


class BanCheck(Mapping[str, Any]):
    """The live ban list as a read-only Mapping for `in` tests, without copying it."""

    def __init__(self, app: AppState) -> None:
        self._is_banned = app.view.is_banned

    def __contains__(self, product_id: object) -> bool:
        return isinstance(product_id, str) and self._is_banned(product_id)

    def __getitem__(self, product_id: str) -> Any:
        if product_id in self:
            return True
        raise KeyError(product_id)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("BanCheck answers `in` only; use app.view.bans() for the whole list")

    def __len__(self) -> int:
        raise TypeError("BanCheck answers `in` only; use app.view.bans() for the whole list")


class SearchResult(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]
    latency_ms: float
    understood: dict[str, Any] | None = Field(
        None,
        description="What the query typed besides words, as the search read it: the words "
        "looked for (q) and price_min, price_max, in_stock or sort (самый дешевый → "
        "price_asc); null when it typed none of them.",
        examples=[{"q": "наушники", "price_max": 5000.0}],
    )
    refined: dict[str, Any] | None = Field(
        None,
        description="The query found nothing, and these are the results of what customers "
        "searched next when it found nothing for them (learned by `analytics run` from the "
        "query log: search_refinements; 2+ customers within 5 minutes); null otherwise.",
        examples=[{"query": "мантоварка", "customers": 12}],
    )


@router.get(
    "/search", response_model=SearchResult, tags=["customer"], responses=error_responses(400)
)
async def search(
    app: Annotated[AppState, Depends(state)],
    # Longer queries are refused (422), not truncated silently.
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="search text")] = "",
    category: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    brand: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    price_min: Annotated[float | None, Query(ge=0, le=PRICE_MAX, allow_inf_nan=False)] = None,
    price_max: Annotated[float | None, Query(ge=0, le=PRICE_MAX, allow_inf_nan=False)] = None,
    in_stock: bool | None = None,
    sort: Literal["relevance", "price_asc", "price_desc"] = "relevance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    user: UserParam = None,
    x_user_id: UserHeader = None,
) -> Response:
    # Requests in the plain form never get here: api/fast_search.py answers them with the
    # same search_response(), after the same limits (its constants are the ones used here).
    request = SearchRequest(
        q=q,
        filters=SearchFilters(
            category=category or None,
            brand=brand or None,
            price_min=price_min,
            price_max=price_max,
            in_stock=in_stock,
        ),
        sort=sort,
        limit=limit,
        offset=offset,
        user=user or x_user_id or "anonymous",
    )
    return Response(search_response(app, request), media_type="application/json")


def _check_product_id(product_id: str) -> None:
    """404 for a path that cannot name a product (the product page and its neighbours)."""
    if not is_product_id(product_id):
        raise NotFoundError(
            f"no product {product_id[:40]!r}",
            hint=f"product ids are {PRODUCT_ID_CHARS}; e.g. /api/v1/products/12345",
        )


@router.get("/products/{product_id}", tags=["customer"], responses=error_responses(404))
def product(
    app: Annotated[AppState, Depends(state)], product_id: Annotated[str, Path(max_length=64)]
) -> dict[str, Any]:
    """One product: the contract's fields, `in_stock`, and under `extra` any other field
    its store sent."""
    _check_product_id(product_id)
    doc = None if app.view.is_banned(product_id) else app.search().get(product_id)
    if doc is None:
        raise NotFoundError(
            f"product {product_id} is not available",
            hint="it may be unknown, banned or not indexed yet",
        )
    return product_record(doc)


# The fields the product contract names; whatever else a store sent is kept, under "extra"
PRODUCT_FIELDS = frozenset(Product.model_fields)


def product_record(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A product as the API serves it: the contract's fields, `in_stock` (the platform's
    word, from `stock`), and the fields a store invented under `extra`. A store's own
    `banned`, `score` or `in_stock` beside them read as the platform's (a review, A11)."""
    body = {key: value for key, value in doc.items() if key in PRODUCT_FIELDS}
    extra = {key: value for key, value in doc.items() if key not in PRODUCT_FIELDS}
    body["in_stock"] = bool((doc.get("stock") or {}).get("available", 0))
    if extra:
        body["extra"] = extra
    return body


class RecommendationsOut(BaseModel):
    user_id: str
    source: str
    model: str | None
    generated_at: str | None
    items: list[dict[str, Any]]


class _AnyText(Convertor[str]):
    """A path parameter of any text, "/" and line breaks too (Starlette's `path` stops at a
    line break, so such an id got 404 instead of the 422 that names it)."""

    regex = "(?s:.+)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("any_text", _AnyText())


# A customer id may hold "/" (order v5 allows it, and the job makes lists for such ids);
# sent as %2F it reached no route (a blind review). "." and ".." are sent as %2E.
@router.get(
    "/recommendations/{user_id:any_text}", response_model=RecommendationsOut, tags=["customer"]
)
def recommendations(
    app: Annotated[AppState, Depends(state)],
    user_id: Annotated[str, Path(min_length=1, max_length=MAX_USER_CHARS, pattern=USER_ID_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    started = time.perf_counter()
    backend = app.search()
    docs: dict[str, dict[str, Any] | None] = {}  # one index lookup per item

    def stock_of(product_id: str) -> int | None:
        if product_id not in docs:
            docs[product_id] = backend.get(product_id)
        return stock_available(docs[product_id])

    served = serve_recommendations(
        user_id,
        app.view.recommendation(user_id),
        app.view.recommendation(POPULAR_USER),
        BanCheck(app),
        stock_of,
        app.top_in_stock,
        limit,
    )
    items = []
    for item in served.items:
        pid = item["product_id"]
        doc = docs[pid] if pid in docs else backend.get(pid)
        items.append({**item, "product": product_summary(doc) if doc else None})
    app.producer.log_query(
        "recommendation",
        user_id,
        "",
        {"source": served.source, "limit": limit},
        len(items),
        (time.perf_counter() - started) * 1000,
    )
    generated = served.generated_at
    return json_response(
        {
            "user_id": user_id,
            "source": served.source,
            "model": served.model,
            "generated_at": str(generated) if generated else None,
            "items": items,
        }
    )


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


class EventIn(BaseModel):
    """A customer action; the API adds event_id and timestamp.

    Purchases are not events: they come from orders (the `orders` topic), so an anonymous
    client cannot make a product popular by posting purchases.
    """

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=MAX_USER_CHARS, pattern=USER_ID_PATTERN)
    type: Literal["view", "add_to_cart", "review"]
    product_id: str = Field(pattern=PRODUCT_ID)
    # strict: `true` and "5" were taken as ratings 1 and 5 (a blind review, A7)
    rating: int | None = Field(None, ge=1, le=5, strict=True)
    text: str | None = Field(None, max_length=5000)

    @field_validator("user_id")
    @classmethod
    def _shown_user(cls, value: str) -> str:
        # " " or "\u202eadmin" (a direction override: shown as "nimda") named a customer
        # no one can see or type back (a blind review, A7).
        if is_blank(value):
            raise ValueError("a user id must show something, not only white space")
        if _BIDI_CONTROL.search(value):
            raise ValueError("a user id may not hold direction controls (U+202A-202E, U+2066-2069)")
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _no_purchases(cls, value: object) -> object:
        if value == "purchase":
            raise ValueError("purchases come from orders (the orders topic), not from events")
        return value


class EventAccepted(BaseModel):
    event_id: str
    status: str = "stored"


@router.post(
    "/events",
    status_code=202,
    response_model=EventAccepted,
    tags=["customer"],
    responses=error_responses(413, 415, 429),
)
def post_event(
    app: Annotated[AppState, Depends(state)], event: EventIn, request: Request
) -> EventAccepted:
    """Store one customer action; at most api.events_per_second per client (429 beyond)."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":  # a plain body that said gzip was taken (a blind review, A7)
        raise UnsupportedEncoding(
            f"Content-Encoding {encoding[:40]!r} is not accepted: the body must be plain JSON",
            hint="send the event uncompressed",
        )
    if app.event_limiter is None:
        app.event_limiter = event_limiter(app.settings)
    app.event_limiter.check(request.client.host if request.client else "unknown")
    record = {
        "event_id": uuid.uuid4().hex,
        **event.model_dump(exclude_none=True),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    app.producer.publish_event(record)
    return EventAccepted(event_id=record["event_id"])


@router.get("/analytics/categories", tags=["customer"])
def categories(app: Annotated[AppState, Depends(state)]) -> dict[str, Any]:
    rows = app.view.categories()
    return {"categories": rows, "loaded": app.view.loaded.is_set()}


class SuggestOut(BaseModel):
    query: str
    suggestions: list[dict[str, str]]


@router.get("/suggest", response_model=SuggestOut, tags=["customer"])
def suggest(
    app: Annotated[AppState, Depends(state)],
    q: Annotated[str, Query(max_length=200, description="text typed so far")] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> SuggestOut:
    """Completions as the customer types (product names; banned products never shown)."""
    found = suggestions(app.search(), q, limit + 5)
    shown = [s for s in found if not app.view.is_banned(s["product_id"])][:limit]
    return SuggestOut(query=q, suggestions=shown)


class NeighboursOut(BaseModel):
    product_id: str
    run_id: str | None
    similar: list[dict[str, Any]]
    also_bought: list[dict[str, Any]]


@router.get(
    "/products/{product_id}/similar",
    response_model=NeighboursOut,
    tags=["customer"],
    responses=error_responses(404),
)
def similar_products(
    app: Annotated[AppState, Depends(state)],
    product_id: Annotated[str, Path(max_length=64)],
    limit: Annotated[int, Query(ge=1, le=50)] = 6,
) -> NeighboursOut:
    """ "Similar products" (same category) and "customers also bought" (other categories):
    the recommender's item neighbours from the last analytics run, bans and stock re-checked."""
    from vitrina.analytics.neighbours import item_neighbours, neighbour_lists

    _check_product_id(product_id)
    reader = app.neighbours or item_neighbours(app.settings)  # followed since start-up
    run_id, of_product = reader.lists(product_id)
    found = neighbour_lists(of_product, hidden=app.view.is_banned, limit=limit * 2)
    backend = app.search()
    lists: dict[str, list[dict[str, Any]]] = {}
    for kind, items in found.items():
        docs = ((backend.get(pid), score) for pid, score in items)
        lists[kind] = [
            product_summary(doc, score)
            for doc, score in docs
            if doc and (doc.get("stock") or {}).get("available", 0)
        ][:limit]
    return NeighboursOut(product_id=product_id, run_id=run_id, **lists)
