"""Operator views of the pipeline: service health from /metrics, topics, dead letters.

What people used Kafka UI for, read straight from the broker and the services' /metrics:
- topic sizes come from watermarks, which the embedded broker under-reports, so they are
  clamped at 0 and labelled approximate;
- "latest messages" start a little before the high watermark and read on to end-of-partition
  (EOF is right even when the watermark is not), keeping the last N;
- emails in message previews are masked: they are personal data and never shown in clear.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
from confluent_kafka import Consumer, KafkaException, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from vitrina.errors import BrokerError, NotFoundError
from vitrina.kafka.clients import consumer_config
from vitrina.kafka.deadletter import HEADER_ERROR, headers_dict
from vitrina.kafka.inspect import TO_THE_END, TopicFollower
from vitrina.settings import Settings
from vitrina.topics import declared_topics

EMAIL = re.compile(r"[^\s\"'@<>]+@[^\s\"'@<>]+\.[A-Za-z]{2,}")
PREVIEW_CHARS = 2000  # enough to read a product; a page of 50 stays small


# -- pure helpers ------------------------------------------------------------------------
def mask_emails(text: str) -> str:
    return EMAIL.sub(lambda m: m.group(0)[0] + "***@***", text)


def preview(raw: bytes | None) -> Any:
    """A message value for display: parsed JSON when it is JSON, text otherwise, emails masked."""
    if raw is None:
        return None
    text = mask_emails(raw[: PREVIEW_CHARS * 4].decode("utf-8", "replace"))
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text[:PREVIEW_CHARS]


def summarize_metrics(text: str) -> dict[str, float]:
    """Totals of one service's /metrics: messages in/out, dead letters, lag, requests."""
    wanted = {
        "vitrina_worker_consumed_messages": "consumed",
        "vitrina_worker_produced_messages": "produced",
        "vitrina_worker_dead_lettered_messages": "dead_lettered",
        "vitrina_worker_consumer_lag_messages": "lag",
        "vitrina_worker_broker_up": "broker_up",
        "vitrina_worker_last_commit_timestamp_seconds": "last_commit",
        "vitrina_api_requests": "requests",
    }
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        key = wanted.get(family.name)
        if key is None:
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            if key in ("broker_up", "last_commit"):
                out[key] = max(out.get(key, 0.0), sample.value)
            else:
                out[key] = out.get(key, 0.0) + sample.value
    return out


def with_rates(
    name: str,
    now: float,
    totals: dict[str, float],
    previous: dict[str, tuple[float, dict[str, float]]],
) -> dict[str, float]:
    """Messages per second since the previous scrape of the same service (0 on the first)."""
    rates: dict[str, float] = {}
    last = previous.get(name)
    if last is not None and now > last[0]:
        for key in ("consumed", "produced", "dead_lettered", "requests"):
            delta = totals.get(key, 0.0) - last[1].get(key, 0.0)
            rates[f"{key}_per_s"] = round(max(0.0, delta) / (now - last[0]), 2)
    previous[name] = (now, totals)
    return rates


# -- service health ----------------------------------------------------------------------
def _scrape(url: str, timeout: float) -> str | None:
    try:
        response = httpx.get(url, timeout=timeout)
        return response.text if response.status_code == 200 else None
    except httpx.HTTPError:
        return None


def pipeline_health(
    settings: Settings,
    previous: dict[str, tuple[float, dict[str, float]]],
    own_metrics: str,
    timeout: float = 1.0,
) -> list[dict[str, Any]]:
    """One row per service of `vitrina up`: up/down, totals and rates from its /metrics."""
    from vitrina.services import SERVICES

    host = "127.0.0.1"
    targets = [(spec.name, getattr(settings.ports, spec.port_field)) for spec in SERVICES]

    def fetch(target: tuple[str, int]) -> str | None:
        name, port = target
        if name == "client-api":
            return own_metrics
        return _scrape(f"http://{host}:{port}/metrics", timeout)

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        texts = list(pool.map(fetch, targets))
    now = time.monotonic()
    rows = []
    for (name, port), text in zip(targets, texts, strict=True):
        row: dict[str, Any] = {"service": name, "port": port, "up": text is not None}
        if text is not None:
            totals = summarize_metrics(text)
            row.update(totals)
            row.update(with_rates(name, now, totals, previous))
        rows.append(row)
    return rows


# -- topics ------------------------------------------------------------------------------
def _reader(settings: Settings) -> Consumer:
    return Consumer(
        consumer_config(
            settings,
            "client-api",
            f"vitrina-client-api-browse-{uuid.uuid4().hex[:8]}",
            **{"enable.partition.eof": True},
        )
    )


def _partitions(consumer: Consumer, topic: str | None = None) -> dict[str, list[int]]:
    try:
        metadata = consumer.list_topics(topic, timeout=5)
    except KafkaException as exc:
        consumer.poll(0)  # its ErrorWatch raises a refused login or an untrusted CA as such
        raise BrokerError(
            f"cannot reach the broker: {exc}", hint="is it running? `vitrina broker status`"
        ) from None
    return {
        name: sorted(t.partitions)
        for name, t in metadata.topics.items()
        if t.error is None and not name.startswith("__")
    }


def topic_overview(settings: Settings) -> list[dict[str, Any]]:
    """Every topic with partitions and an approximate size (high minus low watermark)."""
    roles = {spec.name: spec for spec in declared_topics(settings)}
    consumer = _reader(settings)
    try:
        rows = []
        for name, parts in sorted(_partitions(consumer).items()):
            size = 0
            for p in parts:
                try:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(name, p), timeout=2, cached=False
                    )
                    size += max(0, high - max(low, 0))
                except KafkaException:
                    continue
            spec = roles.get(name)
            rows.append(
                {
                    "topic": name,
                    "role": spec.role if spec else None,
                    "partitions": len(parts),
                    "messages_approx": size,
                    "compacted": bool(spec and spec.compacted),
                    "approximate": True,
                }
            )
        return rows
    finally:
        consumer.close()


def latest_messages(
    settings: Settings, topic: str, limit: int = 20, max_seconds: float = 3.0
) -> list[dict[str, Any]]:
    """The last `limit` records of every partition of `topic`, newest first."""
    consumer = _reader(settings)
    try:
        parts = _partitions(consumer, topic).get(topic)
        if not parts:
            raise NotFoundError(f"no topic {topic!r}", hint="pick one from the topic list")
        assignment = []
        for p in parts:
            try:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=2, cached=False
                )
            except KafkaException:
                low, high = 0, 0
            assignment.append(TopicPartition(topic, p, max(low, high - limit, 0)))
        # Per partition: the watermark may under-report, so keep reading to EOF (the shared
        # reader, kafka/inspect.TopicFollower) and keep only the newest `limit` of each.
        tail_reader = TopicFollower(settings, assignment, principal="client-api", **TO_THE_END)
        tails: dict[int, deque[dict[str, Any]]] = {p: deque(maxlen=limit) for p in parts}
        deadline = time.monotonic() + max_seconds
        while not tail_reader.at_end and time.monotonic() < deadline:
            try:
                batch = tail_reader.poll(500, 0.2, strict=False)
            except BaseException:
                tail_reader.close()
                raise
            for msg in batch:
                key = msg.key()
                tails[int(msg.partition() or 0)].append(
                    {
                        "partition": msg.partition(),
                        "offset": msg.offset(),
                        "timestamp_ms": msg.timestamp()[1],
                        "key": mask_emails(key.decode("utf-8", "replace")) if key else None,
                        "headers": {
                            k: mask_emails(v)
                            for k, v in headers_dict(msg.headers()).items()  # type: ignore[arg-type]
                        },
                        "value": preview(msg.value()),
                    }
                )
        tail_reader.close()
        rows = [row for tail in tails.values() for row in tail]
        rows.sort(key=lambda r: (r["timestamp_ms"] or 0, r["offset"]), reverse=True)
        return rows[:limit]
    finally:
        consumer.close()


def dead_letters(settings: Settings, limit: int = 50) -> list[dict[str, Any]]:
    """Latest dead letters with their reasons (the `error` header) and origin."""
    rows = latest_messages(settings, settings.topics.dead_letters, limit)
    for row in rows:
        row["reason"] = row["headers"].get(HEADER_ERROR, "(no reason header)")
    return rows
