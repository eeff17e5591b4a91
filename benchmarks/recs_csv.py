"""Recommenders on your own interaction data: any CSV or Parquet file of who bought what, when.

For a data set this repository has never seen (the two it ships benchmarks for are
`recs_instacart.py` and `recs_movielens.py`): the file's rows are read as order lines,
converted into a Vitrina lake (orders, and a catalogue of every product), and `analytics run`
itself (DuckDB, default settings, its model check included) is scored against popularity on
the same split, with the paired-bootstrap 95 % interval of the ratio (recs_common).

Columns, named by options: `--user`, `--item`, `--time` (epoch seconds, epoch milliseconds,
or an ISO date / date-time), and optionally `--order` (rows of one order share it; without
it, a customer's rows at one instant are one order) and `--category` (the product's
category, for the category fill; without it, one category).

Splits (`--holdout`):
- `last-order` (default): each customer's last order is held out, every earlier one trains
  (customers with at least two orders);
- `last-n`: each customer's last `--n` rows by time are held out (MovieLens' protocol);
- `time`: the newest `--share` of all rows is held out (`analytics evaluate`'s protocol).
Vitrina never recommends what a customer already bought, so the score is recall@10 on the
held-out items the customer had not bought before (the issue's "new items").

    .venv/bin/python benchmarks/recs_csv.py orders.csv --user user_id --item product_id \\
        --time created_at --order order_id
    .venv/bin/python benchmarks/recs_csv.py ratings.parquet --user u --item i --time ts \\
        --holdout last-n --n 5 --only vitrina,ease_top2000,user_knn

Prints one JSON object (recs_common.print_report): every model's recall, its ratio to
popularity with the interval, and whether Vitrina is at least level with popularity.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from recs_common import (
    Matrix,
    ease_top,
    implicit_model,
    item_cosine,
    popular,
    print_report,
    run_models,
    user_knn,
    vitrina,
)


def read_rows(path: Path, columns: dict[str, str | None]) -> pa.Table:
    """The file's wanted columns, renamed to user, item, time (and order, category)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    else:
        import pyarrow.csv as pcsv

        table = pcsv.read_csv(path)
    missing = [name for name in columns.values() if name and name not in table.column_names]
    if missing:
        sys.exit(f"{path}: no column {', '.join(missing)} (it has {', '.join(table.column_names)})")
    picked = {role: table[name] for role, name in columns.items() if name}
    return pa.table(picked).drop_null()


def _epoch(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        sys.exit(f"time {text!r} is not an ISO date or date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def seconds(column: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds of a time column: numbers (seconds, or milliseconds when they are that
    large), timestamps, dates, or ISO texts (2017-03-01, 2017-03-01 10:15:00, …T10:15:00Z,
    …T10:15:00.5+03:00, …+0300; a text without an offset is UTC). Arrow's CSV reader leaves
    a column of mixed forms as text, and Arrow's cast wants one form."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return np.array([_epoch(text) for text in column.to_pylist()], dtype="int64")
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return column.cast(pa.timestamp("s")).to_numpy().astype("int64")
    values = column.to_numpy().astype("float64")
    return (values / 1000.0 if np.nanmax(values) > 1e11 else values).astype("int64")


def held_out(
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], how: str, n: int, share: float
) -> np.ndarray:
    """Mask of the rows held out: each customer's rows by time, then order, then item (a
    fixed order for rows of one instant, as recs_movielens.py takes them)."""
    users, items, stamps, orders = rows
    if how == "time":
        return stamps >= np.quantile(stamps, 1.0 - share)
    order = np.lexsort((items, orders, stamps, users))
    u, t, o = users[order], stamps[order], orders[order]
    ends = np.searchsorted(u, u, side="right")  # each customer's rows end here
    if how == "last-n":
        from_newest = ends - 1 - np.arange(len(u))
        mask_sorted = from_newest < n
    else:  # last-order: the rows of the customer's newest (time, order) pair
        last = ends - 1
        mask_sorted = (t == t[last]) & (o == o[last])
    mask = np.zeros(len(users), bool)
    mask[order] = mask_sorted
    return mask


def split(
    rows: pa.Table, how: str, n: int, share: float
) -> tuple[dict[str, Any], dict[str, set[str]], dict[str, set[str]], dict[str, str]]:
    """Training columns as `recs_common` takes them, per-customer bought sets, held-out new
    items, and each product's category (empty without a category column)."""
    users = np.array([str(v) for v in rows["user"].to_pylist()])
    items = np.array([str(v) for v in rows["item"].to_pylist()])
    stamps = seconds(rows["time"])
    orders = (
        np.array([str(v) for v in rows["order"].to_pylist()])
        if "order" in rows.column_names
        else stamps.astype(str)  # one instant of one customer: one order
    )
    # ties broken by the item as the file has it (numbers as numbers: 9 before 10)
    as_sent = rows["item"].to_numpy(zero_copy_only=False)
    test = held_out((users, as_sent, stamps, orders), how, n, share)
    train = ~test
    line_no = np.ones(int(train.sum()), "int32")
    cols = {
        "order_id": np.char.add(np.char.add(users[train], ":"), orders[train]),
        "customer_id": users[train],
        "product_id": items[train],
        "line_no": line_no,
        "order_date": stamps[train].astype("datetime64[s]"),
    }
    bought: dict[str, set[str]] = {}
    for u, p in zip(cols["customer_id"].tolist(), cols["product_id"].tolist(), strict=True):
        bought.setdefault(u, set()).add(p)
    truth: dict[str, set[str]] = {}
    for u, p in zip(users[test].tolist(), items[test].tolist(), strict=True):
        if u in bought and p not in bought[u]:
            truth.setdefault(u, set()).add(p)
    categories: dict[str, str] = {}
    if "category" in rows.column_names:
        for p, c in zip(items.tolist(), rows["category"].to_pylist(), strict=True):
            categories.setdefault(p, str(c))
    return cols, bought, truth, categories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path, help="a .csv or .parquet file of order lines")
    parser.add_argument("--user", required=True, help="the customer's column")
    parser.add_argument("--item", required=True, help="the product's column")
    parser.add_argument("--time", required=True, help="the time's column")
    parser.add_argument("--order", help="the order's column (default: a customer's instant)")
    parser.add_argument("--category", help="the product category's column (default: none)")
    parser.add_argument("--holdout", choices=("last-order", "last-n", "time"), default="last-order")
    parser.add_argument("--n", type=int, default=5, help="rows held out per customer (last-n)")
    parser.add_argument("--share", type=float, default=0.2, help="newest share held out (time)")
    parser.add_argument("--only", default="", help="comma-separated model names")
    args = parser.parse_args()
    wanted = [w for w in args.only.split(",") if w]
    columns = {"user": args.user, "item": args.item, "time": args.time}
    columns |= {"order": args.order, "category": args.category}
    rows = read_rows(args.path, columns)
    cols, bought, truth, categories = split(rows, args.holdout, args.n, args.share)
    if not truth:
        sys.exit("no customer has a held-out item they had not bought before: nothing to score")
    m = Matrix(cols)
    by_lines = m.items[np.argsort(-m.lines, kind="stable")].tolist()
    models: dict[str, Callable[[], dict[str, list[str]]]] = {
        "popularity": lambda: popular(by_lines, bought, m.users),
        "vitrina": lambda: vitrina(cols, categories or None, brand=args.path.stem),
        "item_cosine": lambda: item_cosine(m),
        "ease_top2000": lambda: ease_top(m, 2000),
        "user_knn": lambda: user_knn(m),
        "als": lambda: implicit_model(m, "als"),
    }
    names = wanted or ["vitrina"]
    per, took = run_models(models, names, truth)
    print_report(
        {
            "dataset": str(args.path),
            "split": args.holdout,
            "training_lines": len(cols["order_id"]),
            "customers_scored": len(truth),
        },
        per,
        took,
        names,
        target=1.0,  # never behind popularity (the model check's promise)
    )


if __name__ == "__main__":
    main()
