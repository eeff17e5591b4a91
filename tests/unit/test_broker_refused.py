"""A command typed by hand with nothing listening at the broker's address: it said so only
after 10 s of silence (5 s for `broker status`), behind a "retrying with backoff" warning.
Now every bootstrap address is asked for a TCP connection first (`refused_everywhere`), and
a command fails at once naming the refusal; services keep librdkafka's retries."""

from __future__ import annotations

import socket

import pytest
from tests.conftest import free_port
from tests.support import run_vitrina

from vitrina.kafka.errors import refused_everywhere


def test_addresses_that_refuse_or_name_no_host_are_no_broker() -> None:
    port = free_port()
    why = refused_everywhere(f"127.0.0.1:{port},no-such-host.invalid:9092")
    assert why is not None
    assert f"127.0.0.1:{port}: connection refused" in why
    assert "no-such-host.invalid:9092: no such host" in why


def test_one_address_that_listens_is_enough() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert refused_everywhere(f"127.0.0.1:{free_port()},127.0.0.1:{port}") is None
        assert refused_everywhere(f"SASL_SSL://127.0.0.1:{port}") is None


@pytest.mark.parametrize("command", [["ban", "list"], ["dlq", "list"], ["broker", "status"]])
def test_a_command_says_at_once_that_nothing_listens(command: list[str], tmp_path) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VITRINA__DATA_DIR": str(tmp_path / "data"),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
    }
    done = run_vitrina(*command, env=env, timeout=60)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, said
    assert f"cannot reach the Kafka broker at 127.0.0.1:{port}" in said
    assert "connection refused" in said
    assert "retrying with backoff" not in said
