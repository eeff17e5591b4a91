"""The recommender's two heavy steps as sparse matrix algebra, shared by DuckDB and Spark.

Why Python and not SQL (`definitions.py` holds everything else): item-item similarity is
C = Pᵀ P over the customer x product history P, and the similarity scores are H S (history
x item neighbours). In SQL both are a join plus a GROUP BY over (item, item) or (customer,
item) keys: at 5M order lines that is 217M pair rows hashed into ~100M groups, and 150M
score rows, 60 s and 35 s of the job's ~110 s on two cores (EXPLAIN ANALYZE), growing
super-linearly as the groups outgrow the caches and the memory limit. scipy's sparse
product accumulates each row in a dense array indexed by column (no hashing), in bounded
blocks of rows, so the same arithmetic costs seconds and memory stays bounded.

Both engines hand the same input relations to these functions and get back the same
Arrow tables, so their outputs stay identical by construction. Every result is
independent of the input row order: matrices are built with sorted, summed indices, and
every ranking has a total tie-break.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

# Rows of the intermediate product computed at once per worker: bounds memory (~12 bytes
# per row, a few copies while filtering).
BLOCK_WORK = 10_000_000
# Blocks run on this many threads: scipy's sparse products and numpy release the GIL.
WORKERS = max(1, min(4, os.cpu_count() or 1))


def _matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], data: Any = None) -> Any:
    values = np.ones(len(rows), np.float64) if data is None else data
    m = sp.csr_matrix((values, (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    return m


def _ints(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=np.int64)


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


def _values(m: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """m[rows[i], cols[i]] for every i, as a flat array (empty in, empty out)."""
    if not len(rows):
        return np.zeros(0)
    return np.asarray(m[rows, cols]).ravel()


def _row_blocks(work: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous row ranges whose summed `work` stays near BLOCK_WORK."""
    edges = [0]
    total = np.cumsum(work)
    start_work = 0.0
    while edges[-1] < len(work):
        nxt = int(np.searchsorted(total, start_work + BLOCK_WORK, side="right"))
        nxt = max(nxt, edges[-1] + 1)
        edges.append(min(nxt, len(work)))
        start_work = float(total[edges[-1] - 1])
    return list(itertools.pairwise(edges))


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


def neighbours(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """Each item's most similar recommendable items: (item, other, sim).

    support = customers with both items in their pair history (≥ min_support);
    sim = round(support / (reach_item^a x reach_other^b), 9), reach = customers of the item.
    """
    u, p = _ints(tables["pair_history"], "u"), _ints(tables["pair_history"], "p")
    allowed = _ints(tables["recommendable_keys"], "p")
    size = int(max(p.max(initial=0), allowed.max(initial=0))) + 1
    x = _matrix(u, p, (int(u.max(initial=0)) + 1, size))
    xt = x.T.tocsr()
    reach = np.diff(xt.indptr).astype(np.float64)
    recommendable = np.zeros(size, bool)
    recommendable[allowed] = True
    # Work of an item's row of Pᵀ P: the summed history length of its customers.
    per_user = np.diff(x.indptr).astype(np.float64)
    work = xt @ per_user

    def step(start: int, end: int) -> tuple[np.ndarray, ...]:
        block = (xt[start:end] @ x).tocsr()
        rows = np.repeat(np.arange(start, end), np.diff(block.indptr))
        keep = block.data >= params.min_support
        rows, cols, support = rows[keep], block.indices[keep].astype(np.int64), block.data[keep]
        keep = (cols != rows) & recommendable[cols]
        rows, cols, support = rows[keep], cols[keep], support[keep]
        sim = np.round(
            support
            / (reach[rows] ** params.sim_item_exponent * reach[cols] ** params.sim_other_exponent),
            9,
        )
        return _top_per_row(rows, cols, sim, params.neighbours)

    items, others, sims = _columns(_map_blocks(step, _row_blocks(work)), 3)
    return pa.table(
        {
            "item": pa.array(items.astype(np.int32), pa.int32()),
            "other": pa.array(others.astype(np.int32), pa.int32()),
            "sim": pa.array(sims.astype(np.float64), pa.float64()),
        }
    )


def cf_scores(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """Per customer, the similarity score of each candidate: (u, p, score, from_bought).

    score = sum of the product's similarities to the customer's history items; from_bought
    = 1 if one of those items was bought. Candidates that provably cannot reach the
    customer's top_k are left out: a product whose similarity, scaled as `scored` does
    (cf_weight x score / the customer's best), trails the top_k-th eligible (not bought)
    candidate by more than the largest fill score can add, stays out of the list whatever
    its fill. The customer's best row always stays, so the scaling is unchanged.
    """
    history, nb, bought = tables["history"], tables["neighbours"], tables["bought_keys"]
    hu, hp, hb = _ints(history, "u"), _ints(history, "p"), _ints(history, "bought")
    ni, no = _ints(nb, "item"), _ints(nb, "other")
    bu, bp = _ints(bought, "u"), _ints(bought, "p")
    size = int(max(hp.max(initial=0), ni.max(initial=0), no.max(initial=0), bp.max(initial=0))) + 1
    users = int(max(hu.max(initial=0), bu.max(initial=0))) + 1
    sim = _matrix(ni, no, (size, size), nb["sim"].to_numpy(zero_copy_only=False).astype(float))
    linked = sim.copy()
    linked.data[:] = 1.0
    h = _matrix(hu, hp, (users, size))
    from_bought = _matrix(hu[hb == 1], hp[hb == 1], (users, size))
    owned = _matrix(bu, bp, (users, size))
    margin = max(params.category_weight, params.popular_weight, 0.0) + 2e-6
    prune = params.cf_weight > 0
    work = h @ np.diff(sim.indptr).astype(np.float64)

    def step(start: int, end: int) -> tuple[np.ndarray, ...]:
        scores = (h[start:end] @ sim).tocsr()
        via_bought = (from_bought[start:end] @ linked).tocsr()
        rows = np.repeat(np.arange(scores.shape[0]), np.diff(scores.indptr))
        cols = scores.indices.astype(np.int64)
        keep = np.ones(len(cols), bool)
        if prune and len(cols):
            top = np.zeros(scores.shape[0])
            np.maximum.at(top, rows, scores.data)
            is_owned = _values(owned[start:end], rows, cols) > 0
            kth = _kth_best(scores, ~is_owned, params.top_k)
            floor = kth - margin * top / params.cf_weight
            keep = scores.data >= floor[rows]
        fb = _values(via_bought, rows[keep], cols[keep]) > 0
        return rows[keep] + start, cols[keep], scores.data[keep], fb

    u, p, score, fb = _columns(_map_blocks(step, _row_blocks(work)), 4)
    return pa.table(
        {
            "u": pa.array(u.astype(np.int32), pa.int32()),
            "p": pa.array(p.astype(np.int32), pa.int32()),
            "score": pa.array(score.astype(np.float64), pa.float64()),
            "from_bought": pa.array(fb.astype(np.int32), pa.int32()),
        }
    )


def _kth_best(scores: Any, eligible: np.ndarray, k: int) -> np.ndarray:
    """Per row of a CSR block, the k-th largest eligible value (-inf if fewer than k).

    Rows are at most max_history x neighbours long, so a padded dense block and
    np.partition (linear) do it without a sort.
    """
    lengths = np.diff(scores.indptr)
    width = int(lengths.max(initial=0))
    if width < k:
        return np.full(scores.shape[0], -np.inf)
    rows = np.repeat(np.arange(scores.shape[0]), lengths)
    position = np.arange(len(rows)) - scores.indptr[rows]
    pad = np.full((scores.shape[0], width), np.inf)
    pad[rows, position] = np.where(eligible, -scores.data, np.inf)
    return -np.partition(pad, k - 1, axis=1)[:, k - 1]


# Model steps by name: the relations each reads, and the function computing it.
STEPS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, pa.Table], Any], pa.Table]]] = {
    "neighbours": (("pair_history", "recommendable_keys"), neighbours),
    "cf_scores": (("history", "neighbours", "bought_keys"), cf_scores),
}
