"""Synthetic lakes for tests, evaluation demos and benchmarks.

`write_generated_lake` pushes the platform's own generators (vitrina.domain.generator:
catalogue, customers with stable preferences, traffic) through the lake sink's row converters
and writer, so the files are exactly what the sink would write. `write_bulk_lake` builds
millions of order lines in seconds with DuckDB (hash-based, deterministic) for benchmarks;
its customers also have favourite categories and a personal taste within them.
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from vitrina.domain.generator import CATALOGUE, customers, generate_catalog, generate_traffic
from vitrina.lake import layout
from vitrina.lake.rows import RecordMeta, lake_rows, timestamp_ms
from vitrina.lake.writer import LakeWriter, parquet_bytes

PARTITIONS = 3
PII_KEY = b"synthetic-lake-key"  # test data only: emails are generated, not personal
_QUERY_WORDS = [
    "смартфон",
    "ноутбук",
    "наушники",
    "кроссовки",
    "гантели",
    "куртка",
    "кофемашина",
    "конструктор",
    "роман",
    "умная колонка",
    "фен",
    "палатка",
]
_NONSENSE = ["ыфвафыва", "qwerty123", "телепорт домашний", "антигравитатор"]
# A search that found nothing is followed, 30 s later, by the same customer's search for
# one of these (by the nonsense's place): what search_refinements learns.
_REFINED_AS = _QUERY_WORDS[: len(_NONSENSE)]


def _partition(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


def write_generated_lake(
    writer: LakeWriter,
    *,
    products: int = 300,
    customer_count: int = 60,
    messages: int = 6000,
    seed: int = 7,
    banned_share: float = 0.05,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Write a small realistic lake; return what was generated (for assertions)."""
    begin = start or datetime(2025, 3, 1, tzinfo=UTC)
    catalog = list(generate_catalog(products, seed=seed, now=begin))
    people = customers(customer_count, seed=seed)
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    rows: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)

    def put(role: str, key: str, value: dict[str, Any] | None, ts_ms: int) -> None:
        part = 0 if role == "banned_products" else _partition(key)
        meta = RecordMeta(
            topic=role.replace("_", "-"),
            partition=part,
            offset=offsets[(role, part)],
            timestamp_ms=ts_ms,
            key=key,
        )
        offsets[(role, part)] += 1
        rows[(role, part)].extend(lake_rows(role, value, meta, PII_KEY))

    base_ms = int(begin.timestamp() * 1000)
    for product in catalog:
        put("shop_products", product["product_id"], product, base_ms)
    banned = [p["product_id"] for p in catalog[:: max(1, int(1 / banned_share))]]
    for pid in banned:
        put(
            "banned_products",
            pid,
            {
                "product_id": pid,
                "reason": "test",
                "banned_by": "qa",
                "banned_at": begin.isoformat(),
            },
            base_ms + 1,
        )
    # One product banned then unbanned: it must be recommendable again.
    unbanned = catalog[1]["product_id"]
    put(
        "banned_products",
        unbanned,
        {
            "product_id": unbanned,
            "reason": "test",
            "banned_by": "qa",
            "banned_at": begin.isoformat(),
        },
        base_ms + 2,
    )
    put("banned_products", unbanned, None, base_ms + 3)

    last_ms = base_ms
    for role, message in generate_traffic(
        catalog, people, seed=seed, start=begin + timedelta(hours=1), count=messages
    ):
        key = message["customer_id"] if role == "orders" else message["user_id"]
        field = "order_date" if role == "orders" else "timestamp"
        last_ms = timestamp_ms(message[field], field) or last_ms
        put(role, key, message, last_ms)
    for i in range(max(20, messages // 20)):
        user = people[i % len(people)]["customer_id"]
        nonsense = i % 7 == 0
        text = _NONSENSE[i % len(_NONSENSE)] if nonsense else _QUERY_WORDS[i % len(_QUERY_WORDS)]
        category = list(CATALOGUE)[i % len(CATALOGUE)] if i % 3 == 0 else None
        searches = [(f"q{i}", text, 0 if nonsense else 1 + i % 40, 0)]
        if nonsense:
            refined = _REFINED_AS[_NONSENSE.index(text)]
            searches.append((f"q{i}r", refined, 1 + i % 40, 30))
        for query_id, query, results, later_s in searches:
            at = begin + timedelta(minutes=i, seconds=later_s)
            put(
                "client_queries",
                user,
                {
                    "query_id": query_id,
                    "user_id": user,
                    "kind": "search",
                    "query": query,
                    "filters": {"category": category} if category else {},
                    "result_count": results,
                    "latency_ms": 1.0 + i % 5,
                    "timestamp": at.isoformat(),
                },
                base_ms + i * 60000 + later_s * 1000,
            )

    for (role, _part), batch in sorted(rows.items()):
        for chunk_start in range(0, len(batch), 2000):
            chunk = batch[chunk_start : chunk_start + 2000]
            writer.write(role, layout.record_date(int(chunk[0]["_timestamp"])), chunk)
    return {
        "catalog": catalog,
        "customers": people,
        "banned": set(banned),
        "unbanned": unbanned,
        "end": datetime.fromtimestamp(last_ms / 1000, tz=UTC),
    }


def add_products(writer: LakeWriter, products: list[dict[str, Any]], at: datetime) -> None:
    """Write more shop-products records at `at` (partition 0, offsets past any generated)."""
    ts_ms = int(at.timestamp() * 1000)
    rows: list[dict[str, Any]] = []
    for n, product in enumerate(products):
        meta = RecordMeta(
            topic="shop-products",
            partition=0,
            offset=10**9 + n,
            timestamp_ms=ts_ms,
            key=product["product_id"],
        )
        rows.extend(lake_rows("shop_products", product, meta, PII_KEY))
    writer.write("shop_products", layout.record_date(ts_ms), rows)


def add_searches(
    writer: LakeWriter, searches: list[tuple[str, str, int, float]], at: datetime
) -> None:
    """Write client-queries records of searches (customer, query, results, seconds after
    `at`), partition 0, offsets past any generated."""
    rows: list[dict[str, Any]] = []
    for n, (user, query, results, seconds) in enumerate(searches):
        moment = at + timedelta(seconds=seconds)
        meta = RecordMeta(
            topic="client-queries",
            partition=0,
            offset=10**9 + n,
            timestamp_ms=int(moment.timestamp() * 1000),
            key=user,
        )
        record = {
            "query_id": f"added-{n}",
            "user_id": user,
            "kind": "search",
            "query": query,
            "filters": {},
            "result_count": results,
            "latency_ms": 1.0,
            "timestamp": moment.isoformat(),
        }
        rows.extend(lake_rows("client_queries", record, meta, PII_KEY))
    writer.write("client_queries", layout.record_date(int(at.timestamp() * 1000)), rows)


# -- bulk lakes for benchmarks -------------------------------------------------------------
_BULK_START = "TIMESTAMPTZ '2024-12-01 00:00:00+00'"
_BULK_SPAN_S = 180 * 86400  # half a year of history


def _picks(start: int, count: int, products: int, users: int, categories: int) -> str:
    """SELECT i, user index u, product index p, ts: one preference-driven pick per row.

    Product index p = category + categories * k (k = rank inside its category). 40 % / 35 %
    of picks come from the customer's two favourite categories, half of those from the
    customer's personal "taste" (every 10th product of a category, shifted per customer);
    15 % are bestsellers (k < 3); the rest anything. Skewed ranks (r^2, r^3) give a long tail.
    """
    per_cat = products // categories
    return f"""
      SELECT i, u, CAST(cat + {categories} * LEAST(k, {per_cat - 1}) AS BIGINT) AS p,
             {_BULK_START} + to_seconds(CAST((i - {start}) * {_BULK_SPAN_S} // {count}
                                             AS BIGINT)) AS ts
      FROM (SELECT i, u, r1,
              CASE WHEN r1 < 0.40 THEN hash(u, 10) % {categories}
                   WHEN r1 < 0.75 THEN hash(u, 11) % {categories}
                   ELSE hash(i, 5) % {categories} END AS cat,
              CASE WHEN r1 >= 0.75 AND r1 < 0.90 THEN hash(i, 6) % 3
                   WHEN r2 < 0.5 THEN hash(u, 12) % 10
                        + 10 * CAST(floor(r3 * r3 * {per_cat // 10}) AS BIGINT)
                   ELSE CAST(floor(r3 * r3 * r3 * {per_cat}) AS BIGINT) END AS k
            FROM (SELECT i, hash(i // 2, 1) % {users} AS u,
                    (hash(i, 2) % 1000000) / 1e6 AS r1, (hash(i, 3) % 1000000) / 1e6 AS r2,
                    (hash(i, 4) % 1000000) / 1e6 AS r3
                  FROM range({start}, {start + count}) AS t(i)) AS a) AS b"""


def write_bulk_lake(
    root: str, order_lines: int, *, products: int | None = None, customer_count: int | None = None
) -> dict[str, int]:
    """Write a lake of `order_lines` order lines (plus as many views) with DuckDB, in seconds.

    Local paths only (benchmarks). Files follow the lake layout, three source partitions.
    """
    import duckdb

    categories = len(CATALOGUE)
    n_products = products or max(1200, order_lines // 100)
    n_users = customer_count or max(100, order_lines // 20)
    names = "[" + ", ".join("'" + c + "'" for c in CATALOGUE) + "]"
    meta = "CAST({part} AS INTEGER) AS _partition"
    datasets = {
        "shop_products": f"""SELECT 'shop-products' AS _topic, {meta},
              CAST(p AS BIGINT) AS _offset, {_BULK_START} AS _timestamp,
              CAST(100001 + p AS VARCHAR) AS _key, CAST(100001 + p AS VARCHAR) AS product_id,
              'Товар ' || p AS name, {names}[1 + p % {categories}] AS category,
              'brand-' || (hash(p, 1) % 5) AS brand,
              100 + (hash(p, 2) % 100000) / 10.0 AS price_amount, 'RUB' AS price_currency,
              CAST(CASE WHEN hash(p, 3) % 100 < 8 THEN 0 ELSE 1 + hash(p, 4) % 500 END
                   AS BIGINT) AS stock_available,
              CAST(hash(p, 5) % 40 AS BIGINT) AS stock_reserved
            FROM range({n_products}) AS t(p) WHERE p % 3 = {{part}}""",
        "banned_products": f"""SELECT 'banned-products' AS _topic, {meta},
              CAST(p AS BIGINT) AS _offset, {_BULK_START} AS _timestamp,
              CAST(100001 + p AS VARCHAR) AS _key, CAST(100001 + p AS VARCHAR) AS product_id,
              'bench' AS reason, 'bench' AS banned_by, {_BULK_START} AS banned_at,
              FALSE AS tombstone
            FROM range({n_products}) AS t(p) WHERE hash(p, 7) % 50 = 0 AND p % 3 = {{part}}""",
        "orders": f"""SELECT 'orders' AS _topic, {meta}, CAST(i // 2 AS BIGINT) AS _offset,
              ts AS _timestamp, 'c' || u AS _key, 'o' || (i // 2) AS order_id,
              'c' || u AS customer_id, ts AS order_date, 'created' AS state,
              CAST(i % 2 AS INTEGER) AS line_no, CAST(100001 + p AS VARCHAR) AS product_id,
              CAST(1 + hash(i, 9) % 2 AS BIGINT) AS quantity, CAST(NULL AS DOUBLE) AS price
            FROM ({_picks(0, order_lines, n_products, n_users, categories)}) AS x
            WHERE (i // 2) % 3 = {{part}}""",
        "client_events": f"""SELECT 'client-events' AS _topic, {meta}, CAST(i AS BIGINT)
              AS _offset, ts AS _timestamp, 'c' || u AS _key, 'e' || i AS event_id,
              'c' || u AS user_id, 'view' AS type, CAST(100001 + p AS VARCHAR) AS product_id,
              ts AS timestamp, CAST(NULL AS INTEGER) AS rating
            FROM ({_picks(order_lines, order_lines, n_products, n_users, categories)}) AS x
            WHERE i % 3 = {{part}}""",
        "client_queries": f"""SELECT 'client-queries' AS _topic, {meta}, CAST(i AS BIGINT)
              AS _offset, {_BULK_START} AS _timestamp, 'c' || (i % {n_users}) AS _key,
              'q' || i AS query_id, 'c' || (i % {n_users}) AS user_id, 'search' AS kind,
              ['смартфон', 'ноутбук', 'наушники', 'кроссовки', 'ыфва']
                [CAST(1 + hash(i, 1) % 5 AS BIGINT)] AS query, '{{}}' AS filters_json,
              CAST(hash(i, 2) % 50 AS BIGINT) AS result_count, 1.0 + hash(i, 3) % 20 AS latency_ms,
              {_BULK_START} AS timestamp
            FROM range({max(100, order_lines // 20)}) AS t(i) WHERE i % 3 = {{part}}""",
    }
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for role, sql in datasets.items():
        directory = f"{root.rstrip('/')}/{role}/date=2025-06-01"
        os.makedirs(directory, exist_ok=True)
        for part in range(PARTITIONS):
            path = f"{directory}/{layout.file_name(part, 0)}"
            query = sql.replace("{part}", str(part))
            con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return {"order_lines": order_lines, "products": n_products, "customers": n_users}


def as_small_files(writer: LakeWriter, roles: tuple[str, ...], per_file: int) -> None:
    """Rewrite these datasets' files as files of `per_file` Kafka records each, as a sink
    flushing every few seconds writes a trickle (an order's lines share one record)."""
    import pyarrow.parquet as pq

    for role in roles:
        for whole in writer.files(role):
            table = pq.read_table(whole.path)
            writer.fs.rm_file(whole.path)
            offsets = sorted(set(table.column("_offset").to_pylist()))
            rows = table.to_pylist()
            for start in range(0, len(offsets), per_file):
                wanted = set(offsets[start : start + per_file])
                chunk = [r for r in rows if r["_offset"] in wanted]
                writer.write(role, whole.day, chunk, whole.incarnation)


def add_incarnation(writer: LakeWriter, role: str, incarnation: str, renamed: str) -> int:
    """Add the records of another incarnation of a dataset's topic (deleted and created
    again, or a broker that lost its data): the same partitions and offsets as each file
    holds now, other records (the string column `renamed` suffixed "-b"). Returns the rows."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rows = 0
    for f in writer.files(role):
        table = pq.read_table(f.path)
        index = table.schema.get_field_index(renamed)
        table = table.set_column(
            index, renamed, pc.binary_join_element_wise(table[renamed], "-b", "")
        )
        writer.write_table(role, f.day, table, incarnation)
        rows += table.num_rows
    return rows


def copy_records(writer: LakeWriter, role: str) -> int:
    """Write each file of a dataset again under another name (its first offset moved past
    any real one): every record twice in the lake, as an older sink could leave it. Returns
    the rows copied."""
    import pyarrow.parquet as pq

    rows = 0
    for f in writer.files(role):
        name = layout.file_name(f.partition, f.first_offset + 10**11, f.incarnation, f.generation)
        table = pq.read_table(f.path)
        writer._put_atomic(f"{f.path.rsplit('/', 1)[0]}/{name}", parquet_bytes(table))
        rows += table.num_rows
    return rows
