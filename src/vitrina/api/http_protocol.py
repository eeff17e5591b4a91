"""uvicorn's HTTP protocol with a deadline for a request's headers (slowloris).

uvicorn has no timeout for receiving a request: its keep-alive timeout runs only between
requests and is reset by every byte received, so a client that opens connections and sends
a header line now and then holds each one for ever. Seen on the SHOP API: 3,000 such
connections were all still open after 20 s, and the process's open-file limit (20,000
here) is all it takes to stop every store's uploads. Granian (the client API's default
server) drops them after 30 s; this protocol does the same for uvicorn: the headers of each
request must arrive within `api.header_timeout_s` (30 s) of the connection opening or of the
previous response, else the connection is closed. A request's body is not covered: the SHOP API
reads it only after the store's token was checked.

Nor had uvicorn (httptools) a bound on a request's head: a 200 KB header was served 200 (a
hostile review). A head (request line and headers) over `MAX_HEAD_BYTES` is answered 431
(414 while the request line itself has not ended) and the connection closed, as nginx and
hyper do; the client API's granian gets the same bound as its read buffer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# As granian's default (http1 header_read_timeout) and nginx's client_header_timeout (60 s)
HEADER_TIMEOUT_S = 30.0
# The largest request head served: nginx's large_client_header_buffers allow 4 × 8 KiB, and no
# client of these APIs sends more than a few hundred bytes (a token, a query).
MAX_HEAD_BYTES = 64 * 1024


def refusal(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer closing the connection, with the APIs' error body."""
    body = orjson.dumps({"error": {"status": status, "message": message}})
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol closing a connection whose request headers take too long or are too
    large."""

    header_timeout_s = HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        # the head received so far (at most MAX_HEAD_BYTES + 4), while one is arriving
        self._head: bytearray | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)
        self._head = bytearray()

    def data_received(self, data: bytes) -> None:
        head = self._head
        if head is not None:  # a request's head is arriving: bound it
            head += data[: MAX_HEAD_BYTES + 4 - len(head)]
            if len(head) > MAX_HEAD_BYTES and b"\r\n\r\n" not in head:
                self._refuse_head(head)
                return
        super().data_received(data)

    def _refuse_head(self, head: bytearray) -> None:
        self._disarm()
        limit = f"{MAX_HEAD_BYTES // 1024} KiB"
        if b"\r\n" not in head:
            answer = refusal(414, "URI Too Long", f"the request line is longer than {limit}")
        else:
            answer = refusal(
                431,
                "Request Header Fields Too Large",
                f"the request's headers are larger than {limit}",
            )
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def _disarm(self) -> None:
        self._head = None  # armed and disarmed with the deadline: one head at a time
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        waiting = not self.pipeline  # a pipelined request's headers are in already
        super().on_response_complete()
        if waiting and not self.transport.is_closing():
            self._arm()


def with_header_timeout(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for uvicorn's `http=`, with its deadline (`api.header_timeout_s`)."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": seconds})
