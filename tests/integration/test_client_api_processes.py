"""`vitrina run client-api` with api.client_workers = 2: two processes answer on one port
(one search each, in parallel), and SIGTERM to the service stops every one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.conftest import wait_for
from tests.integration.test_client_api import api_settings, catalogue, seed_index
from tests.support import settings_env

from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_two_processes_serve_one_port_and_stop_together(
    broker_settings: Settings, tmp_path: Path
) -> None:
    settings = api_settings(broker_settings, tmp_path)
    seed_index(settings, catalogue(50))
    port = settings.ports.client_api
    env = settings_env(settings, PORTS__CLIENT_API=str(port), API__CLIENT_WORKERS="2")
    log_path = tmp_path / "client-api.log"
    with open(log_path, "wb") as log:
        service = subprocess.Popen(
            [sys.executable, "-m", "vitrina", "run", "client-api"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def tail() -> str:
        return log_path.read_text(errors="replace")[-1500:]

    workers: set[int] = set()
    try:
        url = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            try:
                return (
                    httpx.get(
                        f"{url}/api/v1/search", params={"q": "клавиатура"}, timeout=5
                    ).status_code
                    == 200
                )
            except httpx.HTTPError:
                return False

        wait_for(serving, 60, message=f"the client API to serve\n{tail()}")
        workers = children_of(service.pid)
        assert len(workers) == 2, (workers, tail())
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(20):  # new connections spread over both; every one answers
                assert client.get("/healthz", headers={"Connection": "close"}).status_code == 200
    finally:
        os.kill(service.pid, signal.SIGTERM)  # as the supervisor stops a service
        try:
            service.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(service.pid, signal.SIGKILL)
            service.wait(5)
    assert service.returncode == 0, tail()
    wait_for(
        lambda: not any(alive(pid) for pid in workers),
        15,
        message="every client API process to stop with the service",
    )
