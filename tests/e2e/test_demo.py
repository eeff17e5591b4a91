"""The whole platform through its CLI: `vitrina demo` must report every check passing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import free_port
from tests.support import private_ports_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def platform_env(data_dir: Path) -> dict[str, str]:
    """A private platform: its own data dir, broker port and service ports."""
    broker_port = free_port()
    env = {
        **os.environ,
        "VITRINA__DATA_DIR": str(data_dir),
        "VITRINA__BROKER__PORT": str(broker_port),
        "VITRINA__BROKER__MIRROR_PORT": str(free_port()),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
        "VITRINA__ANALYTICS__INTERVAL_S": "20",
        # Lake files every second (default 5 s): the demo's "orders reached the lake" and the
        # lifecycle test's "catalogue in the lake" wait for the sink's flush, not for work.
        "VITRINA__LAKE__FLUSH_SECONDS": "1",
        "COLUMNS": "160",
    }
    env.update(private_ports_env())
    env.pop("VITRINA__PROFILE", None)
    return env


def test_demo_reports_everything_working(tmp_path: Path) -> None:
    env = platform_env(tmp_path / "data")
    result = subprocess.run(
        # --duration only pads the end with idle running once every check is done (the
        # checks take ~40 s here): 20 s asks for no padding.
        [sys.executable, "-m", "vitrina", "demo", "--duration", "20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "demo: every check passed" in out
    assert "banned product disappears from search" in out
    # The demo lifts its ban again: the next `vitrina up` on the data dir loaded it and hid
    # the product, and the product comes back to search.
    assert "unbanned product returns to search" in out
    assert "FAILED" not in out
    # Everything it started is stopped: no broker PID left behind.
    assert not (tmp_path / "data" / "run" / "broker.pid").exists()
