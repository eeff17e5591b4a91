"""Abuse limits of the client API: a request-body cap (413) and a per-client event rate (429).

Both are pure ASGI / plain classes (no per-request framework overhead) with the clock
injected, so tests are deterministic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina.api.errors import error_body
from vitrina.errors import VitrinaError


class TooManyRequests(VitrinaError):
    status_code = 429


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, before they are held in memory.

    A declared Content-Length over the limit is refused at once; a chunked body is counted
    as it streams and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send, size: str) -> None:
        body = orjson.dumps(
            error_body(
                413,
                f"request body {size}is over the {self.limit:,}-byte limit",
                "send a smaller body (api.client_max_body_bytes)",
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send, f"of {int(value):,} bytes ")
                return
        declared = any(name == b"content-length" for name, _ in scope.get("headers", []))
        if declared:  # the server stops reading at Content-Length: nothing more can come
            await self.app(scope, receive, send)
            return
        # Chunked (no Content-Length): read it here, counting, at most `limit` bytes held.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._refuse(send, "")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RateLimiter:
    """Token buckets per client key: `rate` per second, bursts up to `burst`.

    At most `max_clients` buckets are kept (least recently used evicted), so a flood of
    distinct keys cannot exhaust memory.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed

    def check(self, key: str) -> None:
        if not self.allow(key):
            raise TooManyRequests(
                f"too many events from {key}: the limit is "
                f"{self.rate:g}/s (bursts of {self.burst})",
                hint="slow down and retry after a few seconds",
            )
