"""What the real-data recommender benchmarks share: the lake converter, the metrics, the models.

`recs_instacart.py` (grocery orders) and `recs_movielens.py` (MovieLens-100k ratings) each
turn their data set into training columns (order_id, customer_id, product_id, line_no,
order_date) plus held-out new items per customer; everything after that is here, so both
score `analytics run` and the reference models the same way:
- `write_lake` / `vitrina`: the columns as a Vitrina lake, and `analytics run`'s own
  computation on it (DuckDB, default Params unless given);
- `recalls`, `ratio_interval`: recall@K on new items per customer, and a paired-bootstrap
  95 % interval of a model's ratio to popularity;
- `Matrix` and the reference models (item cosine, RP3beta, EASE, user-kNN, sequence,
  `implicit`'s ALS/BPR) over the binary customer x product matrix;
- `summary`: one JSON-ready row per model.
"""

from __future__ import annotations

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
BOOTSTRAP = 2000
# One category for data sets that have none (Instacart's sample ships no aisles).
CATEGORY = "Продукты"
# The `model_check` row of every `vitrina` run (analytics/guard.py), for the report.
MODEL_CHECKS: list[dict[str, Any]] = []


def write_lake(
    root: Path, cols: dict[str, Any], categories: dict[str, str] | None = None, brand: str = ""
) -> None:
    """The training orders and a catalogue of every product, as lake files.

    `categories` maps product → category (missing products, or None: one category for all).
    """
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
    day = str(cols["order_date"].max().astype("datetime64[D]"))
    first = pa.array(np.full(m, np.datetime64("2016-01-01", "ms")), pa.timestamp("ms", tz="UTC"))
    products = pa.table(
        {
            "_topic": pa.array(["shop-products"] * m),
            "_partition": pa.array(np.zeros(m, "int32")),
            "_offset": pa.array(np.arange(m)),
            "_timestamp": first,
            "product_id": ids,
            "name": [f"Товар {p}" for p in ids],
            "category": [(categories or {}).get(p, CATEGORY) for p in ids],
            "brand": [brand] * m,
            "price_amount": np.full(m, 100.0),
            "stock_available": np.full(m, 100, "int64"),
            "stock_reserved": np.zeros(m, "int64"),
        }
    )
    for role, table in (("orders", orders), ("shop_products", products)):
        directory = root / role / f"date={day}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, directory / layout.file_name(0, 0))


def recalls(lists: dict[str, list[str]], truth: dict[str, set[str]]) -> np.ndarray:
    """Per customer (in `truth` order), the share of their new items in their top K."""
    return np.array([len(set(lists.get(u, [])[:K]) & t) / len(t) for u, t in truth.items()])


def recall(lists: dict[str, list[str]], truth: dict[str, set[str]]) -> float:
    return float(recalls(lists, truth).mean())


def ratio_interval(model: np.ndarray, base: np.ndarray, seed: int = 0) -> list[float]:
    """95 % interval of mean(model) / mean(base), paired bootstrap over customers."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(base), (BOOTSTRAP, len(base)))
    ratio = model[picks].mean(1) / np.maximum(base[picks].mean(1), 1e-12)
    return [round(float(x), 2) for x in np.percentile(ratio, [2.5, 97.5])]


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
        # 0.8 ^ (the customer's orders since they last bought the product; 0 = their last).
        when = np.array(
            [
                f"{t}|{o}"
                for t, o in zip(cols["order_date"].tolist(), cols["order_id"].tolist(), strict=True)
            ]
        )
        recent = np.zeros(len(rows))
        for r in np.unique(rows).tolist():
            mine = np.flatnonzero(rows == r)
            keys, first = np.unique(when[mine], return_inverse=True)
            recent[mine] = 0.8 ** (len(keys) - 1 - first)
        # The most recent purchase of each (customer, product) counts.
        order = np.lexsort((-recent, columns, rows))
        r, c, w = rows[order], columns[order], recent[order]
        first_of_pair = np.ones(len(r), bool)
        first_of_pair[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        self.recent = sp.csr_matrix(
            (w[first_of_pair], (r[first_of_pair], c[first_of_pair])), shape=self.counts.shape
        )
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


def user_knn_scores(m: Matrix, k: int = 20, target: Any = None) -> Callable[[int], Any]:
    """Σ over the k most similar customers (cosine) of similarity × their row of `target`."""
    import scipy.sparse as sp

    rows = sp.diags(1 / np.sqrt(np.asarray(m.binary.sum(1)).ravel())) @ m.binary
    sim = (rows @ rows.T).toarray()
    np.fill_diagonal(sim, 0.0)
    values = m.binary if target is None else target

    def score(i: int) -> np.ndarray:
        near = np.argpartition(-sim[i], k)[:k]
        return np.asarray(sim[i, near] @ values[near].toarray()).ravel()

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


def computed(
    cols: dict[str, Any],
    categories: dict[str, str] | None = None,
    brand: str = "",
    params: Any = None,
) -> dict[str, pa.Table]:
    """Every output of `analytics run`'s own computation (DuckDB) on the converted lake."""
    from vitrina.analytics.definitions import Params
    from vitrina.analytics.job import compute
    from vitrina.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="vitrina-recs-") as tmp:
        settings = load_settings(data_dir=Path(tmp))
        write_lake(Path(settings.lake_url.removeprefix("file://")), cols, categories, brand)
        return dict(compute(settings, params or Params(as_of=None)))


def vitrina(
    cols: dict[str, Any],
    categories: dict[str, str] | None = None,
    brand: str = "",
    params: Any = None,
) -> dict[str, list[str]]:
    """`analytics run`'s own recommendations (DuckDB, default Params) on the converted lake."""
    out = computed(cols, categories, brand, params)
    MODEL_CHECKS.extend(out["model_check"].to_pylist())
    lists: dict[str, list[str]] = {}
    for row in out["recommendations"].to_pylist():
        lists.setdefault(row["user_id"], []).append(row["product_id"])
    return lists


def popular(
    ranked: list[str], bought: dict[str, set[str]], users: list[str]
) -> dict[str, list[str]]:
    """The ranked list minus each customer's own products, K long."""
    return {
        u: [p for p in ranked[: K + len(bought.get(u, ()))] if p not in bought.get(u, ())][:K]
        for u in users
    }


def run_models(
    models: dict[str, Callable[[], dict[str, list[str]]]],
    names: list[str],
    truth: dict[str, set[str]],
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per-customer recalls of popularity and of each named model (exits naming the known
    models when one is not), and each named model's seconds."""
    unknown = sorted(set(names) - set(models))
    if unknown:
        sys.exit(f"unknown model(s) {unknown}: choose from {', '.join(models)}")
    per = {"popularity": recalls(models["popularity"](), truth)}
    seconds: dict[str, float] = {}
    for name in names:
        started = time.monotonic()
        per[name] = recalls(models[name](), truth)
        seconds[name] = time.monotonic() - started
    return per, seconds


def summary(
    per: dict[str, np.ndarray], seconds: dict[str, float], names: list[str]
) -> dict[str, Any]:
    """Per model: recall@K, its ratio to `per["popularity"]` and that ratio's 95 % interval."""
    base = per["popularity"]
    return {
        name: {
            "recall@10": round(float(per[name].mean()), 4),
            "vs_popularity": round(float(per[name].mean() / base.mean()), 2),
            "vs_popularity_95ci": ratio_interval(per[name], base),
            "seconds": round(seconds[name], 2),
        }
        for name in names
    }


def print_report(
    header: dict[str, Any],
    per: dict[str, np.ndarray],
    seconds: dict[str, float],
    names: list[str],
    target: float,
) -> None:
    """Print a recs benchmark's JSON: `header` (data set, split, sizes), popularity's recall,
    whether Vitrina reaches `target` × popularity, each model's `summary` and the model
    checks of Vitrina's runs."""
    results = summary(per, seconds, names)
    print(
        json.dumps(
            {
                **header,
                "popularity_recall@10": round(float(per["popularity"].mean()), 4),
                "target_vs_popularity": target,
                "vitrina_meets_target": results["vitrina"]["vs_popularity"] >= target
                if "vitrina" in results
                else None,
                "models": results,
                "vitrina_model_check": MODEL_CHECKS,
            },
            indent=2,
        )
    )


def neighbours_report(
    cols: dict[str, Any],
    held: dict[str, set[str]],
    categories: dict[str, str] | None = None,
    brand: str = "",
) -> dict[str, Any]:
    """ "Similar products" and "customers also bought" (the product page) on held-out items.

    For each held-out item of a customer that has neighbours (the model's N products), the
    share of the customer's other held-out items among its top K neighbours — as a page
    showing that item would list them: the model's `item_neighbours` (both kinds, by rank;
    and the "similar" kind alone), the K most popular products, and the K products most
    often bought by the same customers (raw co-purchase counts). Ratios to popularity with a
    paired-bootstrap 95 % interval over (customer, item) pairs.
    """
    out = computed(cols, categories, brand)
    ranked: dict[str, list[tuple[int, str, str]]] = {}
    for row in out["item_neighbours"].to_pylist():
        ranked.setdefault(row["product_id"], []).append((row["rank"], row["other_id"], row["kind"]))
    m = Matrix(cols)
    by_lines = m.items[np.argsort(-m.lines, kind="stable")].tolist()
    together = (m.binary.T @ m.binary).tocsr()
    together.setdiag(0)
    together.eliminate_zeros()
    index = {p: i for i, p in enumerate(m.items.tolist())}
    lists: dict[str, list[float]] = {
        "popularity": [],
        "vitrina": [],
        "vitrina_similar_only": [],
        "co_purchase_counts": [],
    }
    for items in held.values():
        for item in sorted(items):
            others = items - {item}
            if item not in ranked or item not in index or not others:
                continue
            mine = sorted(ranked[item])
            row = together[index[item]]
            candidates = {
                "popularity": [p for p in by_lines[: K + 1] if p != item][:K],
                "vitrina": [other for _, other, _ in mine][:K],
                "vitrina_similar_only": [o for _, o, kind in mine if kind == "similar"][:K],
                "co_purchase_counts": m.items[
                    row.indices[np.argsort(-row.data, kind="stable")][:K]
                ].tolist(),
            }
            for name, listed in candidates.items():
                lists[name].append(len(set(listed) & others) / len(others))
    per = {name: np.array(values) for name, values in lists.items()}
    base = per["popularity"]
    return {
        "pairs": len(base),
        "items_with_neighbours": len(ranked),
        "products": len(m.items),
        "lists": {
            name: {
                "recall@10": round(float(values.mean()), 4),
                "vs_popularity": round(float(values.mean() / base.mean()), 2),
                "vs_popularity_95ci": ratio_interval(values, base),
            }
            for name, values in per.items()
        },
    }
