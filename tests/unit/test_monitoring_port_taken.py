"""`vitrina --profile <data_dir>/cluster/profile.yaml up --monitoring`: that profile points
`ports.prometheus` at the cluster's Prometheus, which scrapes the services already
(cluster/topology._monitoring). A second Prometheus could not bind its port and crash-looped;
`up` now says who answers there and starts none. The same for Alertmanager's port: a
second Alertmanager could not bind either."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rich.console import Console

from vitrina.orchestrate import Platform, _start_monitoring
from vitrina.settings import load_settings
from vitrina.supervisor import Supervisor


@pytest.mark.parametrize("field", ["prometheus", "alertmanager"])
def test_up_monitoring_starts_no_prometheus_where_one_answers(tmp_path: Path, field: str) -> None:
    with socket.socket() as taken, socket.socket() as free:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        free.bind(("127.0.0.1", 0))  # bound, not listening: nothing answers there
        port = taken.getsockname()[1]
        other = "alertmanager" if field == "prometheus" else "prometheus"
        ports = {field: port, other: free.getsockname()[1]}
        settings = load_settings(data_dir=tmp_path, ports=ports)
        console = Console(record=True, width=200)
        supervisor = Supervisor(tmp_path / "logs", lambda *_: None)
        platform = Platform(settings, supervisor, console, services=["filter"])
        _start_monitoring(platform)
    assert platform.services == ["filter"]  # no prometheus, no alertmanager
    said = console.export_text()
    assert f"port {port} (ports.{field}) already answers" in said
    assert "no Prometheus or Alertmanager is started here" in said
