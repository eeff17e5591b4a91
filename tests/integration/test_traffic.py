"""Traffic generator against the real embedded broker: valid, keyed, paced, stoppable."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import Counter

import httpx
import orjson
import pytest
from tests.conftest import free_port, wait_for
from tests.support import settings_env

from vitrina.contracts import validate
from vitrina.kafka.inspect import count_records, read_to_end
from vitrina.services.traffic import load_catalog, run_traffic

pytestmark = pytest.mark.integration


def test_run_traffic_produces_valid_keyed_orders_and_events(make_settings) -> None:
    settings = make_settings()
    catalog = load_catalog(None)
    sent = run_traffic(settings, rate=400, duration=1.0, catalog=catalog, seed=1)
    total = sum(sent.values())
    # The pacer never runs ahead of rate × duration (+1 for the message due at t=0).
    assert 0 < total <= 401
    ids = {p["product_id"] for p in catalog}
    seen: Counter[str] = Counter()
    for msg in read_to_end(settings, [settings.topics.orders, settings.topics.client_events]):
        value = orjson.loads(msg.value())
        if msg.topic() == settings.topics.orders:
            validate("order", value)
            assert msg.key().decode() == value["customer_id"]
            assert all(i["product_id"] in ids for i in value["items"])
            seen["orders"] += 1
        else:
            validate("client_event", value)
            assert msg.key().decode() == value["user_id"]
            assert value["product_id"] in ids
            seen[value["type"]] += 1
    assert seen["orders"] == sent["orders"]
    # A run may stop between a purchase event and its order.
    assert seen["purchase"] - 1 <= seen["orders"] <= seen["purchase"]
    assert sum(v for k, v in seen.items() if k != "orders") == sent["client_events"]
    assert seen["view"] > seen["add_to_cart"] > 0


def test_stop_event_ends_an_unbounded_run(make_settings) -> None:
    settings = make_settings()
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    sent = run_traffic(settings, rate=100, stop=stop, seed=2)
    assert 0 < sum(sent.values()) <= 200


def test_service_runs_until_sigterm_and_serves_metrics(make_settings) -> None:
    settings = make_settings()
    port = free_port()
    env = settings_env(settings, PORTS__TRAFFIC=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "vitrina", "run", "traffic"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def produced() -> bool:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                return False
            line = (
                f'vitrina_worker_produced_messages_total{{service="traffic",'
                f'topic="{settings.topics.client_events}"}}'
            )
            return line in text

        wait_for(produced, 30, message="traffic to report produced messages")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    counts = count_records(settings, [settings.topics.client_events])
    assert counts[settings.topics.client_events] > 0


def test_generate_traffic_cli(make_settings) -> None:
    settings = make_settings()
    env = settings_env(settings)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitrina",
            "generate",
            "traffic",
            "--rate",
            "100",
            "--duration",
            "1",
            "--seed",
            "3",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sent" in result.stdout and settings.topics.orders in result.stdout
    counts = count_records(settings, [settings.topics.orders, settings.topics.client_events])
    assert 0 < sum(counts.values()) <= 101
