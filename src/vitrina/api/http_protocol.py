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
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# As granian's default (http1 header_read_timeout) and nginx's client_header_timeout (60 s)
HEADER_TIMEOUT_S = 30.0


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol closing a connection whose request headers take too long."""

    header_timeout_s = HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
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
