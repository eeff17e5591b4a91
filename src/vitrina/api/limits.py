"""Abuse limits of the client API: a request-body cap (413) and a per-client event rate (429).

Both are pure ASGI / plain classes (no per-request framework overhead) with the clock
injected, so tests are deterministic. The event rate is one per client across the API's
processes on a machine (`SharedRateLimiter`: buckets in a mapped file).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina.api.errors import error_body
from vitrina.errors import VitrinaError

log = logging.getLogger(__name__)


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
            tokens = _refilled(tokens, last, now, self.rate, self.burst)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed

    def check(self, key: str) -> None:
        _check(self, key)


def _refilled(tokens: float, last: float, now: float, rate: float, burst: int) -> float:
    """A bucket's tokens at `now`; a `last` after `now` (the clock began again: a reboot
    under a kept file) is a fresh bucket."""
    if last > now:
        return float(burst)
    return min(float(burst), tokens + (now - last) * rate)


class SharedRateLimiter:
    """`RateLimiter`'s token buckets, shared by every process that maps `path` (the client
    API's processes on one port: each kept its own, so with two a client got twice the
    limit). The file holds `slots` buckets of (key hash, tokens, last); a key takes the slot
    its hash names, and a different key there starts afresh, so a flood of keys cannot grow
    it. An flock (between processes) and a lock (between threads) guard each take;
    time.monotonic is one clock for the machine's processes."""

    _SLOT = struct.Struct("<Qdd")  # key hash (0: empty), tokens, last

    def __init__(
        self,
        rate: float,
        burst: int,
        path: Path,
        *,
        slots: int = 16_384,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.slots, self.clock = rate, burst, slots, clock
        size = slots * self._SLOT.size
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size != size:  # a new file, or one of another slot count
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if os.fstat(self._fd).st_size != size:
                    os.ftruncate(self._fd, 0)
                    os.ftruncate(self._fd, size)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, size)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        hashed = int.from_bytes(digest, "little") or 1
        offset = (hashed % self.slots) * self._SLOT.size
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                now = self.clock()
                held, tokens, last = self._SLOT.unpack_from(self._map, offset)
                if held == hashed:
                    tokens = _refilled(tokens, last, now, self.rate, self.burst)
                else:
                    tokens = float(self.burst)
                allowed = tokens >= 1.0
                self._SLOT.pack_into(
                    self._map, offset, hashed, tokens - 1.0 if allowed else tokens, now
                )
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return allowed

    def check(self, key: str) -> None:
        _check(self, key)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def shared_or_own_limiter(rate: float, burst: int, path: Path) -> SharedRateLimiter | RateLimiter:
    """A `SharedRateLimiter` on `path`; this process's own buckets (and a warning that the
    limit is then per process) when the file cannot be made or mapped."""
    try:
        return SharedRateLimiter(rate, burst, path)
    except OSError as exc:
        log.warning("event rate limit kept per process: %s cannot be mapped (%s)", path, exc)
        return RateLimiter(rate, burst)


def _check(limiter: RateLimiter | SharedRateLimiter, key: str) -> None:
    if not limiter.allow(key):
        raise TooManyRequests(
            f"too many events from {key}: the limit is "
            f"{limiter.rate:g}/s (bursts of {limiter.burst})",
            hint="slow down and retry after a few seconds",
        )
