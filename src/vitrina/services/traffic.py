"""Demo traffic: orders and client events of customers with stable preferences, to Kafka.

The sessions come from the pure generator (domain/generator.py); this edge paces them to a
rate, stamps them with the real time of sending (consumers see a live stream), validates each
against its contract and produces it keyed by customer / user id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from vitrina import metrics
from vitrina.contracts import encode
from vitrina.domain.catalog import parse_catalog
from vitrina.domain.generator import customers, generate_traffic
from vitrina.errors import VitrinaError
from vitrina.kafka.produce import produce
from vitrina.kafka.worker import make_producer
from vitrina.lifecycle import stop_event
from vitrina.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "traffic"
# 20 msg/s: visible activity in the demo without loading a shared 2-core machine.
SERVICE_RATE = 20.0
CUSTOMERS = 200
CONTRACT = {"orders": "order", "client_events": "client_event"}
KEY_FIELD = {"orders": "customer_id", "client_events": "user_id"}


def sample_catalog_bytes() -> bytes:
    return (resources.files("vitrina") / "data" / "sample-catalog.json").read_bytes()


def load_catalog(path: Path | None) -> list[dict[str, Any]]:
    """Products of a catalogue file (default: the packaged sample); invalid records skipped."""
    data = path.read_bytes() if path else sample_catalog_bytes()
    products = [
        r.value
        for r in parse_catalog(data).records
        if r.ok
        and isinstance(r.value, dict)
        and "product_id" in r.value
        and isinstance(r.value.get("price"), dict)
    ]
    if not products:
        raise VitrinaError(
            f"no products in {path or 'the sample catalogue'}",
            hint="give a catalogue made by `vitrina generate catalog`",
        )
    return products


def stamp(topic: str, message: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Re-stamp a generated message with the sending time (a live stream, not a replay)."""
    iso = now.isoformat().replace("+00:00", "Z")
    if topic == "orders":
        return {**message, "order_date": iso, "timestamp": now.timestamp()}
    return {**message, "timestamp": iso}


def run_traffic(
    settings: Settings,
    *,
    rate: float,
    duration: float | None = None,
    catalog: list[dict[str, Any]] | None = None,
    seed: int | None = None,
    stop: threading.Event | None = None,
    on_sent: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Counter[str]:
    """Produce about `rate` messages/s for `duration` s (or until `stop`); returns counts."""
    if rate <= 0:
        raise VitrinaError(f"rate must be positive, got {rate}", hint="e.g. --rate 50")
    stop = stop or threading.Event()
    products = catalog or load_catalog(None)
    # Without a seed every run differs, so order and event ids stay unique across restarts.
    seed = seed if seed is not None else time.time_ns()
    people = customers(CUSTOMERS, seed=42)  # the same population every run: stable preferences
    stream = generate_traffic(products, people, seed=seed, start=datetime.now(UTC), count=2**62)
    topics = {"orders": settings.topics.orders, "client_events": settings.topics.client_events}
    failures: list[str] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(str(err))
        else:
            metrics.PRODUCED.labels(SERVICE, msg.topic()).inc()

    producer = make_producer(settings, SERVICE, on_delivery=delivered)
    sent: Counter[str] = Counter()
    started = clock()
    total = 0
    try:
        while not stop.is_set():
            elapsed = clock() - started
            if duration is not None and elapsed >= duration:
                break
            due = int(rate * elapsed) + 1 - total
            for _ in range(max(0, due)):
                kind, message = next(stream)
                value = stamp(kind, message, datetime.now(UTC))
                produce(
                    producer,
                    topics[kind],
                    encode(CONTRACT[kind], value),
                    str(value[KEY_FIELD[kind]]),
                )
                sent[kind] += 1
                total += 1
            if due > 0 and on_sent:
                on_sent(due)
            producer.poll(0)
            if failures:
                log.warning("traffic: %d messages not delivered (%s)", len(failures), failures[0])
                failures.clear()
            # Sleep until the next message is due (at most 0.1 s so stop() is prompt).
            stop.wait(min(0.1, max(0.0, (total - rate * (clock() - started)) / rate)))
    finally:
        producer.flush(10)
    return sent


def main(settings: Settings) -> None:
    """`vitrina run traffic`: ~20 msg/s forever, metrics on settings.ports.traffic."""
    metrics.serve_metrics(settings, settings.ports.traffic)
    stop = stop_event()
    log.info(
        "traffic: %.0f msg/s to %s and %s",
        SERVICE_RATE,
        settings.topics.orders,
        settings.topics.client_events,
    )
    sent = run_traffic(settings, rate=SERVICE_RATE, stop=stop)
    log.info("traffic stopped: %s", dict(sent))
