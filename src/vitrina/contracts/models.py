"""Typed message models: the source of truth for the JSON Schema files in ./schemas.

`vitrina contracts export` regenerates the schema files; a unit test fails when a file is out
of date, and the schema-evolution test fails when a change is incompatible with the last
committed version. Products are *open* (stores may add fields); our own messages are closed.

Versions: every schema file carries `x-version`. A change that narrows a contract must be
declared in `CHANGES` (with the reason it breaks no valid data), a widened pattern in
`PATTERN_WIDENINGS`; the evolution guard (tests/unit/test_contracts.py) accepts nothing else.
See docs/contracts.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from vitrina.domain.instants import INSTANT_PATTERN, MAX_EPOCH_S, parse_instant
from vitrina.domain.limits import (
    MAX_INT64,
    MAX_USER_ID_CHARS,
    PRODUCT_ID_PATTERN,
    SHOWN_PATTERN,
    USER_ID_PATTERN,
)

PRODUCT_ID = PRODUCT_ID_PATTERN
Scalar = str | int | float | bool | None

# v1 ids were digits only; v2 ids are ASCII tokens (SKUs like 85123A). Every v1 id is a v2 id.
# The ids of the next versions (product v3 …) are v2's without `.` and `..` (see CHANGES).
PRODUCT_ID_V1 = r"^[0-9]{1,32}$"
PRODUCT_ID_V2 = r"^[A-Za-z0-9._-]{1,64}$"
PATTERN_WIDENINGS: set[tuple[str, str]] = {
    (PRODUCT_ID_V1, PRODUCT_ID_V2),
    (PRODUCT_ID_V1, PRODUCT_ID_PATTERN),
}

VERSIONS: dict[str, int] = {
    "product": 5,
    "blocked_product": 5,
    "order": 5,
    "ban": 3,
    "client_event": 4,
    "client_query": 2,
    "recommendation": 3,
}

# Narrowings the guard accepts, per contract and version, each with why no valid record
# of the previous version is lost. Strings are the guard's own wording.
_INT64_STOCK = {
    f"stock|0.{field}: maximum narrowed (None → {MAX_INT64})": "stock above int64 never reached the lake (dead-lettered there) while the index "
    "showed it; now one rule refuses it at the door"
    for field in ("available", "reserved")
}
# Product v3 (and the contracts that name a product): an id is not `.` or `..`, a name and
# a category show at least one character.
_DOT_IDS = (
    "no URL could reach a product, ban or order line with the id `.` or `..` (browsers and "
    "HTTP clients resolve dot segments: /api/v1/products/.. is /api/v1/), so its page, its "
    "unban and its record in the API were out of reach; no store id is only dots"
)
_BLANK = (
    "a name or category of only spaces or invisible characters showed as blank in search, "
    "on the product page and in the statistics; no store catalogue has one"
)


def _id_changes(where: str) -> dict[str, str]:
    return {f"{where}: pattern changed ({PRODUCT_ID_V2} → {PRODUCT_ID_PATTERN})": _DOT_IDS}


# The name and category patterns as v3 and v4 had them (domain/limits.py writes today's).
VISIBLE_PATTERN_V3 = (
    r"[^\t\n\x0b\f\r \x85\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
)
SHOWN_PATTERN_V4 = (
    r"^[^\x00-\x1f\x7f-\x9f]*"
    r"[^\x00-\x20\x7f-\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
    r"[^\x00-\x1f\x7f-\x9f]*$"
)
_PRODUCT_V3 = {
    **_id_changes("product_id"),
    f"name: pattern changed (None → {VISIBLE_PATTERN_V3})": _BLANK,
    f"category: pattern changed (None → {VISIBLE_PATTERN_V3})": _BLANK,
}
# Product v4: a name and a category have no control character either.
_CONTROL_TEXT = (
    "a name or category with NUL, an escape or a newline printed as garbage on the page "
    "and broke the lines of logs and terminals (an ANSI escape could recolour an operator's "
    "terminal); no store catalogue and no generated product has one"
)


def _name_and_category(before: str, after: str, reason: str) -> dict[str, str]:
    """A new pattern on `name` and `category`, seen from the version before and, as one
    narrowing with every earlier one, from v1 and v2, which had no pattern."""
    return {
        change: why
        for field in ("name", "category")
        for change, why in (
            (f"{field}: pattern changed ({before} → {after})", reason),
            (f"{field}: pattern changed (None → {after})", f"{_BLANK}; {_CONTROL_TEXT}"),
        )
    }


_PRODUCT_V4 = _name_and_category(VISIBLE_PATTERN_V3, SHOWN_PATTERN_V4, _CONTROL_TEXT)
# Product v5: more characters that show nothing count as blank (limits.INVISIBLE).
_MORE_BLANK = (
    "a name or category of only Hangul fillers, the braille blank, variation selectors, "
    "the combining grapheme joiner, invisible operators or noncharacters was accepted and "
    "showed blank (a blind review); no store catalogue and no generated product has one"
)
_PRODUCT_V5 = _name_and_category(SHOWN_PATTERN_V4, SHOWN_PATTERN, _MORE_BLANK)
# Order v5, client_event v4, client_query v2: a customer id has no control character.
_CONTROL = (
    "an id with a newline, tab, NUL or escape broke every log line and terminal that printed "
    "it and could not be typed back into a URL or the CLI; no door ever issued one (the "
    "traffic generator's ids and a browser's are printable), only a hand-made request could"
)


def _user_id_change(where: str) -> dict[str, str]:
    return {f"{where}: pattern changed (None → {USER_ID_PATTERN})": _CONTROL}


CHANGES: dict[str, dict[int, dict[str, str]]] = {
    "product": {2: _INT64_STOCK, 3: _PRODUCT_V3, 4: _PRODUCT_V4, 5: _PRODUCT_V5},
    "blocked_product": {2: _INT64_STOCK, 3: _PRODUCT_V3, 4: _PRODUCT_V4, 5: _PRODUCT_V5},
    "ban": {3: _id_changes("product_id")},
    "client_event": {3: _id_changes("product_id"), 4: _user_id_change("user_id")},
    "client_query": {2: _user_id_change("user_id")},
    "recommendation": {3: _id_changes("items[items].product_id")},
    "order": {
        5: _user_id_change("customer_id"),
        4: _id_changes("items[items].product_id"),
        3: {
            "items[items].price: maximum narrowed (None → 1000000000000.0)": "an item price "
            "over 1e12 (a product's own price bound) × its quantity overflowed the analytics' "
            "money type: the order reached the lake and every analytics run after it failed, "
            "so no such order was ever used; now the lake sink dead-letters it with the rule"
        },
    },
}

_INSTANT_BRANCHES: list[dict[str, Any]] = [
    {"type": "string", "pattern": INSTANT_PATTERN},
    {"type": "number", "minimum": 0, "maximum": MAX_EPOCH_S},
]
_INSTANT_DOC = (
    "ISO 8601 (T or space; no zone = UTC; seconds 00..59) or epoch seconds; "
    "normalised to YYYY-MM-DDTHH:MM:SS[.ffffff]Z at the door"
)


def _instant(value: Any) -> Any:
    if value is not None:
        parse_instant(value)
    return value


Instant = Annotated[
    str | float,
    AfterValidator(_instant),
    WithJsonSchema({"anyOf": _INSTANT_BRANCHES, "description": _INSTANT_DOC}),
]
OptionalInstant = Annotated[
    str | float | None,
    AfterValidator(_instant),
    WithJsonSchema({"anyOf": [*_INSTANT_BRANCHES, {"type": "null"}], "description": _INSTANT_DOC}),
]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Closed):
    amount: float = Field(ge=0, le=1e12)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Stock(_Closed):
    available: int = Field(ge=0, le=MAX_INT64)
    reserved: int = Field(ge=0, le=MAX_INT64)


class Image(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: str = Field(max_length=2048)
    alt: str | None = Field(None, max_length=1000)


class Product(BaseModel):
    """A product as stores send it (format of ../shared/data/seed-catalogs)."""

    model_config = ConfigDict(extra="allow", title="product")

    product_id: str = Field(
        pattern=PRODUCT_ID,
        description="ASCII token: letters, digits, "
        "-_. (≤ 64); compared as text, so 00090002 ≠ 90002",
    )
    name: str = Field(min_length=1, max_length=500, pattern=SHOWN_PATTERN)
    description: str | None = Field(None, max_length=20000)
    price: Price
    category: str = Field(min_length=1, max_length=200, pattern=SHOWN_PATTERN)
    brand: str | None = Field(None, max_length=200)
    stock: Stock | None = None
    sku: str | None = Field(None, max_length=200)
    tags: list[str] | None = Field(None, max_length=100)
    images: list[Image] | None = Field(None, max_length=50)
    specifications: dict[str, Scalar] | None = None
    created_at: OptionalInstant = None
    updated_at: OptionalInstant = None
    index: str | None = Field(None, max_length=200)
    store_id: str | None = Field(None, max_length=200)


class Ban(_Closed):
    """A record of the ban list (`banned-products`); a tombstone (null value) is an unban."""

    model_config = ConfigDict(extra="forbid", title="ban")

    product_id: str = Field(pattern=PRODUCT_ID)
    reason: str = Field(min_length=1, max_length=1000)
    banned_by: str = Field(min_length=1, max_length=200)
    banned_at: datetime


class BanInfo(_Closed):
    reason: str
    banned_by: str
    banned_at: datetime


class BlockedProduct(Product):
    """Audit record in `blocked-products`: the product as sent, plus the ban that stopped it."""

    model_config = ConfigDict(extra="allow", title="blocked_product")

    ban: BanInfo


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    product_id: str = Field(pattern=PRODUCT_ID)
    quantity: int = Field(1, ge=1, le=100000)
    # ≤ 1e12, as a product's price.amount: a larger price × quantity overflows the
    # analytics' money type (DECIMAL(28, 6)) — one such order failed every run after it.
    price: float | None = Field(None, ge=0, le=1e12)


class Order(BaseModel):
    model_config = ConfigDict(extra="allow", title="order")

    order_id: str = Field(min_length=1, max_length=100)
    customer_id: str = Field(min_length=1, max_length=MAX_USER_ID_CHARS, pattern=USER_ID_PATTERN)
    items: list[OrderItem] = Field(min_length=1, max_length=1000)
    email: str | None = Field(None, max_length=320, description="personal data: hashed in the lake")
    order_date: Instant
    state: str = Field("created", max_length=50)
    timestamp: OptionalInstant = None


EventType = Literal["view", "add_to_cart", "purchase", "review"]


class ClientEvent(_Closed):
    model_config = ConfigDict(extra="forbid", title="client_event")

    event_id: str = Field(min_length=1, max_length=100)
    user_id: str = Field(min_length=1, max_length=MAX_USER_ID_CHARS, pattern=USER_ID_PATTERN)
    type: EventType
    product_id: str = Field(pattern=PRODUCT_ID)
    timestamp: datetime
    rating: int | None = Field(None, ge=1, le=5)
    text: str | None = Field(None, max_length=5000)


class ClientQuery(_Closed):
    model_config = ConfigDict(extra="forbid", title="client_query")

    query_id: str = Field(min_length=1, max_length=100)
    user_id: str = Field(min_length=1, max_length=MAX_USER_ID_CHARS, pattern=USER_ID_PATTERN)
    kind: Literal["search", "recommendation"]
    query: str = Field("", max_length=10000)
    filters: dict[str, Scalar] = Field(default_factory=dict)
    result_count: int = Field(ge=0)
    latency_ms: float = Field(ge=0)
    timestamp: datetime


class RecommendedItem(_Closed):
    product_id: str = Field(pattern=PRODUCT_ID)
    score: float
    reason: str = Field(max_length=300)


class Recommendation(_Closed):
    model_config = ConfigDict(extra="forbid", title="recommendation")

    user_id: str = Field(min_length=1, max_length=100)
    items: list[RecommendedItem] = Field(max_length=100)
    model: str
    generated_at: datetime


class CategoryStats(_Closed):
    model_config = ConfigDict(extra="forbid", title="category_stats")

    category: str
    products: int = Field(ge=0)
    min_price: float | None
    avg_price: float | None
    max_price: float | None
    stock_available: int = Field(ge=0)
    stock_reserved: int = Field(ge=0)
    orders: int = Field(ge=0)
    revenue: float = Field(ge=0)
    computed_at: datetime


CONTRACTS: dict[str, type[BaseModel]] = {
    "product": Product,
    "ban": Ban,
    "blocked_product": BlockedProduct,
    "order": Order,
    "client_event": ClientEvent,
    "client_query": ClientQuery,
    "recommendation": Recommendation,
    "category_stats": CategoryStats,
}
