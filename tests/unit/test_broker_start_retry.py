"""`vitrina up` starts its embedded broker once more when the broker's process ends while
it starts: a kill -9 of the broker two seconds into `up` stopped the whole platform with
"broker (Apache Kafka) did not start: broker exited while starting" (chaos review), while a
broker that dies later is restarted by the platform's watch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from vitrina import broker, orchestrate
from vitrina.cluster.process import ExitedWhileStarting, ManagedProcess
from vitrina.settings import load_settings


def test_a_process_that_ends_before_it_is_ready_says_so(tmp_path: Path) -> None:
    process = ManagedProcess(
        "quitter", tmp_path, [sys.executable, "-c", "raise SystemExit(3)"], ready=lambda: False
    )
    with pytest.raises(ExitedWhileStarting, match="quitter exited while starting"):
        process.start()


def test_up_starts_a_broker_that_ended_while_starting_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(data_dir=tmp_path)
    started = broker.BrokerStatus("broker", 4242, "127.0.0.1:19092", True, True, tmp_path)
    calls: list[int] = []

    def start(*args: Any, **kwargs: Any) -> broker.BrokerStatus:
        calls.append(1)
        if len(calls) == 1:
            raise broker.BrokerExited("broker (Apache Kafka) did not start: broker exited")
        return started

    monkeypatch.setattr(broker, "start", start)
    console = Console(record=True, width=200)
    assert orchestrate.start_embedded_broker(settings, console) is started
    assert len(calls) == 2
    assert "starting it once more" in console.export_text()


def test_up_does_not_start_again_a_broker_that_failed_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker that never answered (60 s) or a port another program holds: once more
    would only double the wait before the same error."""
    settings = load_settings(data_dir=tmp_path)
    calls: list[int] = []

    def start(*args: Any, **kwargs: Any) -> broker.BrokerStatus:
        calls.append(1)
        raise broker.BrokerError("port 19092 on 127.0.0.1 is already taken by another process")

    monkeypatch.setattr(broker, "start", start)
    with pytest.raises(broker.BrokerError, match="already taken"):
        orchestrate.start_embedded_broker(settings, Console(record=True))
    assert len(calls) == 1


def test_a_start_waits_for_the_port_a_killed_broker_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker of ours killed a moment ago may hold its port while its process ends: the
    restart waits for the port instead of saying "already taken by another process" (a
    blind review saw that once, then the restart 5 s later worked)."""
    import socket
    import threading

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    settings = load_settings(data_dir=tmp_path, broker={"port": port, "engine": "kafka"})
    started = broker.BrokerStatus("broker", 4242, f"127.0.0.1:{port}", True, True, tmp_path)
    monkeypatch.setattr(broker, "_start_kafka", lambda *args: started)
    letting_go = threading.Timer(1.0, holder.close)
    letting_go.start()
    try:
        assert broker.start(settings) is started
    finally:
        letting_go.cancel()
        holder.close()
