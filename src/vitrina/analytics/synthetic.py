"""Synthetic lakes for tests, evaluation demos and benchmarks.

`write_generated_lake` pushes the platform's own generators (vitrina.domain.generator:
catalogue, customers with stable preferences, traffic) through the lake sink's row converters
and writer, so the files are exactly what the sink would write. `write_bulk_lake` builds
millions of order lines in seconds with DuckDB (hash-based, deterministic) for benchmarks;
its customers also have favourite categories and a personal taste within them.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from vitrina.domain.generator import CATALOGUE, customers, generate_catalog, generate_traffic
from vitrina.lake import layout
from vitrina.lake.rows import RecordMeta, lake_rows, timestamp_ms
from vitrina.lake.writer import LakeWriter

PARTITIONS = 3
PII_KEY = b"synthetic-lake-key"  # test data only: emails are generated, not personal
_QUERY_WORDS = ["смартфон", "ноутбук", "наушники", "кроссовки", "гантели", "куртка",
                "кофемашина", "конструктор", "роман", "умная колонка", "фен", "палатка"]
_NONSENSE = ["ыфвафыва", "qwerty123", "телепорт домашний", "антигравитатор"]


def _partition(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


def write_generated_lake(writer: LakeWriter, *, products: int = 300, customer_count: int = 60,
                         messages: int = 6000, seed: int = 7, banned_share: float = 0.05,
                         start: datetime | None = None) -> dict[str, Any]:
    """Write a small realistic lake; return what was generated (for assertions)."""
    begin = start or datetime(2025, 3, 1, tzinfo=UTC)
    catalog = list(generate_catalog(products, seed=seed, now=begin))
    people = customers(customer_count, seed=seed)
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    rows: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)

    def put(role: str, key: str, value: dict[str, Any] | None, ts_ms: int) -> None:
        part = 0 if role == "banned_products" else _partition(key)
        meta = RecordMeta(topic=role.replace("_", "-"), partition=part,
                          offset=offsets[(role, part)], timestamp_ms=ts_ms, key=key)
        offsets[(role, part)] += 1
        rows[(role, part)].extend(lake_rows(role, value, meta, PII_KEY))

    base_ms = int(begin.timestamp() * 1000)
    for product in catalog:
        put("shop_products", product["product_id"], product, base_ms)
    banned = [p["product_id"] for p in catalog[:: max(1, int(1 / banned_share))]]
    for pid in banned:
        put("banned_products", pid, {"product_id": pid, "reason": "test", "banned_by": "qa",
                                     "banned_at": begin.isoformat()}, base_ms + 1)
    # One product banned then unbanned: it must be recommendable again.
    unbanned = catalog[1]["product_id"]
    put("banned_products", unbanned, {"product_id": unbanned, "reason": "test",
                                      "banned_by": "qa", "banned_at": begin.isoformat()},
        base_ms + 2)
    put("banned_products", unbanned, None, base_ms + 3)

    last_ms = base_ms
    for role, message in generate_traffic(catalog, people, seed=seed,
                                          start=begin + timedelta(hours=1), count=messages):
        key = message["customer_id"] if role == "orders" else message["user_id"]
        field = "order_date" if role == "orders" else "timestamp"
        last_ms = timestamp_ms(message[field], field) or last_ms
        put(role, key, message, last_ms)
    for i in range(max(20, messages // 20)):
        user = people[i % len(people)]["customer_id"]
        nonsense = i % 7 == 0
        text = _NONSENSE[i % len(_NONSENSE)] if nonsense else _QUERY_WORDS[i % len(_QUERY_WORDS)]
        category = list(CATALOGUE)[i % len(CATALOGUE)] if i % 3 == 0 else None
        put("client_queries", user, {
            "query_id": f"q{i}", "user_id": user, "kind": "search", "query": text,
            "filters": {"category": category} if category else {},
            "result_count": 0 if nonsense else 1 + i % 40, "latency_ms": 1.0 + i % 5,
            "timestamp": (begin + timedelta(minutes=i)).isoformat()}, base_ms + i * 60000)

    for (role, _part), batch in sorted(rows.items()):
        for chunk_start in range(0, len(batch), 2000):
            chunk = batch[chunk_start:chunk_start + 2000]
            writer.write(role, layout.record_date(int(chunk[0]["_timestamp"])), chunk)
    return {"catalog": catalog, "customers": people, "banned": set(banned),
            "unbanned": unbanned, "end": datetime.fromtimestamp(last_ms / 1000, tz=UTC)}
