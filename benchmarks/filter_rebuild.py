"""Benchmark: the filter's state rebuild (`FilterStep.recover`) over n published products.

Every start, rebalance and rewind of the filter rebuilds the shelves of the partitions it
takes from filtered-products (and withheld-products) before it routes a record, so the
rebuild is how long a restarted filter keeps products waiting. n generated products (~1.2 KB
each) are published to filtered-products of an embedded broker; then the rebuild of all
partitions runs with the reader the filter ships (`filter.REBUILD_READER`) against the reader
it had before (an 8 MB prefetch queue and librdkafka's default 1 s pause after a full queue,
`fetch.queue.backoff.ms`), A B B A and B A A B by turns after a warm-up run of each
(benchmarks/abba.py). Prints JSON: each side's products rebuilt a second (median, spread),
the ratio, wall and CPU seconds of every run, and the load average.

    .venv/bin/python benchmarks/filter_rebuild.py               # 200k products, 4 rounds
    .venv/bin/python benchmarks/filter_rebuild.py --n 1000000 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from abba import abba, free_port, stop_cleanly_on_sigterm
from confluent_kafka import Producer, TopicPartition
from rich.console import Console
from rich.progress import Progress

import vitrina.services.filter as filter_service
from vitrina import broker
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.admin import apply_topics
from vitrina.kafka.clients import producer_config
from vitrina.settings import Settings, load_settings

console = Console(stderr=True)

# The rebuild's reader before fetch.queue.backoff.ms was set (librdkafka's default: 1 s).
BEFORE: dict[str, Any] = {"queued.max.messages.kbytes": 8192}


def publish(settings: Settings, n: int) -> None:
    """n generated products in filtered-products, keyed by product_id."""
    producer = Producer(producer_config(settings, "bench"))
    topic = settings.topics.filtered_products
    with Progress(transient=True, console=console) as progress:
        task = progress.add_task("publishing products", total=n)
        for i, product in enumerate(generate_catalog(n, seed=3)):
            value, key = orjson.dumps(product), str(product["product_id"]).encode()
            while True:
                try:
                    producer.produce(topic, value, key)
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.1)
            if i % 5000 == 0:
                producer.poll(0)
                progress.update(task, completed=i)
    if producer.flush(300):
        raise SystemExit("the broker did not take every product in 300 s")


def main() -> int:
    stop_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="published products")
    parser.add_argument("--rounds", type=int, default=4, help="ABBA/BAAB rounds (even, >= 4)")
    args = parser.parse_args()
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    shipped = dict(filter_service.REBUILD_READER)
    with tempfile.TemporaryDirectory(prefix="vitrina-bench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), broker={"port": port}, kafka={"bootstrap_servers": bootstrap}
        )
        with console.status(f"starting an embedded broker on {bootstrap}"):
            broker.start(settings)
        try:
            apply_topics(settings)
            publish(settings, args.n)
            step, _worker = filter_service.build(settings)
            partitions = [
                TopicPartition(settings.topics.shop_products, p)
                for p in range(settings.kafka.partitions)
            ]

            def side(reader: dict[str, Any]) -> Any:
                def run() -> dict[str, Any]:
                    filter_service.REBUILD_READER = reader
                    cpu, wall = time.process_time(), time.perf_counter()
                    step.recover(partitions)
                    wall = time.perf_counter() - wall
                    rebuilt = sum(len(shelf) for shelf in step.shelves.values())
                    if rebuilt != args.n:
                        raise SystemExit(f"rebuilt {rebuilt} products, not {args.n}")
                    return {
                        "rate": round(rebuilt / wall, 1),
                        "wall_s": round(wall, 2),
                        "cpu_s": round(time.process_time() - cpu, 2),
                    }

                return run

            measured = abba(side(BEFORE), side(shipped), args.rounds)
        finally:
            filter_service.REBUILD_READER = shipped
            broker.stop(settings)
    print(
        json.dumps(
            {
                "benchmark": "filter_rebuild",
                "products": args.n,
                "broker": f"embedded {settings.broker.engine}",
                "baseline": {"reader": BEFORE, **measured["baseline"]},
                "candidate": {"reader": shipped, **measured["candidate"]},
                "ratio": measured["ratio"],
                "load_average": measured["load_average"],
                "rounds": measured["rounds"],
                "order": measured["order"],
                "runs": {
                    "baseline": measured["baseline_runs"],
                    "candidate": measured["candidate_runs"],
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
