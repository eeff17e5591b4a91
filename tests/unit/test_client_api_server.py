"""The client API's HTTP server and event loop (`api.client_server`, `api.client_event_loop`):
the settings, the listening socket (port checks, TCP_NODELAY on both loops) and the error
when granian is not installed. Serving itself, on both servers, is in
tests/integration/test_client_api_processes.py."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable

import pytest
import uvloop

from vitrina.errors import ConfigError, UnavailableError
from vitrina.services.client_api import listening_socket
from vitrina.services.client_api_granian import check_port_free, serve_granian
from vitrina.settings import load_settings


def test_granian_is_the_default_and_uvicorn_selectable() -> None:
    assert load_settings().api.client_server == "granian"
    assert load_settings(api={"client_server": "uvicorn"}).api.client_server == "uvicorn"


def test_uvloop_is_the_default_loop_and_asyncio_selectable() -> None:
    assert load_settings().api.client_event_loop == "uvloop"
    assert load_settings(api={"client_event_loop": "asyncio"}).api.client_event_loop == "asyncio"
    with pytest.raises(ConfigError) as exc:
        load_settings(api={"client_event_loop": "trio"})
    assert "client_event_loop" in exc.value.message


def test_an_unknown_server_names_the_key() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(api={"client_server": "gunicorn"})
    assert "client_server" in exc.value.message


@pytest.mark.parametrize(
    "take",
    [check_port_free, lambda host, port: listening_socket(host, port).close()],
    ids=["granian's check", "uvicorn's socket"],
)
def test_a_held_port_is_refused_with_a_hint(take: Callable[[str, int], None]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(UnavailableError) as exc:
            take("127.0.0.1", port)
    assert str(port) in exc.value.message and "ports.client_api" in (exc.value.hint or "")
    take("127.0.0.1", port)  # released: free again


def test_granian_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "granian.server", None)  # import fails as if absent
    with pytest.raises(ConfigError) as exc:
        serve_granian(load_settings(api={"client_server": "granian"}), 2)
    assert "granian" in exc.value.message and "uvicorn" in (exc.value.hint or "")


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_connections_on_the_shared_socket_send_without_delay(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """Every accepted connection has TCP_NODELAY on both event loops: asyncio sets it only
    when the listening socket's proto is TCP (it was 0, and each response waited ~40 ms for
    the client's delayed ACK)."""
    listening = listening_socket("127.0.0.1", 0)
    port = listening.getsockname()[1]
    nodelay: list[int] = []

    async def accept_one() -> None:
        accepted = asyncio.Event()

        class Record(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                accepted.set()
                transport.close()

        server = await asyncio.get_running_loop().create_server(Record, sock=listening)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(accepted.wait(), timeout=5)  # the server side accepted
        writer.close()
        server.close()
        await server.wait_closed()

    loop = loop_factory()
    try:
        loop.run_until_complete(accept_one())
    finally:
        loop.close()
    assert nodelay and nodelay[0] != 0
