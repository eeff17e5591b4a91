"""The client API: search, recommendations, events, the web page and the operator view.

`vitrina run client-api` serves it with granian (services/client_api_granian.py) or uvicorn
(api.client_server) on settings.api.host:ports.client_api, which also serves
/metrics. Errors use the body shared with the SHOP API (api/errors.py):
``{"error": {"status", "message", "hint"}}``; nothing a client sends produces a 500. Request
bodies over api.client_max_body_bytes are refused (413) before they are read into memory,
and events are rate-limited per client (429, api/limits.py).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina import metrics
from vitrina.api import admin, alerts, routes
from vitrina.api.deps import AppState, build_state
from vitrina.api.docs import install_docs
from vitrina.api.errors import install_error_handlers
from vitrina.api.fast_search import API, SECURITY_HEADERS, ClientApp, percent_encoded
from vitrina.api.limits import BodyLimit
from vitrina.errors import UnavailableError, VitrinaError
from vitrina.lifecycle import die_with_parent, stop_event
from vitrina.search.api import open_search
from vitrina.settings import Settings

log = logging.getLogger(__name__)

WEB_DIR = Path(str(resources.files("vitrina") / "web"))


class MeasureAndSecure:
    """Pure ASGI middleware: request metrics and security headers on every response.

    (Starlette's BaseHTTPMiddleware costs about a third of a small request's time.)
    """

    HEADERS = SECURITY_HEADERS

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        if not scope["query_string"].isascii():
            scope["query_string"] = percent_encoded(scope["query_string"])

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS:
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            metrics.API_REQUESTS.labels(API, scope["method"], path, str(status)).inc()
            metrics.API_LATENCY.labels(API, path).observe(time.perf_counter() - started)


def readiness(app_state: AppState) -> dict[str, str]:
    """What is missing for the API to serve: {} when ready."""
    missing: dict[str, str] = {}
    try:
        app_state.admin().list_topics(timeout=2)
    except KafkaException as exc:
        missing["broker"] = f"unreachable at {app_state.settings.kafka.bootstrap_servers}: {exc}"
    try:
        app_state.search().count()
    except VitrinaError as exc:
        missing["index"] = exc.message
    except Exception as exc:
        missing["index"] = f"{type(exc).__name__}: {exc}"
    if app_state.view.error:
        missing["view"] = app_state.view.error
    elif not app_state.view.loaded.is_set():
        missing["view"] = "the ban list and recommendations are still loading"
    return missing


def warm_up(settings: Settings) -> None:
    """Search one word before the server's loop starts, as Solr's firstSearcher queries do:
    a process's first search paid ~45 ms for loading pymorphy3's dictionaries and the query
    rules, and what they load is then frozen out of the collector with the rest of
    start-up. Before the loop, not in the app's lifespan: a SIGTERM (the parent-death
    signal) during granian's lifespan start-up could hang the worker for ever, and here it
    simply ends the process. Without an index yet (or OpenSearch away) it logs one line."""
    try:
        backend = open_search(settings, readonly=True)
        try:
            backend.search("товар", None, "relevance", 1, 0)
        finally:
            backend.close()
    except Exception as exc:  # no index yet: /readyz says so, not this
        log.info("search not warmed before serving: %s", exc)


def create_app(
    settings: Settings,
    app_state: AppState | None = None,
    *,
    freeze_gc: bool = False,
    on_started: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the ASGI app; its Kafka clients start with the app and stop with it.

    `freeze_gc`: the server process owns the app (`vitrina run client-api`), so what
    start-up built is frozen out of the garbage collector once it has started.
    `on_started`: called once the app's start-up is done, before it serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "vitrina", None) is None:
            app.state.vitrina = app_state or build_state(settings)
        # What start-up built (modules, routes, schemas, the view) lives as long as the
        # process: frozen out of the collector, a full collection walks only what requests
        # allocate (pauses under load were a p99 source).
        if freeze_gc:
            gc.collect()
            gc.freeze()
        if on_started is not None:
            on_started()
        # Operators (and tests) see each process start serving: a stop that reaches a
        # process before this line finds nothing of its to flush.
        log.info("client API process %d serving", os.getpid())
        try:
            yield
        finally:
            app.state.vitrina.close()
            # Operators (and tests) see that the query log was flushed and clients closed:
            # a server that skipped the lifespan's shutdown would lose queued records.
            log.info("client API process %d stopped: query log flushed", os.getpid())

    app = ClientApp(
        title="Vitrina client API",
        version="1",
        description="Search, recommendations and events for customers of "
        "«Покупай выгодно»; bans and pipeline health for operators.",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py: served without a CDN, under the page's CSP
        redoc_url=None,
    )
    app.state.vitrina = app_state
    app.state.alert_inbox = alerts.AlertInbox()
    install_error_handlers(app)
    install_docs(app)
    # Plain-form searches skip all of these (api/fast_search.py: ClientApp).
    app.add_middleware(BodyLimit, limit=settings.api.client_max_body_bytes)
    app.add_middleware(MeasureAndSecure)
    app.include_router(routes.router)
    app.include_router(admin.router)
    app.include_router(alerts.router)

    # GET and HEAD: uptime monitors and load balancers probe with HEAD (`curl -I`).
    @app.head("/healthz", include_in_schema=False)
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.head("/readyz", include_in_schema=False)
    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        missing = readiness(request.app.state.vitrina)
        if missing:
            return JSONResponse({"status": "not ready", "missing": missing}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.head("/", include_in_schema=False)
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def main(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT; `api.client_workers` processes of `api.client_server`."""
    host, port = settings.api.host, settings.ports.client_api
    workers = settings.api.client_workers
    server = settings.api.client_server
    print(
        f"client API and web page: http://{host}:{port}/  (API docs: /docs)"
        + (f", {workers} processes of {server}" if workers > 1 else f", {server}"),
        flush=True,
    )
    if server == "granian":
        from vitrina.services.client_api_granian import serve_granian

        serve_granian(settings, workers)
        return
    if workers <= 1:
        import uvicorn

        from vitrina.api.http_protocol import with_header_timeout

        warm_up(settings)
        uvicorn.run(
            create_app(settings, freeze_gc=True),
            host=host,
            port=port,
            loop=settings.api.client_event_loop,
            http=with_header_timeout(settings.api.header_timeout_s),  # slowloris
            log_level="warning",
            access_log=False,
        )
        return
    serve_processes(settings, workers)


def _serve_one(settings: Settings, sock: socket.socket, parent: int | None = None) -> None:
    """One worker process: its own app state (view, producer, index reader) on the shared
    listening socket; the kernel spreads connections over the workers."""
    import uvicorn

    from vitrina.api.http_protocol import with_header_timeout

    die_with_parent(parent=parent)
    warm_up(settings)
    config = uvicorn.Config(
        create_app(settings, freeze_gc=True),
        loop=settings.api.client_event_loop,
        http=with_header_timeout(settings.api.header_timeout_s),  # slowloris
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


def port_taken(host: str, port: int, exc: OSError) -> UnavailableError:
    """The error both servers give when the client API's port cannot be bound."""
    return UnavailableError(
        f"cannot listen on {host}:{port}: {exc}",
        hint="another process holds the port: stop it or set ports.client_api",
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """The TCP socket the worker processes share (inheritable), or a clear error when the
    port is taken."""
    # IPPROTO_TCP, not 0: asyncio's loop sets TCP_NODELAY only on sockets whose proto says
    # TCP; without it every response waited ~40 ms for a delayed ACK (Nagle). uvloop sets it
    # regardless.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise port_taken(host, port, exc) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_processes(settings: Settings, workers: int) -> None:
    """`workers` uvicorn processes on one socket bound here: search is CPU-bound Python, so a
    second process is what uses the second core. Stops them all on SIGTERM/SIGINT; exits 1
    (the supervisor restarts the service) when one of them dies."""
    sock = listening_socket(settings.api.host, settings.ports.client_api)
    # fork: the children inherit the bound socket and the settings; no threads exist yet.
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(
            target=_serve_one, args=(settings, sock, os.getpid()), name=f"client-api-{i}"
        )
        for i in range(workers)
    ]
    for child in children:
        child.start()
    stop = stop_event()
    while not stop.is_set() and all(child.is_alive() for child in children):
        stop.wait(0.5)
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: uvicorn finishes its requests and stops
    for child in children:
        child.join(15)
        if child.is_alive():
            child.kill()
            child.join(5)
    sock.close()
    if not stop.is_set():
        dead = [f"{c.name} (exit {c.exitcode})" for c in children if c.exitcode]
        raise SystemExit(
            f"client API worker died: {', '.join(dead) or 'unknown'}; see its log above"
        )
