"""The client API: search, recommendations, events, the web page and the operator view.

`vitrina run client-api` serves it with uvicorn on settings.api.host:ports.client_api, which
also serves /metrics. Errors use the body shared with the SHOP API (api/errors.py):
``{"error": {"status", "message", "hint"}}``; nothing a client sends produces a 500. Request
bodies over api.client_max_body_bytes are refused (413) before they are read into memory,
and events are rate-limited per client (429, api/limits.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina import metrics
from vitrina.api import admin, alerts, routes
from vitrina.api.deps import AppState, build_state
from vitrina.api.errors import install_error_handlers
from vitrina.api.limits import BodyLimit
from vitrina.errors import VitrinaError
from vitrina.kafka.clients import admin_config
from vitrina.settings import Settings

log = logging.getLogger(__name__)

API = "client"
WEB_DIR = Path(str(resources.files("vitrina") / "web"))
# No inline scripts or styles, no third-party origins: product names come from stores.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


class MeasureAndSecure:
    """Pure ASGI middleware: request metrics and security headers on every response.

    (Starlette's BaseHTTPMiddleware costs about a third of a small request's time.)
    """

    HEADERS = (("content-security-policy", CSP), ("x-content-type-options", "nosniff"),
               ("referrer-policy", "no-referrer"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

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
        AdminClient(admin_config(app_state.settings, "client-api")).list_topics(timeout=2)
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
    return missing


def create_app(settings: Settings, app_state: AppState | None = None) -> FastAPI:
    """Build the ASGI app; its Kafka clients start with the app and stop with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "vitrina", None) is None:
            app.state.vitrina = app_state or build_state(settings)
        try:
            yield
        finally:
            app.state.vitrina.close()

    app = FastAPI(title="Vitrina client API", version="1",
                  description="Search, recommendations and events for customers of "
                              "«Покупай выгодно»; bans and pipeline health for operators.",
                  lifespan=lifespan)
    app.state.vitrina = app_state
    app.state.alert_inbox = alerts.AlertInbox()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.api.client_max_body_bytes)
    app.add_middleware(MeasureAndSecure)
    app.include_router(routes.router)
    app.include_router(admin.router)
    app.include_router(alerts.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        missing = readiness(request.app.state.vitrina)
        if missing:
            return JSONResponse({"status": "not ready", "missing": missing}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app


def main(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn handles both)."""
    import uvicorn

    host, port = settings.api.host, settings.ports.client_api
    print(f"client API and web page: http://{host}:{port}/  (API docs: /docs)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                access_log=False)
