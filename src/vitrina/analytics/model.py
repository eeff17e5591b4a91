"""The recommender's model steps: EASE over the most-bought products, shared by DuckDB and Spark.

The model is EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (Xᵀ X + λ I)⁻¹ over the
binary customer x product history X, restricted to the `ease_products` products with the
most customers (a dense N x N inverse: N = 2000 is 32 MB; all 50k products of a 5M-line
lake would be 20 GB). A customer's score is their history row · B. Why Python and not
SQL (`definitions.py` holds everything else): a matrix inverse has no SQL form, and the
scores are a (customer x N) dense product, which numpy/scipy compute in bounded blocks
of customers while SQL would hash ~customers x N (customer, product) groups.

Both engines hand the same input relations to these functions and get back the same
Arrow tables, so their outputs stay identical by construction. Every result is
independent of the input row order: matrices are built with sorted, summed indices, and
every ranking has a total tie-break.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

# Customers x EASE products scored at once per worker (dense float64, a few copies).
DENSE_BLOCK = 2_000_000
# The last EASE solution: (key, solution).
_CACHE: list[tuple[tuple[Any, ...], EaseSolution]] = []
_CACHE_LOCK = threading.Lock()
# The smallest score that rounds (9 decimals) above 0.
POSITIVE = 5.000001e-10
# The pruning's k-th best score is looked for among this many most-bought EASE products.
PROBE_PRODUCTS = 256
# Blocks run on this many threads: scipy's sparse products and numpy release the GIL.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def _no_huge_pages() -> bool:
    """Stop numpy asking for transparent huge pages for its large arrays (madvise), unless
    the operator chose NUMPY_MADVISE_HUGEPAGE=1 (numpy's own switch; `vitrina` defaults it
    to 0, which numpy applies itself when vitrina is imported first). Where the kernel
    defragments memory on such a fault (THP defrag `madvise`, Debian's default), a fault
    stalled for about a second whenever free memory was fragmented: on this project's
    2-core CI machine, 5M order lines spent ~7 s of a 41 s run in them (the EASE solve and
    its check), and 34 s without (benchmarks/analytics.py, docs). Returns whether it did."""
    if os.environ.get("NUMPY_MADVISE_HUGEPAGE", "0") != "0":
        return False
    importlib.import_module("numpy._core.multiarray")._set_madvise_hugepage(False)
    return True


_no_huge_pages()  # once per process that computes a model (the analytics job's)


def _matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], data: Any = None) -> Any:
    values = np.ones(len(rows), np.float64) if data is None else data
    m = sp.csr_matrix((values, (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    return m


def _ints(table: pa.Table, name: str) -> np.ndarray:
    # int32 as the engines hand keys over: scipy's index type, so no int64 copy is made.
    return np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=np.int32)


def _map_blocks(
    step: Callable[[int, int], tuple[np.ndarray, ...]], blocks: list[tuple[int, int]]
) -> list[tuple[np.ndarray, ...]]:
    """step(start, end) for every block, on WORKERS threads, results in block order."""
    if WORKERS == 1 or len(blocks) < 2:
        return [step(a, b) for a, b in blocks]
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="vitrina-model") as pool:
        return list(pool.map(lambda ab: step(*ab), blocks))


def _columns(parts: list[tuple[np.ndarray, ...]], n: int) -> list[np.ndarray]:
    """The blocks' i-th arrays concatenated, for each of n (an empty array if none)."""
    if not parts:
        return [np.zeros(0) for _ in range(n)]
    return [np.concatenate([part[i] for part in parts]) for i in range(n)]


def _top_per_row(
    rows: np.ndarray, cols: np.ndarray, score: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, score) of each row's `n` best entries, by score desc, column asc.

    `rows` must be non-decreasing (CSR order). Each long row's n-th best score is found
    with np.partition (linear), entries below it dropped, and only the few left sorted.
    Scores are rounded to 9 decimals, so as integers (x 1e9) they keep their order and
    their ties exactly.
    """
    bounds = np.flatnonzero(np.diff(rows)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(rows)]))
    threshold = np.full(len(starts), -np.inf)
    for i in np.flatnonzero(ends - starts > n).tolist():
        segment = score[starts[i] : ends[i]]
        threshold[i] = np.partition(segment, len(segment) - n)[len(segment) - n]
    lengths = ends - starts
    near = score >= np.repeat(threshold, lengths)
    rows, cols, score = rows[near], cols[near], score[near]
    order = np.lexsort((cols, -np.rint(score * 1e9).astype(np.int64), rows))
    rows, cols, score = rows[order], cols[order], score[order]
    first = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") < n
    return rows[first], cols[first], score[first]


def _ease(history: pa.Table, params: Any) -> tuple[np.ndarray, np.ndarray]:
    """EASE (Steck 2019) over the `ease_products` products most customers have in history.

    Returns (products, B): the product keys (ascending) and the dense N x N weights
    B = I - P diag(1/diag(P)), P = (G + λ I + ρ diag(G))⁻¹, G = Xᵀ X, X the binary customer x product
    history restricted to those products; B's diagonal is 0. Products rank by distinct
    customers, ties by key, so the choice does not depend on the row order.
    """
    solution = ease_solution(history, params)
    return solution.products, solution.weights


class EaseSolution:
    """What one EASE solve leaves: the products, X (all products, binary CSR), G and B."""

    def __init__(self, products: np.ndarray, x: Any, gram: np.ndarray, weights: np.ndarray):
        self.products, self.x, self.gram, self.weights = products, x, gram, weights


def solve(gram: np.ndarray, params: Any) -> np.ndarray:
    """B from G = Xᵀ X (not changed): I - P diag(1/diag(P)), P = (G + λ I + ρ diag(G))⁻¹."""
    regularised = gram.copy()
    # L2 λ + ρ·G_ii (dropout-like, Steck 2020): a product's weights are damped in proportion
    # to its customers, so one fixed λ does not over- or under-fit lakes of different sizes.
    regularised[np.diag_indices_from(regularised)] += (
        params.ease_lambda + params.ease_diagonal * np.diag(gram)
    )
    inverse = np.linalg.inv(regularised)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    weights.setflags(write=False)
    return weights


def history_key(history: pa.Table) -> tuple[int, int, int]:
    """A fingerprint of the history's (u, p) pairs that does not depend on their order."""
    u, p = _ints(history, "u"), _ints(history, "p")
    mixed = (u.astype(np.uint64) << np.uint64(32)) | p.astype(np.uint64)
    mixed = mixed * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= mixed >> np.uint64(29)
    return (len(u), int(np.bitwise_xor.reduce(mixed, initial=np.uint64(0))), int(mixed.sum()))


def ease_solution(history: pa.Table, params: Any) -> EaseSolution:
    """The EASE solve of `_ease`, cached: every model step of a run shares one."""
    # The model steps all need B: later ones reuse the first's when the history holds the
    # same (u, p) pairs in any order (a changed lake or parameter always recomputes).
    key = (history_key(history), params.ease_products, params.ease_lambda, params.ease_diagonal)
    with _CACHE_LOCK:
        if _CACHE and _CACHE[0][0] == key:
            return _CACHE[0][1]
    u, p = _ints(history, "u"), _ints(history, "p")
    size = int(p.max(initial=0)) + 1
    x = _matrix(u, p, (int(u.max(initial=0)) + 1, size))
    x.data[:] = 1.0
    buyers = np.bincount(x.indices, minlength=size)
    order = np.lexsort((np.arange(size), -buyers))[: params.ease_products]
    products = np.sort(order[buyers[order] > 0])
    xs = x[:, products]
    gram = (xs.T @ xs).toarray()
    gram.setflags(write=False)
    solution = EaseSolution(products, x, gram, solve(gram, params))
    with _CACHE_LOCK:
        _CACHE[:] = [(key, solution)]
    return solution


def neighbours(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """Each product's most similar recommendable products by the EASE weights: (item, other, sim).

    sim = round(B[item, other], 9), positive entries only, the `neighbours` largest per item
    (ties by key): the products whose purchase the model predicts most from this one.
    """
    products, weights = _ease(tables["history"], params)
    allowed = _ints(tables["recommendable_keys"], "p")
    ok = np.isin(products, allowed)
    sim = np.where(ok[None, :], np.round(weights, 9), 0.0)
    # Per row, the candidates at or above its k-th largest value (ties all kept, so the
    # exact tie-break by key happens in _top_per_row over these few).
    k = min(params.neighbours, len(products))
    kth = -np.partition(-sim, k - 1, axis=1)[:, k - 1] if k else np.zeros(len(products))
    r, c = np.nonzero((sim > 0) & (sim >= kth[:, None]))
    items, others, sims = _top_per_row(products[r], products[c], sim[r, c], params.neighbours)
    return pa.table(
        {
            "item": pa.array(items.astype(np.int32), pa.int32()),
            "other": pa.array(others.astype(np.int32), pa.int32()),
            "sim": pa.array(sims.astype(np.float64), pa.float64()),
        }
    )


def cf_scores(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """Per customer, the EASE score of each candidate: (u, p, score, from_bought).

    score = round(the customer's history row (binary, the EASE products) · B, 9), positive
    scores of recommendable products only; from_bought = 1 if the bought history items alone score
    the product above 0. Candidates that provably cannot reach the customer's top_k are
    left out: a product whose score, scaled as `scored` does (cf_weight x score / the
    customer's best), trails the top_k-th eligible (not bought) candidate by more than the
    largest fill score can add, stays out of the list whatever its fill. The customer's
    best row always stays, so the scaling is unchanged.
    """
    history, bought = tables["history"], tables["bought_keys"]
    weight = _checked_weight(tables, params)
    if weight <= 0:
        return pa.table(
            {
                "u": pa.array([], pa.int32()),
                "p": pa.array([], pa.int32()),
                "score": pa.array([], pa.float64()),
                "from_bought": pa.array([], pa.int32()),
            }
        )
    products, weights = _ease(history, params)
    hu, hp, hb = _ints(history, "u"), _ints(history, "p"), _ints(history, "bought")
    bu, bp = _ints(bought, "u"), _ints(bought, "p")
    allowed = _ints(tables["recommendable_keys"], "p")
    size = int(max(hp.max(initial=0), bp.max(initial=0), allowed.max(initial=0))) + 1
    users = int(max(hu.max(initial=0), bu.max(initial=0))) + 1
    column = np.full(size, -1, dtype=np.int32)
    column[products] = np.arange(len(products), dtype=np.int32)
    ok = np.isin(products, allowed)
    n = len(products)

    def restricted(rows: np.ndarray, cols: np.ndarray) -> Any:
        inside = column[cols] >= 0
        return _matrix(rows[inside], column[cols[inside]], (users, n))

    from_bought = restricted(hu[hb == 1], hp[hb == 1])
    from_other = restricted(hu[hb != 1], hp[hb != 1])
    reach = np.bincount(from_bought.indices, minlength=n) + np.bincount(
        from_other.indices, minlength=n
    )
    probe = np.sort(np.lexsort((np.arange(n), -reach))[: max(PROBE_PRODUCTS, 4 * params.top_k)])
    probe = probe[ok[probe]]
    owned = restricted(bu, bp)
    margin = max(params.category_weight, params.popular_weight, 0.0) + 2e-6
    prune = True
    # Only recommendable products are scored: B's other columns would be computed and
    # zeroed (each column of history · B is summed on its own, so the scores kept are the
    # same to the bit). A zeroed column still counted as 0 in the customer's best score.
    scored_columns = np.flatnonzero(ok)
    candidates = products[scored_columns]
    scored_weights = np.ascontiguousarray(weights[:, scored_columns])
    unscored_zero = not ok.all()
    probe_at = np.searchsorted(scored_columns, probe)  # probe holds recommendable ones only
    owned_probe = owned[:, probe].tocsr()
    rows_per_block = max(1, DENSE_BLOCK // max(n, 1))
    blocks = [(a, min(a + rows_per_block, users)) for a in range(0, users, rows_per_block)]

    def step(start: int, end: int) -> tuple[np.ndarray, ...]:
        by_bought = np.asarray(from_bought[start:end] @ scored_weights)
        scores = np.asarray(from_other[start:end] @ scored_weights)
        scores += by_bought  # in place: the same sums as by_bought + by_other
        threshold: Any = POSITIVE  # = round(score, 9) > 0
        if prune and len(probe) > params.top_k:
            # The k-th best eligible score among the most-bought products only: a lower
            # bound of the true k-th best, so the floor stays exact, at 1/8 of the sort.
            part = scores[:, probe_at]
            eligible = np.where((part > 0) & (owned_probe[start:end].toarray() == 0), part, -np.inf)
            kth = -np.partition(-eligible, params.top_k - 1, axis=1)[:, params.top_k - 1]
            best = scores.max(axis=1)
            if unscored_zero:
                best = np.maximum(best, 0.0)
            floor = kth - margin * best / weight
            # One pass: score >= POSITIVE and score >= floor.
            threshold = np.maximum(floor, POSITIVE)[:, None]
        r, c = np.nonzero(scores >= threshold)
        # In the output's types already: the concatenation is the only copy of 7M+ rows.
        return (
            (r + start).astype(np.int32),
            candidates[c].astype(np.int32),
            np.round(scores[r, c], 9),
            (by_bought[r, c] >= POSITIVE).astype(np.int32),
        )

    u, p, score, fb = _columns(_map_blocks(step, blocks), 4)
    return pa.table(
        {
            "u": pa.array(u.astype(np.int32, copy=False), pa.int32()),
            "p": pa.array(p.astype(np.int32, copy=False), pa.int32()),
            "score": pa.array(score.astype(np.float64, copy=False), pa.float64()),
            "from_bought": pa.array(fb.astype(np.int32, copy=False), pa.int32()),
        }
    )


def _checked_weight(tables: dict[str, pa.Table], params: Any) -> float:
    """The weight the model's scores lead with, as the run's `model_check` step found it on
    this lake (guard.py; 0 = popularity alone); measured here for a caller without it."""
    checked = tables.get("model_check")
    if checked is None:
        from vitrina.analytics.guard import check

        return (
            check(
                history=tables["history"], recommendable=tables["recommendable_keys"], params=params
            ).share
            * params.cf_weight
        )
    weights = checked.column("weight").to_pylist()
    return float(weights[0]) if weights else params.cf_weight


def model_check(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """The `model_check` step (guard.py): the weight the model's scores lead with."""
    from vitrina.analytics.guard import model_check

    return model_check(tables, params)


# Model steps by name: the relations each reads, and the function computing it.
STEPS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, pa.Table], Any], pa.Table]]] = {
    "neighbours": (("history", "recommendable_keys"), neighbours),
    "model_check": (("history", "recommendable_keys"), model_check),
    "cf_scores": (("history", "bought_keys", "recommendable_keys", "model_check"), cf_scores),
}
