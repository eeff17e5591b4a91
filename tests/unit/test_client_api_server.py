"""The client API's HTTP server choice (`api.client_server`): the setting, granian's port
check and the error when granian is not installed. Serving itself, on both servers, is in
tests/integration/test_client_api_processes.py."""

from __future__ import annotations

import socket
import sys

import pytest

from vitrina.errors import ConfigError, UnavailableError
from vitrina.services.client_api_granian import check_port_free, serve_granian
from vitrina.settings import load_settings


def test_uvicorn_is_the_default_and_granian_selectable() -> None:
    assert load_settings().api.client_server == "uvicorn"
    assert load_settings(api={"client_server": "granian"}).api.client_server == "granian"


def test_an_unknown_server_names_the_key() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(api={"client_server": "gunicorn"})
    assert "client_server" in exc.value.message


def test_a_held_port_is_refused_with_a_hint() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(UnavailableError) as exc:
            check_port_free("127.0.0.1", port)
    assert str(port) in exc.value.message and "ports.client_api" in (exc.value.hint or "")
    check_port_free("127.0.0.1", port)  # released: free again


def test_granian_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "granian.server", None)  # import fails as if absent
    with pytest.raises(ConfigError) as exc:
        serve_granian(load_settings(api={"client_server": "granian"}), 2)
    assert "granian" in exc.value.message and "uvicorn" in (exc.value.hint or "")
