"""The relations the batch job reads and the shape of one statement (shared by both engines).

Inputs are declared with their DuckDB types; a missing column becomes a typed NULL and a
missing dataset an empty relation (`input_projection`), so a partial lake still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vitrina.lake.layout import INCARNATION_IN_PATH

# Columns each input must offer (DuckDB types). Missing columns become typed NULLs and a
# missing dataset an empty relation, so a partial lake still runs.
INPUT_COLUMNS: dict[str, dict[str, str]] = {
    "shop_products": {
        "product_id": "VARCHAR",
        "name": "VARCHAR",
        "category": "VARCHAR",
        "brand": "VARCHAR",
        "price_amount": "DOUBLE",
        "stock_available": "BIGINT",
        "stock_reserved": "BIGINT",
        "_timestamp": "TIMESTAMPTZ",
        "_partition": "INTEGER",
        "_offset": "BIGINT",
    },
    "banned_products": {
        "product_id": "VARCHAR",
        "tombstone": "BOOLEAN",
        "_timestamp": "TIMESTAMPTZ",
        "_partition": "INTEGER",
        "_offset": "BIGINT",
    },
    "orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "order_date": "TIMESTAMPTZ",
        "state": "VARCHAR",
        "line_no": "INTEGER",
        "product_id": "VARCHAR",
        "quantity": "BIGINT",
        "price": "DOUBLE",
        "_timestamp": "TIMESTAMPTZ",  # which record of an order is its newest
        "_partition": "INTEGER",
        "_offset": "BIGINT",
    },
    "client_events": {
        "user_id": "VARCHAR",
        "type": "VARCHAR",
        "product_id": "VARCHAR",
        "timestamp": "TIMESTAMPTZ",
        "rating": "INTEGER",
        "_partition": "INTEGER",
        "_offset": "BIGINT",
    },
    "client_queries": {
        "query_id": "VARCHAR",
        "user_id": "VARCHAR",
        "kind": "VARCHAR",
        "query": "VARCHAR",
        "filters_json": "VARCHAR",
        "result_count": "BIGINT",
        "latency_ms": "DOUBLE",
        "timestamp": "TIMESTAMPTZ",
        "_partition": "INTEGER",
        "_offset": "BIGINT",
    },
}
# Products only: a lake of products and client events but no orders yet (a platform's first
# minutes, a shop that sends no orders) gives category statistics and lists from the events
# instead of "no orders yet" on every run (a blind review).
REQUIRED_INPUTS = ("shop_products",)
# Every input also offers `_incarnation` (the topic incarnation in its file's name, '' for
# files named without one): offsets count from 0 again in each (lake/layout.py).
INCARNATION = "_incarnation"
# The facts read once per Kafka record: the key of a record (of an order line), and a
# column that orders copies of one record (they are equal) so both engines keep the same.
RECORD_KEYS: dict[str, tuple[str, str]] = {
    "orders": ("_incarnation, _partition, _offset, line_no", "order_id"),
    "client_events": ("_incarnation, _partition, _offset", "product_id"),
    "client_queries": ("_incarnation, _partition, _offset", "query_id"),
}


@dataclass(frozen=True)
class Statement:
    """One named relation: `name` AS (`sql`). `materialize` keeps it (reused or costly).

    A `model` statement has no SQL: the engine hands its input relations to the Python
    function `model.STEPS[model]` and stores the Arrow table it returns.
    """

    name: str
    sql: str
    materialize: bool = False
    tags: frozenset[str] = field(default_factory=frozenset)
    model: str = ""


def duplicates_sql(dataset: str) -> str:
    """How many records of an input relation the lake holds more than once (one SELECT):
    the sink writes each record once, but a lake written by an older version, or copied
    by hand, may not."""
    key, _ = RECORD_KEYS[dataset]
    return f"SELECT COUNT(*) FROM (SELECT {key} FROM {dataset} GROUP BY {key} HAVING COUNT(*) > 1) AS d"


def each_once_sql(dataset: str) -> str:
    """An input relation with each record once (`duplicates_sql` found copies)."""
    key, order = RECORD_KEYS[dataset]
    columns = ", ".join([*(f'"{c}"' for c in INPUT_COLUMNS[dataset]), INCARNATION])
    return (
        f"SELECT {columns} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} "
        f"ORDER BY {order}) AS copy FROM {dataset}) AS t WHERE copy = 1"
    )


def input_projection(dataset: str, source: str | None, available: set[str]) -> str:
    """SELECT that shapes raw lake data into the declared input columns (typed NULL if absent).

    `source` is the engine's relation over the files, with each row's file path in a
    `filename` column; None means the dataset has no files.
    """
    cols = []
    for name, sql_type in INPUT_COLUMNS[dataset].items():
        expr = f'"{name}"' if source is not None and name in available else "NULL"
        cols.append(f'CAST({expr} AS {sql_type}) AS "{name}"')
    incarnation = (
        "NULL" if source is None else f"regexp_extract(filename, '{INCARNATION_IN_PATH}', 1)"
    )
    cols.append(f"CAST({incarnation} AS VARCHAR) AS {INCARNATION}")
    body = ", ".join(cols)
    if source is None:
        return f"SELECT {body} WHERE 1 = 0"
    return f"SELECT {body} FROM {source}"
