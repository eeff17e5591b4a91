"""The embedded broker and topics-as-code, through the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from tests.conftest import TEST_BROKER, free_port
from tests.support import run_vitrina

from vitrina.kafka.admin import admin_client, apply_topics, describe_topics
from vitrina.settings import Settings, TopicNames

pytestmark = pytest.mark.integration


def vitrina(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_vitrina(*args, env={**os.environ, **env}, timeout=timeout)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return {
        "VITRINA__DATA_DIR": str(tmp_path / "data"),
        "VITRINA__BROKER__PORT": str(port),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        "VITRINA__BROKER__ENGINE": TEST_BROKER,
    }


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
        declared = len(TopicNames().model_dump())
        assert f"{declared} created" in first.stdout
        second = vitrina(["topics", "apply"], cli_env)
        assert second.returncode == 0
        assert f"0 created, {declared} unchanged, 0 differ" in second.stdout
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
    result = vitrina(
        ["broker", "start"],
        {
            **cli_env,
            "VITRINA__BROKER__ENGINE": "tansu",
            "VITRINA__BROKER__BINARY": str(tmp_path / "no-such-tansu"),
        },
    )
    assert result.returncode == 1
    assert "not executable" in result.stderr and "Traceback" not in result.stderr


def test_missing_java_is_a_clear_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    """With the jars cached, nothing asked for Java before running it: a blind review got a
    FileNotFoundError traceback from `vitrina broker start` with no java on PATH."""
    empty = tmp_path / "bin"
    empty.mkdir()
    result = vitrina(
        ["broker", "start"], {**cli_env, "VITRINA__BROKER__ENGINE": "kafka", "PATH": str(empty)}
    )
    assert result.returncode == 1, result.stderr
    assert "java not found on PATH" in result.stderr and "Traceback" not in result.stderr


def test_broker_down_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = vitrina(["topics", "apply"], cli_env)
    assert result.returncode == 1
    assert "cannot reach the" in result.stderr and "broker" in result.stderr
    assert "Traceback" not in result.stderr


def test_apply_reports_differences(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    # Pretend the declaration changed: more partitions than the topics have.
    wider = make_settings(
        create_topics=False, kafka={"partitions": 5}, topics=settings.topics.model_dump()
    )
    report = apply_topics(wider)
    assert not report.created
    assert any(
        "partitions: declared 5, actual 3" in d for d in report.differs[settings.topics.orders]
    )
    assert describe_topics(admin_client(settings), [settings.topics.orders])


def test_kafka_broker_keeps_topics_records_and_offsets_across_restarts(
    cli_env: dict[str, str],
) -> None:
    """Issue 12 item 1: a restart (clean, or after kill -9) of the embedded broker used to
    forget every topic and committed offset (Tansu, memory storage)."""
    import signal

    from confluent_kafka import Consumer, Producer, TopicPartition

    from vitrina.kafka.offsets import commit_offsets, committed_offsets

    env = {**cli_env, "VITRINA__BROKER__ENGINE": "kafka"}
    bootstrap = env["VITRINA__KAFKA__BOOTSTRAP_SERVERS"]
    pid_file = Path(env["VITRINA__DATA_DIR"]) / "run" / "broker.pid"

    def committed() -> int:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "vitrina-lake-sink"})
        try:
            # Right after a (re)start the coordinator loads __consumer_offsets: wait it out.
            [tp] = committed_offsets(consumer, [TopicPartition("orders", 0)], service="test")
            return int(tp.offset)
        finally:
            consumer.close()

    def records() -> int:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "vitrina-cli-count"})
        try:
            return int(consumer.get_watermark_offsets(TopicPartition("orders", 0), timeout=20)[1])
        finally:
            consumer.close()

    try:
        assert vitrina(["broker", "start"], env).returncode == 0
        assert vitrina(["topics", "apply"], env).returncode == 0
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        for i in range(10):
            producer.produce("orders", key=b"k", value=str(i).encode(), partition=0)
        assert producer.flush(30) == 0
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "vitrina-lake-sink",
                "enable.auto.commit": False,
            }
        )
        assert commit_offsets(
            consumer, [TopicPartition("orders", 0, 7)], service="test", attempts=10
        )
        consumer.close()

        for how in ("stop", "kill -9"):
            if how == "stop":
                assert vitrina(["broker", "stop"], env).returncode == 0
            else:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            started = vitrina(["broker", "start"], env, timeout=120)
            assert started.returncode == 0, started.stderr
            again = vitrina(["topics", "apply"], env)
            assert again.returncode == 0 and "0 created" in again.stdout, how
            assert records() == 10, how
            assert committed() == 7, how
    finally:
        vitrina(["broker", "stop"], env)


def test_status_from_another_data_dir_names_the_broker_that_answers(
    broker_settings: Settings, tmp_path: Path
) -> None:
    """Run from another folder (the data dir .vitrina is relative), `vitrina status` said
    "broker DOWN 127.0.0.1:19092" while that broker answered, and `broker status` "not
    running"; both now say a broker answers there that this data dir did not start."""
    env = {
        "VITRINA__DATA_DIR": str(tmp_path / "elsewhere"),
        "VITRINA__BROKER__PORT": str(broker_settings.broker.port),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": broker_settings.kafka.bootstrap_servers,
        "VITRINA__BROKER__ENGINE": TEST_BROKER,
        "COLUMNS": "200",
    }
    st = vitrina(["broker", "status"], env)
    assert st.returncode == 3, st.stdout + st.stderr
    assert "a broker answers on" in st.stdout and "not one started from this data" in st.stdout
    status = vitrina(["status"], env)
    broker_line = next(line for line in status.stdout.splitlines() if line.startswith("broker"))
    assert "up" in broker_line and "not started from this data dir" in broker_line
    assert "note: this data dir" in status.stdout
    assert "down: " in status.stderr and "broker" not in status.stderr.split("down: ")[1]
