"""The embedded broker and topics-as-code, through the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import free_port

from vitrina.kafka.admin import admin_client, apply_topics, describe_topics

pytestmark = pytest.mark.integration


def vitrina(args: list[str], env: dict[str, str],
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vitrina", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return {"VITRINA__DATA_DIR": str(tmp_path / "data"), "VITRINA__BROKER__PORT": str(port),
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}


def test_start_status_apply_twice_stop(cli_env: dict[str, str]) -> None:
    started = vitrina(["broker", "start"], cli_env)
    try:
        assert started.returncode == 0, started.stderr
        assert "running" in started.stdout
        pid = int((Path(cli_env["VITRINA__DATA_DIR"]) / "run" / "broker.pid").read_text())
        status = vitrina(["broker", "status"], cli_env)
        assert status.returncode == 0 and "answering" in status.stdout
        first = vitrina(["topics", "apply"], cli_env)
        assert first.returncode == 0, first.stderr
        assert "11 created" in first.stdout
        second = vitrina(["topics", "apply"], cli_env)
        assert second.returncode == 0
        assert "0 created, 11 unchanged, 0 differ" in second.stdout
        listing = vitrina(["topics", "list"], cli_env)
        assert "banned-products" in listing.stdout and "missing" not in listing.stdout
    finally:
        stopped = vitrina(["broker", "stop"], cli_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    after = vitrina(["broker", "status"], cli_env)
    assert after.returncode == 3 and "not running" in after.stdout


def test_port_taken_is_a_clear_error(cli_env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", int(cli_env["VITRINA__BROKER__PORT"])))
        sock.listen()
        result = vitrina(["broker", "start"], cli_env)
    assert result.returncode == 1
    assert "already taken" in result.stderr and "VITRINA__BROKER__PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_binary_is_a_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = vitrina(["broker", "start"], {**cli_env, "VITRINA__BROKER__BINARY":
                                           str(tmp_path / "no-such-tansu")})
    assert result.returncode == 1
    assert "not executable" in result.stderr and "Traceback" not in result.stderr


def test_broker_down_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = vitrina(["topics", "apply"], cli_env)
    assert result.returncode == 1
    assert "cannot reach the broker" in result.stderr and "Traceback" not in result.stderr


def test_apply_reports_differences(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    # Pretend the declaration changed: more partitions than the topics have.
    wider = make_settings(create_topics=False, kafka={"partitions": 5},
                          topics=settings.topics.model_dump())
    report = apply_topics(wider)
    assert not report.created
    assert any("partitions: declared 5, actual 3" in d
               for d in report.differs[settings.topics.orders])
    assert describe_topics(admin_client(settings), [settings.topics.orders])
