"""The client API: search, recommendations, events, the web page and the operator view.

`vitrina run client-api` serves it with uvicorn on settings.api.host:ports.client_api, which
also serves /metrics. One error shape everywhere: ``{"error": {"status", "message",
"hint"}}`` — VitrinaError carries its status, validation errors are 422 naming the field, and
nothing a client sends produces a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina import metrics
from vitrina.api import admin, alerts, routes
from vitrina.api.deps import AppState, build_state
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


def error_body(status: int, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "message": message, "hint": hint}}


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:] if len(loc) > 1 else loc) or "request"
    return field, f"{field}: {first.get('msg', 'invalid value')}"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VitrinaError)
    async def vitrina_error(_: Request, exc: VitrinaError) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, exc.message, exc.hint),
                            status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        field, message = _validation_message(exc)
        body = error_body(422, message, "fix the field and retry; see /docs for the API")
        body["error"]["field"] = field
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = "see /docs for the API" if exc.status_code in (404, 405) else None
        return JSONResponse(error_body(exc.status_code, str(exc.detail), hint),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(error_body(500, f"internal error: {type(exc).__name__}",
                                       "this is a bug; the server log has the details"),
                            status_code=500)


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
    _install_error_handlers(app)
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
