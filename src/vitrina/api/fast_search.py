"""The hot route, GET /api/v1/search, answered before FastAPI's middleware, routing and
parameter machinery.

Profiled under wrk (20k products, one process), FastAPI's router, dependency solving and
per-parameter validation cost as much CPU as the search itself (~170 µs of ~510 µs per
request); with those skipped, the middleware stack around them (Starlette's error
middleware, FastAPI's own two layers, the metrics and body-limit layers, each an `await`
with its own `send` wrapper) was still ~19 % of a worker's main thread (100k products, wrk
at 32 connections). `ClientApp` is the client API's FastAPI app with one change: before
that stack, it answers a search request whose parameters are all in a strict, simple form
(plain decimals, `true`/`false`, each parameter once, no body) by calling the same
`search_response()` the FastAPI route calls, with the headers and metrics the stack's
`MeasureAndSecure` gives every response. Anything else — an unknown or repeated parameter,
a value out of range, a body, a failing index — goes through the whole stack to the FastAPI
route unchanged, so its validation, its 422/503 bodies and the OpenAPI schema stay the only
definition of the route's contract; the fast path only accepts inputs on which FastAPI would
give the same values.
"""

from __future__ import annotations

import binascii
import functools
import re
import time
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from vitrina import metrics
from vitrina.api.deps import AppState
from vitrina.domain.limits import MAX_USER_ID_CHARS, has_control
from vitrina.search.base import SearchFilters, SortOrder, product_summary
from vitrina.search.typed_filters import understood

PATH = "/api/v1/search"
MAX_QUERY_CHARS = 10_000  # the route's Query(max_length=...) limits, kept in one place
MAX_FILTER_CHARS = 200
MAX_USER_CHARS = MAX_USER_ID_CHARS
MAX_LIMIT = 100
MAX_OFFSET = 10_000
PRICE_MAX = 1e12
SORTS = frozenset({"relevance", "price_asc", "price_desc"})
# Forms on which pydantic's lax parsing and Python's agree exactly; others go to FastAPI.
_DECIMAL = re.compile(r"[0-9]{1,13}(\.[0-9]{1,6})?")
_INT = re.compile(r"0|[1-9][0-9]{0,4}")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_TEXT_LIMITS = {
    "q": MAX_QUERY_CHARS,
    "category": MAX_FILTER_CHARS,
    "brand": MAX_FILTER_CHARS,
    "user": MAX_USER_CHARS,
}
_KNOWN = frozenset({*_TEXT_LIMITS, "price_min", "price_max", "in_stock", "sort", "limit", "offset"})
API = "client"  # the metrics' `api` label of the client API
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_ESCAPED_RUN = re.compile(rb"(?:%[0-9A-Fa-f]{2})+")
# No inline scripts or styles, no third-party origins: product names come from stores.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
# On every response of the client API (services/client_api.py: MeasureAndSecure).
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
)
_JSON_HEADERS = [
    (b"content-type", b"application/json"),
    *((name.encode(), value.encode()) for name, value in SECURITY_HEADERS),
]


class SearchRequest(NamedTuple):
    """A search request's parameters after validation (the route's or the fast path's)."""

    q: str
    filters: SearchFilters
    sort: SortOrder
    limit: int
    offset: int
    user: str


def search_response(app: AppState, request: SearchRequest) -> bytes:
    """Search, hide banned hits (live ban list, per hit: no copy of the list), queue the
    query-log record (O(1)) and return the JSON body, built straight to bytes. A query that
    finds nothing is answered with what customers searched next when it found nothing for
    them (`refined`; analytics/refinements.py), if that finds something."""
    started = time.perf_counter()
    search = app.search()
    page = search.search(request.q, request.filters, request.sort, request.limit, request.offset)
    found = page.total  # by the query as typed: what the query log and its reports count
    refined = None
    if not found and app.refinements is not None and request.q.strip():
        refinement = app.refinements.of(request.q)
        if refinement is not None:
            # Every word of it in the products found, not any: the refinement's text is shown
            # to every customer who types the query, and customer ids are not proof of
            # anyone, so words no product has (a link, an insult) never reach the page.
            again = search.search(
                refinement.query,
                request.filters,
                request.sort,
                request.limit,
                request.offset,
                all_words=True,
            )
            if again.total:
                page = again
                refined = {"query": refinement.query, "customers": refinement.users}
    is_banned = app.view.is_banned
    items = [
        product_summary(hit.product, float(hit.score))
        for hit in page.hits
        if not is_banned(hit.product_id)
    ]
    total = max(0, page.total - (len(page.hits) - len(items)))
    latency_ms = (time.perf_counter() - started) * 1000
    logged = {
        **request.filters.as_dict(),
        "sort": request.sort,
        "limit": request.limit,
        "offset": request.offset,
    }
    if refined is not None:
        logged["refined_to"] = refined["query"][:MAX_FILTER_CHARS]
    app.producer.log_query(
        "search", request.user, request.q, logged, total if refined is None else 0, latency_ms
    )
    return orjson.dumps(
        {
            "total": total,
            "limit": request.limit,
            "offset": request.offset,
            "items": items,
            "latency_ms": round(latency_ms, 3),
            # how the query was read: a price, «в наличии», a price order said in words
            "understood": understood(request.q, request.filters, request.sort),
            # a query that found nothing, answered with what customers searched next
            "refined": refined,
        }
    )


def _price(text: str | None) -> float | bool | None:
    """A price bound; False when it is not in the plain form the fast path accepts."""
    if text is None:
        return None
    if not _DECIMAL.fullmatch(text):
        return False
    value = float(text)
    return value if value <= PRICE_MAX else False


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs Starlette's QueryParams read from these bytes (latin-1, then
    `parse_qsl` keeping blanks), with each run of %XX escapes turned into bytes in C:
    `urllib.parse.unquote` decodes escapes one at a time in Python, and was most of the
    parse of a Cyrillic query (~9 of ~23 µs). For ASCII (what `percent_encoded` leaves)
    `unquote` is exactly this: every valid escape a byte, the rest as is, then UTF-8 with
    replacement characters (tests/unit/test_api_fast_search.py compares them)."""
    if not query_string.isascii():
        return parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    pairs = []
    for field in query_string.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        pairs.append((_unquoted(name), _unquoted(value)))
    return pairs


def _unquoted(text: bytes) -> str:
    text = text.replace(b"+", b" ")
    if b"%" in text:
        text = _ESCAPED_RUN.sub(_escaped_bytes, text)
    return text.decode("utf-8", "replace")


def _escaped_bytes(run: re.Match[bytes]) -> bytes:
    return binascii.unhexlify(run[0].replace(b"%", b""))


def parse_search(query_string: bytes, user_header: str | None) -> SearchRequest | None:
    """The request's parameters when every one is in the strict form; None: let FastAPI
    decide (it may accept it, or answer 422 with its own message)."""
    pairs = query_pairs(query_string)
    params = dict(pairs)
    if len(params) != len(pairs) or not _KNOWN.issuperset(params):
        return None
    for name, limit in _TEXT_LIMITS.items():
        if len(params.get(name, "")) > limit:
            return None
    price_min, price_max = _price(params.get("price_min")), _price(params.get("price_max"))
    if price_min is False or price_max is False:
        return None
    in_stock: bool | None = None
    if "in_stock" in params:
        if params["in_stock"] not in _BOOLS:
            return None
        in_stock = _BOOLS[params["in_stock"]]
    sort = params.get("sort", "relevance")
    limit_text, offset_text = params.get("limit", "10"), params.get("offset", "0")
    if sort not in SORTS or not _INT.fullmatch(limit_text) or not _INT.fullmatch(offset_text):
        return None
    limit, offset = int(limit_text), int(offset_text)
    if not 1 <= limit <= MAX_LIMIT or offset > MAX_OFFSET:
        return None
    if user_header is not None and len(user_header) > MAX_USER_CHARS:
        return None
    if has_control(params.get("user", "")) or (user_header and has_control(user_header)):
        return None  # FastAPI answers 422, naming the parameter
    return SearchRequest(
        q=params.get("q", ""),
        filters=SearchFilters(
            category=params.get("category") or None,
            brand=params.get("brand") or None,
            price_min=price_min,
            price_max=price_max,
            in_stock=in_stock,
        ),
        sort=cast(SortOrder, sort),
        limit=limit,
        offset=offset,
        user=params.get("user") or user_header or "anonymous",
    )


def _user_header(scope: Scope) -> str | bool | None:
    """The X-User-Id header; False when a request carries a body or the header twice."""
    found: str | None = None
    for name, value in scope["headers"]:
        if name in (b"content-length", b"transfer-encoding"):
            return False
        if name == b"x-user-id":
            if found is not None:
                return False
            found = value.decode("latin-1")
    return found


def percent_encoded(query_string: bytes) -> bytes:
    """A query typed with its letters as they are (`curl '…/search?q=часы'` sends raw UTF-8;
    browsers percent-encode) read as the same query: both servers hand the bytes over as
    they came and Starlette decodes them as latin-1, so «часы» became mojibake and found
    nothing. Every byte above 0x7F is percent-encoded; the rest is left as it came."""
    return _NON_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], query_string)


@functools.cache
def _measured() -> tuple[Any, Any]:
    """The request counter and latency histogram of a fast-path answer, bound once (a
    `labels()` lookup each time cost more than the increment)."""
    return metrics.API_REQUESTS.labels(API, "GET", PATH, "200"), metrics.API_LATENCY.labels(
        API, PATH
    )


async def answer(app_state: AppState, scope: Scope, send: Send) -> bool:
    """Answer GET /api/v1/search in the strict form; False: not answered (nothing was sent),
    the whole stack and the FastAPI route take the request."""
    started = time.perf_counter()
    header = _user_header(scope)
    if header is False:
        return False
    query = scope["query_string"]
    if not query.isascii():
        query = percent_encoded(query)
    request = parse_search(query, header)  # type: ignore[arg-type]
    if request is None:
        return False
    try:
        body = search_response(app_state, request)
    except Exception:  # e.g. the index is away: the route answers with its error body
        return False
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
    finally:
        requests, latency = _measured()
        requests.inc()
        latency.observe(time.perf_counter() - started)
    return True


class ClientApp(FastAPI):
    """The client API's app: FastAPI, with plain-form searches answered before its stack."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "GET":
            app_state = getattr(self.state, "vitrina", None)
            if app_state is not None and await answer(app_state, scope, send):
                return
        await super().__call__(scope, receive, send)
