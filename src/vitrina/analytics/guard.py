"""Never worse than popularity, by evidence: the model checks itself on the lake it is given.

EASE leads every list (`cf_weight` x score / the customer's best, popularity fills). On
dense data that is right (Instacart 1.31x popularity, MovieLens-100k 1.89x), but on sparse
data its scores are noise and a leading noise loses to popularity: MovieLens-100k with 10 %
of its ratings (~7 per person), 0.64x [0.47, 0.85]. So before the scores are used, the
run measures them on the lake itself:

- up to `model_check_customers` customers with 2+ history items (chosen by a hash of their
  key, so the same ones on every engine and row order) each hide a fifth of their history
  (at least 1 item; which ones, by a hash of the pair); with fewer such customers than
  that, five folds hide each fifth in turn;
- EASE is solved again without the hidden items (G minus their rows' share: a second
  N x N inverse, ~1.5 s at N = 2000), and popularity counted without them;
- each customer's top `top_k` not-already-touched products, by cf_weight x score / best +
  the global popularity fill (as `scored` blends them) and by popularity alone, are
  compared with what they hid;
- the model leads only if its paired lead is significant (`choose`); otherwise the run is
  popularity alone (no scores, no category fill: exactly the baseline's lists).

The check is evidence, not proof: it hides random history items, not the next purchase,
and fills with global popularity only (the run adds favourite categories). Its outcome is
the `model_check` output (one row), kept in the lake and in the run's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from vitrina.analytics.model import _ints, _matrix, ease_solution, solve

# Shares of cf_weight tried: the shipped blend, and popularity alone. Weaker shares in
# between (0.3, 0.1, 0.03) were tried and dropped: picking the best of several on the
# hidden items picks noise (MovieLens-100k at 30 % of its ratings, time split: 0.3 chosen,
# 0.80x popularity where the full weight has 1.11x).
CHECK_SHARES = (1.0, 0.0)
# How many standard errors the model's lead over popularity alone must reach on the
# hidden items (one-sided ~95 %: a model that is only level falls back to popularity).
SIGNIFICANT = 1.64
# Each fold hides a fifth of each checked customer's history (at least one item).
FOLDS = 5


@dataclass(frozen=True)
class ModelCheck:
    """The check's outcome: the share of cf_weight used, and the hits behind the choice."""

    share: float
    customers: int
    hits: tuple[int, ...]  # per CHECK_SHARES
    hidden: int  # hidden (customer, product) pairs

    def table(self, cf_weight: float) -> pa.Table:
        by_share = dict(zip(CHECK_SHARES, self.hits, strict=True)) if self.hits else {}
        return pa.table(
            {
                "weight": pa.array([self.share * cf_weight], pa.float64()),
                "share": pa.array([self.share], pa.float64()),
                "customers": pa.array([self.customers], pa.int64()),
                "hidden": pa.array([self.hidden], pa.int64()),
                "model_hits": pa.array([by_share.get(1.0, 0)], pa.int64()),
                "popularity_hits": pa.array([by_share.get(0.0, 0)], pa.int64()),
                "chosen_hits": pa.array([by_share.get(self.share, 0)], pa.int64()),
            }
        )


def _hash(values: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random uint64 per value (splitmix64's finaliser)."""
    z = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)))


def check(history: pa.Table, recommendable: pa.Table, params: Any) -> ModelCheck:
    """The share of cf_weight this lake's evidence supports (once per run: the
    `model_check` step; `cf_scores` reads that step's row)."""
    if params.model_check_customers <= 0 or params.cf_weight <= 0:
        return ModelCheck(share=1.0, customers=0, hits=(), hidden=0)
    return _measure(history, _ints(recommendable, "p"), params)


def _measure(history: pa.Table, allowed: np.ndarray, params: Any) -> ModelCheck:
    solution = ease_solution(history, params)
    x, products = solution.x, solution.products
    sizes = np.diff(x.indptr)
    eligible = np.flatnonzero(sizes >= 2)
    picked = np.sort(
        eligible[np.argsort(_hash(eligible), kind="stable")][: params.model_check_customers]
    )
    if len(picked) == 0 or len(products) == 0:
        return ModelCheck(share=1.0, customers=0, hits=(), hidden=0)
    # The picked customers' rows; each pair's place in its row by a hash of the pair.
    rows = x[picked]
    row_of = np.repeat(np.arange(len(picked)), np.diff(rows.indptr))
    pair = (picked[row_of].astype(np.uint64) << np.uint64(32)) | rows.indices.astype(np.uint64)
    order = np.lexsort((_hash(pair), row_of))
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order)) - rows.indptr[row_of[order]]
    # Few customers: every fold (each hides a fifth of every history, so together they
    # hide all of it once), for 5x the evidence at 5 small solves; many: one fold.
    folds = FOLDS if len(eligible) < params.model_check_customers else 1
    per_customer = [np.zeros(len(picked), np.int64) for _ in CHECK_SHARES]
    for fold in range(folds):
        hidden = position % FOLDS == fold
        for total, hits in zip(
            per_customer, _fold(solution, rows, row_of, hidden, allowed, params), strict=True
        ):
            total += hits
    return ModelCheck(
        share=choose(per_customer),
        customers=len(picked),
        hits=tuple(int(h.sum()) for h in per_customer),
        hidden=int(len(position) if folds == FOLDS else (position % FOLDS == 0).sum()),
    )


def _fold(
    solution: Any,
    rows: Any,
    row_of: np.ndarray,
    hidden: np.ndarray,
    allowed: np.ndarray,
    params: Any,
) -> list[np.ndarray]:
    """Per share in CHECK_SHARES, each picked customer's hits on their `hidden` pairs."""
    x, products = solution.x, solution.products
    size = x.shape[1]
    shape = (rows.shape[0], size)
    kept = _matrix(row_of[~hidden], rows.indices[~hidden], shape)
    truth = _matrix(row_of[hidden], rows.indices[hidden], shape)
    # G without the hidden pairs: only the picked rows change.
    before, after = rows[:, products], kept[:, products]
    gram = solution.gram - (before.T @ before).toarray() + (after.T @ after).toarray()
    weights = solve(gram, params)
    # Popularity (distinct customers) without the hidden pairs; the global fill as `scored`
    # offers it: the 3 x top_k most popular recommendable products, share of the most's.
    ok = np.zeros(size, bool)
    ok[allowed[allowed < size]] = True
    buyers = np.bincount(x.indices, minlength=size) - np.bincount(truth.indices, minlength=size)
    buyers = np.where(ok, buyers, 0)
    popular = np.lexsort((np.arange(size), -buyers))[: 3 * params.top_k]
    popular = popular[buyers[popular] > 0]
    columns = np.union1d(products[ok[products]], popular)
    fill = np.zeros(len(columns))
    if len(popular):
        top = buyers[popular].max()
        fill[np.searchsorted(columns, popular)] = params.popular_weight * buyers[popular] / top
    scored = np.flatnonzero(ok[products])
    scores = np.asarray(after @ weights[:, scored])
    scores = np.where(np.round(scores, 9) > 0, scores, 0.0)
    best = scores.max(axis=1, keepdims=True)
    cf = np.zeros((rows.shape[0], len(columns)))
    cf[:, np.searchsorted(columns, products[scored])] = np.divide(
        scores, best, out=np.zeros_like(scores), where=best > 0
    )
    touched = kept[:, columns].toarray() > 0
    hit = truth[:, columns].toarray() > 0
    k = min(params.top_k, len(columns))
    if k == 0:  # nothing recommendable: neither way finds anything
        return [np.zeros(rows.shape[0], np.int64) for _ in CHECK_SHARES]
    per_customer = []
    for share in CHECK_SHARES:
        total = share * params.cf_weight * cf + fill[None, :]
        total[touched] = -np.inf
        # Top k per customer (which of equal scores at the k-th place is taken depends only
        # on the values, so both engines and any row order get the same).
        top_k = np.argpartition(-total, k - 1, axis=1)[:, :k]
        valid = np.take_along_axis(total, top_k, axis=1) > 0
        per_customer.append((np.take_along_axis(hit, top_k, axis=1) & valid).sum(axis=1))
    return per_customer


def choose(per_customer: list[np.ndarray]) -> float:
    """The share of the model whose lead over popularity alone (the last) is significant.

    Among the shares above 0, the one with the most hits (ties: the larger share) is kept
    if its paired lead over popularity alone, summed over the customers, exceeds
    SIGNIFICANT standard errors (the sum's, under no difference); otherwise 0.
    """
    popularity = per_customer[-1]
    totals = [int(h.sum()) for h in per_customer[:-1]]
    best = max(range(len(totals)), key=lambda i: (totals[i], CHECK_SHARES[i]))
    lead = per_customer[best] - popularity
    if lead.sum() > SIGNIFICANT * np.sqrt(float((lead.astype(np.float64) ** 2).sum())):
        return CHECK_SHARES[best]
    return 0.0


def model_check(tables: dict[str, pa.Table], params: Any) -> pa.Table:
    """The `model_check` step: the check's outcome as one row (weight = share x cf_weight)."""
    outcome = check(tables["history"], tables["recommendable_keys"], params)
    return outcome.table(params.cf_weight)
