"""SHOP API: stores POST their products (one object or a batch) with their own token.

A batch is all-or-nothing at validation: if any product is invalid, the 422 lists every bad
index, field and rule, and nothing is written. A 200 means the broker confirmed every product
(acks=all); when it does not confirm in time the answer is 503 and queued records are purged,
so nothing is reported accepted that was not written.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vitrina import metrics
from vitrina.contracts import validate
from vitrina.errors import (
    AuthError,
    BadRequestError,
    ContractError,
    UnavailableError,
    VitrinaError,
)
from vitrina.kafka.worker import make_producer
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


class InvalidBatch(VitrinaError):
    """Some products of a request are invalid; carries every error."""

    status_code = 422

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, hint="fix the listed products and send the request again")
        self.errors = errors


class ProductWriter:
    """Write a batch of already validated products and confirm every delivery (SHOP API).

    Raises UnavailableError when the broker does not confirm within `timeout`: the caller
    reports 503 and nothing of the batch is reported accepted.
    """

    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        self.topic = settings.topics.shop_products
        self.bootstrap = settings.kafka.bootstrap_servers
        self.producer = producer or make_producer(settings, "shop-api")

    def write(self, products: list[tuple[str, bytes]], timeout: float) -> None:
        outcome: list[KafkaError | None] = []

        def delivered(err: KafkaError | None, _msg: Message) -> None:
            outcome.append(err)

        for key, value in products:
            while True:
                try:
                    self.producer.produce(self.topic, value, key, on_delivery=delivered)
                    break
                except BufferError:
                    self.producer.poll(0.05)
        deadline = time.monotonic() + timeout
        while len(outcome) < len(products) and time.monotonic() < deadline:
            self.producer.flush(min(0.2, max(0.0, deadline - time.monotonic())))
        errors = [e for e in outcome if e is not None]
        if len(outcome) < len(products) or errors:
            # Drop what is still queued locally so a 503 does not turn into a late write.
            self.producer.purge(in_queue=True, in_flight=False, blocking=False)
            detail = errors[0] if errors else f"no confirmation within {timeout:.0f} s"
            raise UnavailableError(
                f"the broker at {self.bootstrap} did not confirm the write ({detail}); "
                f"{len(outcome) - len(errors)} of {len(products)} confirmed",
                hint="retry later; products are keyed by product_id, so sending again is safe")

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
        raise AuthError("missing Authorization: Bearer <token> header",
                        hint=f"use your store's token (see <data_dir>/secrets/{TOKENS_FILE})")
    given = authorization[7:].strip()
    for token, store in tokens.items():
        if hmac.compare_digest(given.encode(), token.encode()):
            return store
    raise AuthError("unknown token", hint="check the token of your store")


def check_batch(body: Any, store: str, max_batch: int) -> list[dict[str, Any]]:
    """Validate a request body (object or array) for `store`; raise with every problem."""
    products = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        raise BadRequestError("the array is empty", hint="send at least one product")
    if len(products) > max_batch:
        raise PayloadTooLarge(f"batch of {len(products)} products is over the limit of "
                              f"{max_batch}", hint=f"split it into batches of ≤ {max_batch}")
    errors: list[dict[str, Any]] = []
    foreign: list[int] = []
    for index, product in enumerate(products):
        if isinstance(product, dict):
            owner = product.setdefault("store_id", store)
            if owner != store:
                foreign.append(index)
                continue
        try:
            validate("product", product)
        except ContractError as exc:
            errors.append({"index": index, "field": exc.field, "rule": exc.rule,
                           "message": exc.message})
    if foreign:
        raise Forbidden(f"products at index {foreign[:20]} belong to another store; your "
                        f"token is for {store}; nothing of the batch was written",
                        hint="send only your own products or omit store_id")
    if errors:
        where = "; ".join(f"[{e['index']}] {e['field']}: {e['rule']}" for e in errors[:20])
        raise InvalidBatch(f"{len(errors)} of {len(products)} products are invalid ({where}); "
                           "nothing of the batch was written", errors)
    return products


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {int(declared):,} bytes is over the "
                              f"{limit:,}-byte limit", hint="send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body is over the {limit:,}-byte limit",
                                  hint="send smaller batches")
    return bytes(body)


def _reject_metric(exc: VitrinaError) -> None:
    if isinstance(exc, InvalidBatch):
        for err in exc.errors:
            metrics.SHOP_REJECTED.labels("api", err["rule"] or "invalid").inc()
    else:
        metrics.SHOP_REJECTED.labels("api", type(exc).__name__).inc()


def create_app(settings: Settings, writer: ProductWriter | None = None) -> FastAPI:
    """The SHOP API app; `writer` is created lazily (the app starts even if the broker is away)."""
    tokens = shop_tokens(settings)
    state: dict[str, ProductWriter] = {}
    if writer is not None:
        state["writer"] = writer

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if "writer" in state:  # deliver what is still in flight before exiting
            await run_in_threadpool(state["writer"].close)

    app = FastAPI(title="Vitrina SHOP API", lifespan=lifespan,
                  description="Stores send products to «Покупай выгодно».", version="1")

    def get_writer() -> ProductWriter:
        if "writer" not in state:
            state["writer"] = ProductWriter(settings)
        return state["writer"]

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.API_REQUESTS.labels(API, request.method, path, str(response.status_code)).inc()
        metrics.API_LATENCY.labels(API, path).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(VitrinaError)
    async def vitrina_error(_request: Request, exc: VitrinaError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.message, "hint": exc.hint}
        if isinstance(exc, InvalidBatch):
            body["errors"] = exc.errors
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if exc.status_code == 503:
            headers = {"Retry-After": "5"}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.post("/api/v1/products", summary="Send one product or a batch (JSON array)")
    async def post_products(request: Request) -> dict[str, Any]:
        try:
            store = store_for(request.headers.get("authorization"), tokens)
            raw = await _read_body(request, settings.api.max_body_bytes)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise BadRequestError(f"malformed JSON: {exc}",
                                      hint="send a product object or an array of them") from None
            products = check_batch(body, store, settings.api.max_batch)
        except VitrinaError as exc:
            _reject_metric(exc)
            raise
        records = [(p["product_id"], orjson.dumps(p)) for p in products]
        await run_in_threadpool(get_writer().write, records, WRITE_TIMEOUT_S)
        metrics.SHOP_ACCEPTED.labels("api").inc(len(records))
        return {"accepted": len(records), "store_id": store,
                "product_ids": [key for key, _ in records]}

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

    app = create_app(settings)
    log.info("SHOP API on http://%s:%d (tokens: %s)", settings.api.host,
             settings.ports.shop_api, settings.secrets_dir / TOKENS_FILE)
    uvicorn.run(app, host=settings.api.host, port=settings.ports.shop_api, log_level="warning")
