"""Benchmark: what a steady stream costs the lake sink and its broker, by fetch settings.

The client API logs every search to `client-queries` (~5k records/s under load), and the lake
sink reads them. Both run on the same machine as the API, so the CPU they spend is taken from
the searches. This runs the real sink (`lake_sink.build_worker`, its own process) on a real
embedded broker while this process produces query-log records at a steady --rate, and
measures the CPU of the sink and the broker (from /proc) for --seconds per run:

- A: librdkafka's default fetch (answered as soon as one byte is there: fetch.min.bytes 1);
- B: the sink's `FETCH_BATCHING` (1 MiB or 500 ms; the sink writes a file every 5 s anyway).

A B B A / B A A B by turns after a warm-up of each (abba.py). Prints JSON; key `cores` is
sink + broker, and `ratio` is B / A of it (lower is better).

    .venv/bin/python benchmarks/lake_steady.py               # 5k records/s, 4 rounds
    .venv/bin/python benchmarks/lake_steady.py --rate 2000 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from abba import abba, free_port, stop_cleanly_on_sigterm
from confluent_kafka import Producer

from vitrina import broker
from vitrina.kafka.admin import apply_topics
from vitrina.kafka.clients import producer_config
from vitrina.kafka.inspect import group_members
from vitrina.services.lake_sink import FETCH_BATCHING
from vitrina.settings import Settings, load_settings

DEFAULT_FETCH = {"fetch.min.bytes": 1, "fetch.wait.max.ms": 500}  # librdkafka's own
SINK = """
import json, os
from vitrina.services.lake_sink import build_worker, relax_gc
from vitrina.settings import load_settings
relax_gc()
worker = build_worker(load_settings(), consumer_extra=json.loads(os.environ["FETCH"]))
worker.install_signal_handlers()
worker.run()
"""


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def broker_pid(data_dir: Path) -> int:
    """The embedded broker's JVM: the java process whose command line names the data dir."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "java" in cmd and str(data_dir) in cmd:
            return int(pid)
    raise RuntimeError("the embedded broker's process was not found")


def query(n: int) -> bytes:
    return orjson.dumps(
        {
            "query_id": f"q{n}",
            "user_id": f"u{n % 500}",
            "kind": "search",
            "query": "чайник электрический",
            "filters": {"limit": 10, "in_stock": True},
            "result_count": 5,
            "latency_ms": 1.2,
            "timestamp": datetime.now(UTC).isoformat(),
        }
    )


def run_side(settings: Settings, fetch: dict[str, Any], rate: int, seconds: float) -> dict:
    """One run: a fresh sink (its own group, from the end), `rate` records/s for `seconds`."""
    env = {
        **os.environ,
        "VITRINA__DATA_DIR": str(settings.data_dir),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "VITRINA__LAKE__CONSUMER_GROUP": f"steady-{uuid.uuid4().hex[:8]}",
        "FETCH": json.dumps({**fetch, "auto.offset.reset": "latest"}),
    }
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    producer = Producer(producer_config(settings, "bench"))
    try:
        deadline = time.monotonic() + 60
        while not group_members(settings, env["VITRINA__LAKE__CONSUMER_GROUP"], "bench"):
            if sink.poll() is not None:
                raise RuntimeError(f"the sink exited: {sink.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise RuntimeError("the sink did not join its group in 60 s")
            time.sleep(0.2)
        pid = broker_pid(settings.data_dir)
        started, b0, s0, sent = time.monotonic(), cpu_ticks(pid), cpu_ticks(sink.pid), 0
        while (elapsed := time.monotonic() - started) < seconds:
            while sent < int(elapsed * rate):
                producer.produce(settings.topics.client_queries, query(sent), f"u{sent % 500}")
                sent += 1
            producer.poll(0)
            time.sleep(0.005)
        producer.flush(30)
        elapsed = time.monotonic() - started
        broker_cores = (cpu_ticks(pid) - b0) / 100 / elapsed
        sink_cores = (cpu_ticks(sink.pid) - s0) / 100 / elapsed
    finally:
        sink.terminate()
        sink.wait(30)
    return {
        "cores": round(broker_cores + sink_cores, 4),
        "broker_cores": round(broker_cores, 4),
        "sink_cores": round(sink_cores, 4),
        "records_per_s": round(sent / elapsed),
    }


def main() -> None:
    stop_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="query-log records per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each run")
    parser.add_argument("--rounds", type=int, default=4, help="ABBA rounds")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="vitrina-bench-steady-"))
    port = free_port()
    settings = load_settings(
        data_dir=data_dir,
        broker={"port": port},
        kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
    )
    broker.start(settings)
    try:
        apply_topics(settings)
        result = abba(
            lambda: run_side(settings, DEFAULT_FETCH, args.rate, args.seconds),
            lambda: run_side(settings, FETCH_BATCHING, args.rate, args.seconds),
            rounds=args.rounds,
            key="cores",
        )
    finally:
        broker.stop(settings)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "lake_sink_steady_fetch",
                "rate": args.rate,
                "seconds": args.seconds,
                "baseline": "librdkafka's default fetch (fetch.min.bytes 1)",
                "candidate": f"the sink's FETCH_BATCHING {FETCH_BATCHING}",
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
