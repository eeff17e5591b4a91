"""Benchmark: the lake sink vs a raw consume-and-parse loop over the same topic.

Same run, same embedded broker, same input (n × ~1.2 KB generated products in
shop-products). The baseline reads every record and parses its JSON (no validation, no
files); the sink validates, converts to typed rows, writes zstd Parquet atomically and
commits. Reports msg/s of both, their ratio, files/bytes written, the Parquet size relative
to the JSON bytes, peak RSS, and the exactly-once check (distinct offsets == rows == n).
Timers start at the first record each reader sees, so the group join (~3 s) is not counted.

    .venv/bin/python benchmarks/lake.py            # 100k products
    .venv/bin/python benchmarks/lake.py --n 20000  # scaled down
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Message, Producer
from prometheus_client import REGISTRY
from rich.progress import Progress

from vitrina import broker
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.admin import apply_topics
from vitrina.kafka.clients import consumer_config, producer_config
from vitrina.kafka.deadletter import Output
from vitrina.kafka.worker import produce_output
from vitrina.lake.reader import dataset_stats, read_dataset
from vitrina.lake.writer import LakeWriter
from vitrina.services.lake_sink import build_worker
from vitrina.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_input(settings: Settings, n: int) -> int:
    """Produce n generated products to shop-products; return the JSON bytes produced."""
    producer = Producer(producer_config(settings, "bench"))
    total = 0
    with Progress(transient=True) as progress:
        task = progress.add_task("producing products", total=n)
        for i, product in enumerate(generate_catalog(n, seed=11)):
            value = orjson.dumps(product)
            total += len(value)
            produce_output(
                producer, Output(settings.topics.shop_products, product["product_id"], value)
            )
            if i % 5000 == 0:
                producer.poll(0)
                progress.update(task, completed=i)
        producer.flush(120)
    return total


def baseline(settings: Settings, n: int) -> float:
    """Plain consumer: read and parse every record until all n are seen. msg/s."""
    consumer = Consumer(consumer_config(settings, "bench", f"raw-{time.time_ns()}"))
    consumer.subscribe([settings.topics.shop_products])
    seen, started = 0, 0.0
    deadline = time.monotonic() + 600
    while seen < n and time.monotonic() < deadline:
        for msg in consumer.consume(1000, 0.5):
            if msg.error() is not None:
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    raise RuntimeError(str(msg.error()))
                continue
            if not started:
                started = time.perf_counter()
            orjson.loads(msg.value() or b"null")
            seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    if seen < n:
        raise RuntimeError(f"baseline read only {seen} of {n}")
    return n / elapsed


def rows_written() -> float:
    return (
        REGISTRY.get_sample_value("vitrina_lake_rows_written_total", {"dataset": "shop_products"})
        or 0.0
    )


def sink(settings: Settings, n: int, progress: Progress) -> dict[str, Any]:
    """The real sink in a thread until all n rows are in Parquet and committed. msg/s."""
    worker = build_worker(settings, group_id=f"lake-bench-{time.time_ns()}")
    first: list[float] = []
    process = worker.step.process

    def timed(message: Message) -> Any:
        if not first:
            first.append(time.perf_counter())
        return process(message)

    worker.step.process = timed  # type: ignore[method-assign]
    before = rows_written()
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    task = progress.add_task("lake sink", total=n)
    deadline = time.monotonic() + 900
    while rows_written() - before < n and time.monotonic() < deadline:
        progress.update(task, completed=rows_written() - before)
        time.sleep(0.05)  # polling a counter for the progress bar, not a correctness wait
    done = time.perf_counter()
    worker.stop()
    thread.join(60)
    if rows_written() - before < n:
        raise RuntimeError(f"sink wrote only {rows_written() - before:.0f} of {n} rows")
    return {"msg_per_s": n / (done - first[0]), "seconds": done - first[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="products to write")
    args = parser.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory(prefix="vitrina-lake-bench-") as tmp:
        port = free_port()
        settings = load_settings(
            data_dir=Path(tmp),
            broker={"port": port},
            kafka={"bootstrap_servers": f"127.0.0.1:{port}"},
            # 1 s: the default 5 s time flush would dominate a short run
            lake={"flush_records": 5000, "flush_seconds": 1.0},
        )
        broker.start(settings)
        try:
            apply_topics(settings)
            json_bytes = load_input(settings, n)
            base = baseline(settings, n)
            with Progress(transient=True) as progress:
                result = sink(settings, n, progress)
            writer = LakeWriter.from_settings(settings)
            stats = dataset_stats(writer, "shop_products")
            table = read_dataset(writer, "shop_products", ["_partition", "_offset"])
            distinct = len(
                set(
                    zip(
                        table.column("_partition").to_pylist(),
                        table.column("_offset").to_pylist(),
                        strict=True,
                    )
                )
            )
        finally:
            broker.stop(settings)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "lake",
                "n": n,
                "baseline_consume_parse_msg_per_s": round(base),
                "lake_sink_msg_per_s": round(result["msg_per_s"]),
                "ratio_sink_to_baseline": round(result["msg_per_s"] / base, 3),
                "sink_seconds": round(result["seconds"], 2),
                "files": stats.files,
                "rows": stats.rows,
                "parquet_bytes": stats.bytes,
                "json_bytes": json_bytes,
                "parquet_to_json_size": round(stats.bytes / json_bytes, 3),
                "exactly_once": distinct == stats.rows == n,
                "flush_records": settings.lake.flush_records,
                "flush_seconds": settings.lake.flush_seconds,
                "peak_rss_mb": round(peak_mb),
                "note": "2-core machine shared with other engineers' work: numbers are under contention",
            },
            indent=2,
        )
    )
    sys.exit(0 if distinct == stats.rows == n else 1)


if __name__ == "__main__":
    main()
