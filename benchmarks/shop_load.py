"""Benchmark: products/s through the real `shop load` path vs a raw produce of the same bytes.

Both run in the same process against the same broker, into fresh topics with the same
producer settings (acks=all, idempotent, lz4), interleaved raw, load, load, raw and load, raw,
raw, load by turns for --rounds rounds after a warm-up run of each (benchmarks/abba.py); the median ratio (with its spread and the load average) shows
what parsing + validation + ownership + dead-letter bookkeeping cost on top of Kafka itself,
and each side's client CPU per product (steadier than the rate on a loaded machine).
Prints JSON. Target: ratio ≥ 0.7.

    .venv/bin/python benchmarks/shop_load.py            # 200k products, own broker
    .venv/bin/python benchmarks/shop_load.py --n 20000 --bootstrap 127.0.0.1:19092

Where a product's client CPU goes (issue 15, generated catalogue, main-thread CPU measured
with time.thread_time against an unreachable broker, so only the Python side counts):

- the one-pass check (contracts/product_check.py), ~5.5 us: msgspec's typed decode ~5.0,
  most of it building the ~25 (mostly Cyrillic) strings of a product; untyped msgspec is
  4.2, orjson.loads 2.9, orjson + the same checks in Python 7.5. The instants' regexes are
  ~0.25 us each, cheaper than any str-level replacement tried;
- splitting lines and the two generators (shop_lines.candidates): ~0.8 us;
- producer.produce(): ~1.8 us, the same as the raw side's; librdkafka's threads ~2.7 us more
  on both sides;
- ownership, ~1.3 us: the lookup in a dict growing to every id ~0.7 (a cache miss or two
  per product), the insert and the claims ~0.5. Claims go out as one batch record per
  partition per 1,000 products; one claim record per product cost ~0.5 us more of the
  main thread (A/B, same harness) and doubled the records librdkafka and the broker handle,
  which the client-CPU numbers of a shared 2-core machine could not separate from noise.
  Since 2026-12-03 a block's products wait for their claims' acknowledgement (a producer of
  its own for the claims, docs/contracts.md): +0.4-0.6 us of client CPU a product, 3-5 %
  of the load rate (ABBA of both commits, 100k, three runs each: 87.2k vs 82.7k products/s).

Tried and not kept (issue 15 item 5): checking a chunk of lines columnar, as the lake sink
does (lake/product_rules.py; `specifications` cut out as text, pyarrow.json.read_json over
the joined chunk, the vectorised rules, ids and stores read from the columns) costs more
main-thread CPU than the one-pass check it would replace: 6.2 us a product at 5,000 lines a
chunk, 6.7 at 2,000, 7.8 at 1,000, against msgspec's 4.7-5.0 (50k generated products, the
specifications texts learnt already; ~12 on a first pass). Arrow's reader alone is ~3.1 us a
product with `specifications` cut out, the chunk's UTF-8 check 0.7, the cut 0.9, the rules
1.2-2.0: the parse alone costs what msgspec's typed decode does, before any rule runs, and
the reader's threads would only move that CPU onto the core the broker and librdkafka use.
Fusing line splitting into the check's generator saved ~0.1 us (8.12 -> 8.07), noise.
Nor `specifications` and `tags` decoded as msgspec.Raw with each distinct text's verdict
cached (50k products hold ~2,500 and ~210 of them): the decode drops from 4.5 to 3.2 us,
but msgspec checks every duplicate of a typed key and only the last of a Raw one, and the
guards that make that exact (no backslash in the line, each key once: three byte searches
of ~1.2 kB) bring it to 5.5.
So at ~1.2 kB a product the ratio stays near 0.4 (client CPU 10.5 vs 3.75 us): if the rate
follows the client CPU, 0.7 needs ~5.6 us a product, ~1.7 us above the raw side's, less than
orjson.loads (2.75 us) or decoding the line to a str (1.3 us) alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from abba import abba, free_port, runs_of_each_side, stop_cleanly_on_sigterm
from confluent_kafka import Producer
from rich.console import Console

from vitrina import broker
from vitrina.domain.catalog import dump_catalog
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.admin import create_topic
from vitrina.kafka.clients import producer_config
from vitrina.services.ownership import OwnersView
from vitrina.services.shop_load import ShopLoader
from vitrina.settings import Settings, load_settings

console = Console(stderr=True)


def wait_for_leaders(settings: Settings, topics: list[str], timeout: float = 60.0) -> None:
    """Until every partition of `topics` has a leader (producers then start at once)."""
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config

    admin = AdminClient(admin_config(settings, "bench"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = admin.list_topics(timeout=10).topics
        if all(
            t in meta
            and meta[t].partitions
            and not meta[t].error
            and all(p.leader >= 0 for p in meta[t].partitions.values())
            for t in topics
        ):
            return
        time.sleep(0.2)
    raise SystemExit(f"topics without leaders after {timeout:.0f} s")


def cpu_s() -> float:
    """CPU seconds of this process so far, every thread (librdkafka's too), user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_produce(settings: Settings, topic: str, records: list[tuple[str, bytes]]) -> float:
    """Seconds to produce and confirm `records` with a plain confluent-kafka producer."""
    failed = [0]

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            failed[0] += 1

    # Error-only delivery reports, like the loader: both sides pay the same for confirmations.
    producer = Producer(
        producer_config(
            settings, "bench-raw", on_delivery=on_delivery, **{"delivery.report.only.error": True}
        )
    )
    # Connected, with the topic's metadata, before the clock starts (as the loader's is by
    # the time its first product is parsed and checked).
    producer.list_topics(topic, timeout=10)
    started = time.perf_counter()
    for i, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 1000 == 0:
            producer.poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if remaining or failed[0]:
        raise SystemExit(f"raw produce: {remaining} unconfirmed, {failed[0]} failed")
    return elapsed


def load_path(settings: Settings, data: bytes) -> tuple[float, int]:
    """Seconds for the real loader (parse + validate + own + produce + confirm) over `data`.

    With ownership on, as `vitrina shop load` runs it: every new id is claimed in
    product-owners (a batch record per partition per 1,000 products), and the owners are
    followed while it runs (a view of the topic in a thread of the process; its start and
    first read, of an empty topic, are not timed).
    """
    view = OwnersView(settings, principal="shop-load").start()
    try:
        loader = ShopLoader(settings, source="bench", owners=view.ready(60).by_product)
        started = time.perf_counter()
        loader.load_bytes(data, "bench")
        report = loader.finish(120)
        return time.perf_counter() - started, report.delivered
    finally:
        view.stop()


def main(argv: list[str] | None = None) -> None:
    stop_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="products (default 200k)")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--rounds", type=int, default=4, help="ABBA/BAAB rounds (even, >= 4)")
    parser.add_argument(
        "--shape",
        choices=["jsonl", "array"],
        default="jsonl",
        help="catalogue file shape fed to the loader",
    )
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="vitrina-bench-"))
    started_broker = None
    if args.bootstrap:
        bootstrap = args.bootstrap
        settings = load_settings(data_dir=tmp, kafka={"bootstrap_servers": bootstrap})
    else:
        port = free_port()
        bootstrap = f"127.0.0.1:{port}"
        settings = load_settings(
            data_dir=tmp, broker={"port": port}, kafka={"bootstrap_servers": bootstrap}
        )
        with console.status(f"starting an embedded broker on {bootstrap}"):
            broker.start(settings)
        started_broker = settings
    try:
        suffix = uuid.uuid4().hex[:8]
        names = {"dead_letters": f"bench-dlq-{suffix}"}
        settings = load_settings(data_dir=tmp, kafka={"bootstrap_servers": bootstrap}, topics=names)
        create_topic(settings, names["dead_letters"], partitions=settings.kafka.partitions)
        with console.status(f"generating {args.n:,} products"):
            products = list(generate_catalog(args.n, seed=42))
            data = b"".join(dump_catalog(products, jsonl=args.shape == "jsonl"))
            records = [(p["product_id"], orjson.dumps(p)) for p in products]
            del products
        mean_bytes = sum(len(v) for _, v in records) / len(records)
        # Fresh topics for every run, all created (and their leaders elected) before the
        # first timed run: a topic created just before a run made that side wait for its
        # metadata, which is not what either side costs.
        step = iter(range(1_000_000))
        planned = {
            kind: [f"bench-{kind}-{suffix}-{i}" for i in range(runs_of_each_side(args.rounds))]
            for kind in ("raw", "load", "owners")
        }
        with console.status("creating the runs' topics"):
            for topic in (t for names_ in planned.values() for t in names_):
                create_topic(settings, topic, partitions=settings.kafka.partitions)
            wait_for_leaders(settings, [t for names_ in planned.values() for t in names_])
        used = {kind: iter(names_) for kind, names_ in planned.items()}

        def fresh(kind: str) -> str:
            next(step)
            return next(used[kind])

        def raw_run() -> dict[str, float]:
            with console.status(f"raw produce ({args.n:,} products)"):
                cpu = cpu_s()
                seconds = raw_produce(settings, fresh("raw"), records)
                cpu_us = (cpu_s() - cpu) / args.n * 1e6
            return {"rate": args.n / seconds, "seconds": round(seconds, 3), "cpu_us": cpu_us}

        def load_run() -> dict[str, float]:
            run = load_settings(
                data_dir=tmp,
                kafka={"bootstrap_servers": bootstrap},
                topics={**names, "shop_products": fresh("load"), "product_owners": fresh("owners")},
            )
            with console.status(f"shop load ({args.n:,} products)"):
                cpu = cpu_s()
                seconds, delivered = load_path(run, data)
                cpu_us = (cpu_s() - cpu) / args.n * 1e6
            if delivered != args.n:
                raise SystemExit(f"loader confirmed {delivered} of {args.n}")
            return {"rate": args.n / seconds, "seconds": round(seconds, 3), "cpu_us": cpu_us}

        measured = abba(raw_run, load_run, args.rounds)
        result = {
            "benchmark": "shop_load",
            "n": args.n,
            "shape": args.shape,
            "mean_record_bytes": round(mean_bytes),
            "products_per_s": round(measured["candidate"]["median"]),
            "raw_per_s": round(measured["baseline"]["median"]),
            "ratio": measured["ratio"]["median"],
            "ratio_spread": measured["ratio"],
            "load_average": measured["load_average"],
            "rounds": measured["rounds"],
            "order": measured["order"],
            # Client-side CPU per product (this process, every thread; the broker's not):
            # steadier than products/s on a loaded machine.
            "load_cpu_us_per_record": round(
                statistics.median(r["cpu_us"] for r in measured["candidate_runs"]), 2
            ),
            "raw_cpu_us_per_record": round(
                statistics.median(r["cpu_us"] for r in measured["baseline_runs"]), 2
            ),
            "load_seconds": [r["seconds"] for r in measured["candidate_runs"]],
            "raw_seconds": [r["seconds"] for r in measured["baseline_runs"]],
            "target_ratio": 0.7,
            "broker": "embedded (own)" if started_broker else bootstrap,
        }
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    finally:
        if started_broker is not None:
            broker.stop(started_broker)
        # The broker's log of every run (~1 GB at 200k) goes with it.
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
