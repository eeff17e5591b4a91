"""One error body for both HTTP APIs (SHOP API and client API), and its OpenAPI description.

Every error answer is ``{"error": {"status", "message", "hint", ...}}``: VitrinaError
carries its status; request validation errors are 422 naming the field (a body that is not
JSON at all: 400 "malformed JSON"); a batch refused by
the SHOP API lists every bad product under ``error.errors``; nothing a client sends
produces a 500 (an unexpected one is logged and answered in the same shape).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from vitrina.errors import VitrinaError

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    status: int = Field(description="the HTTP status, repeated")
    message: str = Field(description="what went wrong")
    hint: str | None = Field(None, description="how to fix it")
    field: str | None = Field(None, description="the request field at fault (422)")
    errors: list[dict[str, Any]] | None = Field(
        None, description="SHOP API: every invalid product of a batch (index, field, rule)"
    )


class ErrorBody(BaseModel):
    """The body of every error answer of both APIs."""

    error: ErrorDetail


def error_body(status: int, message: str, hint: str | None = None, **extra: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"status": status, "message": message, "hint": hint}
    detail.update({k: v for k, v in extra.items() if v is not None})
    return {"error": detail}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given statuses, all with the shared error body."""
    meaning = {
        400: "bad request",
        401: "missing or wrong bearer token",
        403: "not allowed for this token",
        404: "not found",
        413: "too large",
        408: "the request body stopped arriving (api.body_timeout_s)",
        415: "unsupported body encoding",
        422: "invalid input (names the field and the rule)",
        429: "too many requests (see Retry-After)",
        503: "a dependency is away; retry (see Retry-After)",
    }
    return {
        status: {"model": ErrorBody, "description": meaning.get(status, "error")}
        for status in statuses
    }


def _headers(status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if status in (429, 503):
        return {"Retry-After": "5"}
    return None


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:] if len(loc) > 1 else loc) or "request"
    return field, f"{field}: {first.get('msg', 'invalid value')}"


def _malformed_json(exc: RequestValidationError) -> str | None:
    """The message for a body that is not JSON at all (400, as the SHOP API answers it),
    not a field at fault: FastAPI reports it as a 422 at ("body", <character offset>)."""
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            loc = error.get("loc", ())
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            reason = (error.get("ctx") or {}).get("error") or error.get("msg", "")
            return f"malformed JSON: {str(reason).lower()}{where}"
    return None


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of `app` with the shared body."""

    @app.exception_handler(VitrinaError)
    async def vitrina_error(_: Request, exc: VitrinaError) -> JSONResponse:
        extra = {"errors": getattr(exc, "errors", None)}
        return JSONResponse(
            error_body(exc.status_code, exc.message, exc.hint, **extra),
            status_code=exc.status_code,
            headers=_headers(exc.status_code),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = _malformed_json(exc)
        if malformed is not None:
            hint = "send one JSON object, UTF-8 encoded (see /docs)"
            return JSONResponse(error_body(400, malformed, hint), status_code=400)
        field, message = _validation_message(exc)
        body = error_body(
            422, message, "fix the field and retry; see /docs for the API", field=field
        )
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = {
            404: "see /docs for the API",
            405: "see /docs for the API",
            # FastAPI's answer to a body it cannot parse at all (not UTF-8, nested too deep).
            400: "send one JSON object, UTF-8 encoded, nested at most a few levels (see /docs)",
        }.get(exc.status_code)
        return JSONResponse(
            error_body(exc.status_code, str(exc.detail), hint),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _: ClientDisconnect) -> Response:
        # A client that closed its connection mid-upload: one line, not the two tracebacks
        # (~120 lines) the catch-all below and the server logged (a blind review). Nobody
        # reads the answer.
        log.info(
            "%s %s: the client went away before its request was read",
            request.method,
            request.url.path,
        )
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(
            error_body(
                500,
                f"internal error: {type(exc).__name__}",
                "this is a bug; the server log has the details",
            ),
            status_code=500,
        )
