"""SHOP API: stores POST their products (one object or a batch) with their own token.

Every product passes the door (contracts/door.py: contract, depth, size, canonical instants)
and the owner rule (services/ownership.py: a product id belongs to the store that first
published it; another store gets 403). A batch is all-or-nothing: if any product is refused,
the answer lists every bad index, field and rule, and nothing is written. A 200 means the
broker confirmed every product (acks=all); when it does not confirm in time the answer is
503 and queued records are purged, so nothing is reported accepted that was not written.
Errors use the body shared with the client API (api/errors.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from itertools import islice
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from vitrina import metrics
from vitrina.api.docs import install_docs
from vitrina.api.errors import error_responses, install_error_handlers
from vitrina.contracts.door import admitted_product
from vitrina.contracts.models import Product
from vitrina.domain.catalog import (
    BOM,
    NOT_UTF8,
    is_utf16,
    malformed,
    parse_catalog,
    wrapped_products,
)
from vitrina.domain.limits import MAX_DEPTH
from vitrina.domain.product_shapes import (
    NOTHING_DECLARED,
    Declared,
    is_category,
    is_currency,
    store_shapes,
)
from vitrina.errors import (
    AuthError,
    BadRequestError,
    ContractError,
    UnavailableError,
    UnsupportedEncoding,
    VitrinaError,
)
from vitrina.kafka.produce import produce
from vitrina.kafka.worker import make_producer
from vitrina.services.ownership import Owners, OwnersView, owner_message
from vitrina.settings import Settings

log = logging.getLogger(__name__)

API = "shop"
STORES = [f"store_{i:03d}" for i in range(1, 6)]
TOKENS_FILE = "shop-tokens.json"
# 5 s: long enough for acks=all on a healthy cluster, short enough for a store's HTTP client.
WRITE_TIMEOUT_S = 5.0


class PayloadTooLarge(VitrinaError):
    status_code = 413


class Forbidden(VitrinaError):
    status_code = 403


class RequestTimeout(VitrinaError):
    status_code = 408


class InvalidBatch(VitrinaError):
    """Some products of a request are invalid; carries every error."""

    status_code = 422

    def __init__(
        self,
        message: str,
        errors: list[dict[str, Any]],
        hint: str = "fix the listed products and send the request again",
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = errors


class NotYours(InvalidBatch):
    """Some products of a request belong to another store (rule: owner)."""

    status_code = 403


class ProductWriter:
    """Write a batch of already validated products and confirm every delivery (SHOP API).

    Raises UnavailableError when the broker does not confirm within `timeout`: the caller
    reports 503 and nothing of the batch is reported accepted.
    """

    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        self.topic = settings.topics.shop_products
        self.owners_topic = settings.topics.product_owners
        self.bootstrap = settings.kafka.bootstrap_servers
        self.producer = producer or make_producer(settings, "shop-api")

    def write(
        self,
        products: list[tuple[str, bytes]],
        timeout: float,
        claims: list[tuple[str, str]] | None = None,
    ) -> None:
        """Write ownership `claims` (product_id, store) and, once the broker has acknowledged
        them, `products`; wait for every ack. A product is never published before its claim:
        an API killed in between leaves claims without products, never the reverse."""
        deadline = time.monotonic() + timeout
        if claims:
            self._send(
                [(self.owners_topic, key, store.encode()) for key, store in claims],
                deadline,
                timeout,
                "the ownership claims; no product of the batch was written",
            )
        self._send([(self.topic, key, value) for key, value in products], deadline, timeout)

    def _send(
        self,
        records: list[tuple[str, str, bytes]],
        deadline: float,
        timeout: float,
        what: str = "the write",
    ) -> None:
        outcome: list[KafkaError | None] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            outcome.append(err)

        for topic, key, value in records:
            produce(self.producer, topic, value, key, on_delivery=delivered)
        while len(outcome) < len(records) and time.monotonic() < deadline:
            self.producer.flush(min(0.2, max(0.0, deadline - time.monotonic())))
        errors = [e for e in outcome if e is not None]
        if len(outcome) < len(records) or errors:
            # Drop what is still queued locally so a 503 does not turn into a late write.
            self.producer.purge(in_queue=True, in_flight=False, blocking=False)
            detail = errors[0] if errors else f"no confirmation within {timeout:.0f} s"
            raise UnavailableError(
                f"the broker at {self.bootstrap} did not confirm {what} ({detail}); "
                f"{len(outcome) - len(errors)} of {len(records)} confirmed",
                hint="retry later; products are keyed by product_id, so sending again is safe",
            )

    def close(self) -> None:
        self.producer.flush(5)


def shop_tokens(settings: Settings) -> dict[str, str]:
    """token -> store_id, from settings or from `<data_dir>/secrets/shop-tokens.json`.

    The file is generated (mode 0600, never committed) for store_001..store_005 on first use.
    """
    if settings.api.shop_tokens:
        return {t.get_secret_value(): store for store, t in settings.api.shop_tokens.items()}
    path = settings.secrets_dir / TOKENS_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tokens = {store: secrets.token_urlsafe(24) for store in STORES}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(tokens, option=orjson.OPT_INDENT_2))
        except FileExistsError:
            pass  # another process generated it first: read theirs
    by_store = orjson.loads(path.read_bytes())
    return {token: store for store, token in by_store.items()}


def store_for(authorization: str | None, tokens: dict[str, str]) -> str:
    """The store a `Bearer` token belongs to; AuthError (401) otherwise."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError(
            "missing Authorization: Bearer <token> header",
            hint=f"use your store's token (see <data_dir>/secrets/{TOKENS_FILE})",
        )
    given = authorization[7:].strip()
    for token, store in tokens.items():
        if hmac.compare_digest(given.encode(), token.encode()):
            return store
    raise AuthError("unknown token", hint="check the token of your store")


def check_batch(
    body: Any, store: str, max_batch: int, declared: Declared = NOTHING_DECLARED
) -> list[tuple[str, bytes]]:
    """Admit a request body (object or array) for `store`: (product_id, bytes) per product.

    `declared`: what the request declared for products that do not say it (`?currency=`,
    `?category=`).

    Raises with every problem: 403 for products naming another store, 422 for products the
    door refuses (contract, depth, size — each error names its rule).
    """
    wrapped = None if isinstance(body, list) else wrapped_products(body)
    products = body if isinstance(body, list) else [body] if wrapped is None else wrapped
    if not products:  # [] or {"products": []}
        raise BadRequestError("the list of products is empty", hint="send at least one product")
    if len(products) > max_batch:
        raise PayloadTooLarge(
            f"batch of {len(products)} products is over the limit of {max_batch}",
            hint=f"split it into batches of ≤ {max_batch}",
        )
    errors: list[dict[str, Any]] = []
    foreign: list[int] = []
    admitted: list[tuple[str, bytes]] = []
    for index, product in enumerate(products):
        if isinstance(product, dict):
            product = store_shapes(product, declared) or product  # `storeId`: the store too
            owner = product.get("store_id")
            if owner is None:  # omitted or null (the contract's "no store"): the token's
                product["store_id"] = store
            elif isinstance(owner, str) and owner != store:
                foreign.append(index)
                continue
            # A store_id that is no text is the contract's to refuse (422, rule type).
        try:
            # First: `product` may not be an object.
            value, out = admitted_product(product, declared=declared)
            admitted.append((value["product_id"], out))
        except ContractError as exc:
            error = {"index": index, "field": exc.field, "rule": exc.rule, "message": exc.message}
            if exc.hint:
                error["hint"] = exc.hint
            errors.append(error)
    if foreign:
        raise Forbidden(
            f"products at index {foreign[:20]} name another store in store_id; "
            f"your token is for {store}; nothing of the batch was written",
            hint="send only your own products or omit store_id",
        )
    if errors:
        where = "; ".join(f"[{e['index']}] {e['field']}: {e['rule']}" for e in errors[:20])
        # One fix for every product (a bare price's currency, say) is the batch's hint.
        hints = {e.get("hint") for e in errors}
        hint = hints.pop() if len(hints) == 1 else None
        raise InvalidBatch(
            f"{len(errors)} of {len(products)} products are invalid ({where}); "
            "nothing of the batch was written",
            errors,
            *([f"fix the listed products and send the request again: {hint}"] if hint else []),
        )
    return admitted


def declared_currency(values: list[str]) -> str | None:
    """The `?currency=` of a request: the currency of its prices that name none."""
    return _declared_once(
        "currency", values, is_currency, "three capital letters (ISO 4217): ?currency=RUB"
    )


def strict_query(query_string: bytes) -> dict[str, list[str]]:
    """The query's parameters, read as UTF-8 strictly: `?category=%ff%fe` was stored as the
    category "��" (Starlette reads a byte that is no UTF-8 as U+FFFD; a blind review)."""
    try:
        pairs = urllib.parse.parse_qsl(
            query_string.decode("latin-1"), keep_blank_values=True, errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"the query string is not UTF-8 once unescaped: {exc.reason} (rule: encoding)",
            hint="percent-encode the UTF-8 bytes of the text: ?category=%D0%9E%D0%B4…",
        ) from None
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def declared_category(values: list[str]) -> str | None:
    """The `?category=` of a request: the category of its products that name none."""
    return _declared_once(
        "category", values, is_category, "visible text of at most 200 characters: ?category=Одежда"
    )


def _declared_once(
    name: str, values: list[str], valid: Callable[[str], bool], form: str
) -> str | None:
    """A query parameter a request declares at most once, in its valid form."""
    if not values:
        return None
    if len(values) > 1 or not valid(values[0]):
        raise BadRequestError(
            f"{name}={values[-1][:60]!r} is not a {name}"
            if len(values) == 1
            else f"{name} is given more than once",
            hint=f"give it once, as {form}",
        )
    return values[0]


def claim_batch(
    owners: Owners, admitted: list[tuple[str, bytes]], store: str
) -> list[tuple[str, str]]:
    """The new ownership claims of a batch; NotYours (403, rule owner) if any id is taken."""
    new, conflicts = owners.claim_all([(product_id, store) for product_id, _ in admitted])
    if conflicts:
        index = {product_id: i for i, (product_id, _) in enumerate(admitted)}
        errors = [
            {
                "index": index[pid],
                "field": "product_id",
                "rule": "owner",
                "message": owner_message(pid, owner, store),
            }
            for pid, owner, store in conflicts
        ]
        where = "; ".join(
            f"[{e['index']}] {pid} → {owner}"
            for e, (pid, owner, _) in zip(errors[:20], conflicts, strict=False)
        )
        raise NotYours(
            f"{len(conflicts)} of {len(admitted)} products belong to another store "
            f"({where}; rule: owner — a product id belongs to the store that first "
            "published it); nothing of the batch was written",
            errors,
            hint="use product ids of your own store",
        )
    return new


def parse_body(raw: bytes, max_records: int | None = None) -> Any:
    """The products of a body: a JSON value, or JSON Lines (objects one after another) of
    at most `max_records` records, read no further (413 past them)."""
    if raw.startswith(BOM):  # as `shop load` reads a file: Windows tools write one
        raw = raw[len(BOM) :]
    if is_utf16(raw):
        raise BadRequestError(
            f"the body is not UTF-8: {NOT_UTF8}", hint="send the body encoded as UTF-8"
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise ContractError(
                f"the body nests deeper than {MAX_DEPTH} levels (rule: depth)",
                field="(root)",
                rule="depth",
                hint=f"flatten products to at most {MAX_DEPTH} levels",
            ) from None
        several = several_products(raw, max_records)
        if several is not None:
            return several
        raise BadRequestError(
            malformed(raw, exc)[0],
            hint="send a product object, an array of them, or JSON Lines (one product a line)",
        ) from None


def several_products(raw: bytes, max_records: int | None = None) -> list[Any] | None:
    """A body of two or more objects, one a line (JSON Lines) or one after another, read as
    `shop load` reads such a file (domain/catalog.parse_catalog): the products, or None when
    the body is not of those shapes. All or nothing, like a batch: one record that is not
    JSON refuses the body, naming it. Records are read up to one past `max_records`: a body
    of 4M broken lines was read to its end, 13 s of the event loop (a blind review)."""
    start = raw.lstrip(b" \t\r\n")[:1]
    if start != b"{":
        return None
    # No record size limit here: a product over it is the door's refusal (422, rule size),
    # as in an array, not a record that is "not valid JSON".
    catalog = parse_catalog(raw, max_bytes=len(raw) + 1, max_record_bytes=len(raw) + 1)
    if catalog.shape not in ("jsonl", "objects"):
        return None
    records = list(islice(catalog.records, None if max_records is None else max_records + 1))
    broken = [r for r in records if not r.ok]
    if len(records) < 2 or len(broken) == len(records):
        return None  # one value, or nothing that parses: the plain "malformed JSON" says it
    if max_records is not None and len(records) > max_records:
        raise PayloadTooLarge(
            f"the body holds more than {max_records} products (the batch limit)",
            hint=f"split it into batches of ≤ {max_records}",
        )
    if broken:
        where = "; ".join(f"{r.where}: {r.error}" for r in broken[:5])
        raise BadRequestError(
            f"{len(broken)} of {len(records)} records are not valid JSON ({where}); "
            "nothing of the batch was written",
            hint="fix those records, or send a JSON array",
        )
    return [r.value for r in records]


async def _read_body(request: Request, limit: int, idle_s: float) -> bytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        # Not decompressed here: a compressed body's size says nothing of what it holds.
        raise UnsupportedEncoding(
            f"Content-Encoding {encoding[:40]!r} is not accepted: the body must be plain JSON",
            hint="send the body uncompressed (batches of ≤ api.max_batch products)",
        )
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        # `curl -F file=@catalog.json`: the body is the form's envelope, not the catalogue;
        # read as JSON it was refused as "malformed JSON: no digit after sign". Any other
        # type is read as JSON (`curl -d` says application/x-www-form-urlencoded).
        raise UnsupportedEncoding(
            "a form upload (multipart/form-data) is not accepted: the body must be the "
            "catalogue itself, JSON",
            hint="send the file as the body: curl --data-binary @catalog.json "
            "-H 'Content-Type: application/json' …",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdecimal() and int(declared) > limit:
        raise PayloadTooLarge(
            f"request body of {int(declared):,} bytes is over the {limit:,}-byte limit",
            hint="send smaller batches",
        )
    body = bytearray()
    chunks = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(idle_s):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return bytes(body)
        except TimeoutError:
            raise RequestTimeout(
                f"the request body stopped arriving for {idle_s:g} s ({len(body):,} bytes read)",
                hint="send the whole body at once (api.body_timeout_s)",
            ) from None
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(
                f"request body is over the {limit:,}-byte limit", hint="send smaller batches"
            )


def _reject_metric(exc: VitrinaError) -> None:
    if isinstance(exc, InvalidBatch):
        for err in exc.errors:
            metrics.SHOP_REJECTED.labels("api", err["rule"] or "invalid").inc()
    else:
        metrics.SHOP_REJECTED.labels("api", type(exc).__name__).inc()


class Accepted(BaseModel):
    accepted: int
    store_id: str
    product_ids: list[str]


# The request body, documented from the product contract (the handler reads raw bytes: the
# door, not FastAPI, validates it, so errors name the contract's rules).
def _request_body(max_batch: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Product"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            ref,
                            {"type": "array", "items": ref, "minItems": 1, "maxItems": max_batch},
                        ]
                    }
                }
            },
            "description": "one product or a JSON array of products (the `product` contract); "
            "also JSON Lines (one product a line) and objects one after another, as "
            "`vitrina shop load` reads them",
        },
        "parameters": [
            {
                "name": "currency",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": "^[A-Z]{3}$", "example": "RUB"},
                "description": "the currency of the batch's prices that name none (a bare "
                "`price`, or one without `currency`); a price that names its own keeps it",
            },
            {
                "name": "category",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "example": "Одежда",
                "description": "the category of the batch's products that name none (no "
                "`category`, or null); a product that names its own keeps it",
            },
        ],
        "security": [{"StoreToken": []}],
    }


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    product = Product.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(product.pop("$defs", {}))
    schemas["Product"] = product
    spec["components"]["securitySchemes"] = {
        "StoreToken": {
            "type": "http",
            "scheme": "bearer",
            "description": f"your store's token (generated into <data_dir>/secrets/{TOKENS_FILE})",
        }
    }
    app.openapi_schema = spec
    return spec


# 5 s: the ownership view reads product-owners to its end at start; a request waits that long.
OWNERS_WAIT_S = 5.0


def create_app(settings: Settings, writer: ProductWriter | None = None) -> FastAPI:
    """The SHOP API app; `writer` is created lazily (the app starts even if the broker is away)."""
    tokens = shop_tokens(settings)
    state: dict[str, Any] = {}
    if writer is not None:
        state["writer"] = writer

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state["owners"] = OwnersView(settings).start()
        yield
        state["owners"].stop()
        if "writer" in state:  # deliver what is still in flight before exiting
            await run_in_threadpool(state["writer"].close)

    app = FastAPI(
        title="Vitrina SHOP API",
        lifespan=lifespan,
        description="Stores send products to «Покупай выгодно». Authenticate with "
        "your store's bearer token; errors share one body "
        '(`{"error": {status, message, hint, errors?}}`).',
        version="2",
        docs_url=None,  # api/docs.py: served without a CDN
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    def get_writer() -> ProductWriter:
        if "writer" not in state:
            state["writer"] = ProductWriter(settings)
        writer_: ProductWriter = state["writer"]
        return writer_

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.API_REQUESTS.labels(API, request.method, path, str(response.status_code)).inc()
        metrics.API_LATENCY.labels(API, path).observe(time.perf_counter() - started)
        return response

    @app.post(
        "/api/v1/products",
        summary="Send one product or a batch (JSON array)",
        response_model=Accepted,
        openapi_extra=_request_body(settings.api.max_batch),
        responses=error_responses(400, 401, 403, 408, 413, 415, 422, 503),
    )
    async def post_products(request: Request) -> Accepted:
        """All or nothing: 200 only when the broker confirmed every product of the batch."""
        try:
            store = store_for(request.headers.get("authorization"), tokens)
            raw = await _read_body(
                request, settings.api.max_body_bytes, settings.api.body_timeout_s
            )
            query = strict_query(request.scope["query_string"])
            declared = Declared(
                currency=declared_currency(query.get("currency", [])),
                category=declared_category(query.get("category", [])),
            )
            # In a thread: a body of megabytes held the event loop, and every store's
            # requests and /healthz with it, for seconds (a blind review)
            admitted = await run_in_threadpool(
                lambda: check_batch(
                    parse_body(raw, settings.api.max_batch), store, settings.api.max_batch, declared
                )
            )
            owners = await run_in_threadpool(state["owners"].ready, OWNERS_WAIT_S)
            claims = claim_batch(owners, admitted, store)
        except VitrinaError as exc:
            _reject_metric(exc)
            raise
        try:
            await run_in_threadpool(get_writer().write, admitted, WRITE_TIMEOUT_S, claims)
        except VitrinaError:
            owners.release(claims)
            raise
        metrics.SHOP_ACCEPTED.labels("api").inc(len(admitted))
        return Accepted(
            accepted=len(admitted), store_id=store, product_ids=[key for key, _ in admitted]
        )

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "shop-api"}

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def main(settings: Settings) -> None:
    """`vitrina run shop-api`: serve on settings.api.host : settings.ports.shop_api."""
    import uvicorn

    from vitrina.api.http_protocol import with_header_timeout

    app = create_app(settings)
    log.info(
        "SHOP API on http://%s:%d (tokens: %s)",
        settings.api.host,
        settings.ports.shop_api,
        settings.secrets_dir / TOKENS_FILE,
    )
    uvicorn.run(
        app,
        host=settings.api.host,
        port=settings.ports.shop_api,
        log_level="warning",
        http=with_header_timeout(settings.api.header_timeout_s),  # slowloris
    )
