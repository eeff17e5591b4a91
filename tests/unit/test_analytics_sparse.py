"""The recommender's EASE steps (analytics/model.py) against plain numpy references."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pytest

from vitrina.analytics import model
from vitrina.analytics.definitions import Params


def _history(seed: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(history, bought_keys, recommendable_keys) of a small random lake."""
    rng = random.Random(seed)
    rows = {(u, rng.randint(1, 40)) for u in range(1, 120) for _ in range(rng.randint(1, 9))}
    u, p = zip(*sorted(rows), strict=True)
    flags = [int(rng.random() < 0.7) for _ in u]
    allowed = [q for q in range(1, 41) if q % 7]  # some products not recommendable
    history = pa.table(
        {
            "u": pa.array(u, pa.int32()),
            "p": pa.array(p, pa.int32()),
            "bought": pa.array(flags, pa.int32()),
        }
    )
    bought = history.filter(pa.compute.equal(history["bought"], 1)).select(["u", "p"])
    return history, bought, pa.table({"p": pa.array(allowed, pa.int32())})


def _reference_ease(
    history: pa.Table, n: int, lam: float, rho: float
) -> tuple[list[int], np.ndarray]:
    """Plain numpy EASE over the n products with most customers (ties by key)."""
    pairs = sorted(set(zip(history["u"].to_pylist(), history["p"].to_pylist(), strict=True)))
    buyers = Counter(p for _, p in pairs)
    products = sorted(sorted(buyers, key=lambda q: (-buyers[q], q))[:n])
    users = sorted({u for u, _ in pairs})
    x = np.zeros((len(users), len(products)))
    for u, p in pairs:
        if p in products:
            x[users.index(u), products.index(p)] = 1.0
    gram = x.T @ x
    inverse = np.linalg.inv(gram + lam * np.eye(len(products)) + rho * np.diag(np.diag(gram)))
    weights = np.eye(len(products)) - inverse @ np.diag(1.0 / np.diag(inverse))
    return products, weights


@pytest.mark.parametrize("n", [40, 12])
def test_ease_scores_match_a_plain_numpy_closed_form(n: int) -> None:
    # The EASE math alone: no model check (on these random histories it would rightly
    # fall back to popularity and leave no scores to compare).
    params = Params(
        ease_products=n, ease_lambda=5.0, ease_diagonal=0.5, top_k=10**6, model_check_customers=0
    )
    for seed in (1, 2, 3):
        history, bought, allowed = _history(seed)
        inputs = {"history": history, "bought_keys": bought, "recommendable_keys": allowed}
        products, weights = _reference_ease(history, n, params.ease_lambda, params.ease_diagonal)
        assert np.allclose(np.diag(weights), 0.0)
        ok = set(allowed["p"].to_pylist())
        want: dict[tuple[int, int], float] = {}
        for u in sorted(set(history["u"].to_pylist())):
            row = np.zeros(len(products))
            for r in history.filter(pa.compute.equal(history["u"], u)).to_pylist():
                if r["p"] in products:
                    row[products.index(r["p"])] = 1.0
            for j, score in enumerate(np.round(row @ weights, 9)):
                if score > 0 and products[j] in ok:
                    want[(u, products[j])] = score
        got = model.cf_scores(inputs, params)
        rows = zip(*(got[c].to_pylist() for c in ("u", "p", "score")), strict=True)
        have = {(u, p): s for u, p, s in rows}
        assert have.keys() == want.keys()
        assert np.allclose([have[k] for k in want], [want[k] for k in want], rtol=1e-9)
        # Neighbours: each product's largest positive weights towards recommendable others.
        nb = model.neighbours(inputs, replace(params, neighbours=3))
        expected = []
        for i, a in enumerate(products):
            best = sorted(
                (-round(weights[i, j], 9), b)
                for j, b in enumerate(products)
                if b != a and b in ok and round(weights[i, j], 9) > 0
            )[:3]
            expected += [(a, b) for _, b in best]
        assert sorted(zip(nb["item"].to_pylist(), nb["other"].to_pylist(), strict=True)) == sorted(
            expected
        )


def test_ease_does_not_depend_on_row_order_or_block_size(monkeypatch) -> None:
    params = Params(ease_products=25, top_k=3, model_check_customers=0)
    history, bought, allowed = _history(7)
    inputs = {"history": history, "bought_keys": bought, "recommendable_keys": allowed}
    first = model.cf_scores(inputs, params), model.neighbours(inputs, params)
    shuffled = history.take(pa.array(random.Random(0).sample(range(len(history)), len(history))))
    monkeypatch.setattr(model, "DENSE_BLOCK", 50)  # many small blocks
    inputs = {**inputs, "history": shuffled}
    second = model.cf_scores(inputs, params), model.neighbours(inputs, params)
    for a, b in zip(first, second, strict=True):
        keys = [(c, "ascending") for c in a.column_names[:2]]
        assert a.sort_by(keys).equals(b.sort_by(keys))


@pytest.mark.parametrize("share", [1.0, 0.3])
def test_pruned_similarity_scores_leave_every_list_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """cf_scores drops candidates that cannot reach a list: the lists must not change.

    Also where the model check gave the model a weaker lead (share 0.3 of cf_weight): the
    pruning's margin must follow the weight used.
    """
    from vitrina.analytics import guard
    from vitrina.analytics.definitions import statements
    from vitrina.analytics.engines import DuckDBEngine, run_definitions
    from vitrina.analytics.lakeio import AnalyticsLake
    from vitrina.analytics.synthetic import write_generated_lake
    from vitrina.lake.writer import LakeWriter
    from vitrina.settings import load_settings

    config = load_settings(data_dir=tmp_path)
    write_generated_lake(
        LakeWriter.from_settings(config), products=300, customer_count=80, messages=6000, seed=5
    )
    params = Params(top_k=5)
    outcome = guard.ModelCheck(share=share, customers=0, hits=(), hidden=0)
    monkeypatch.setattr(guard, "check", lambda *_: outcome)
    engine = DuckDBEngine()
    try:
        run_definitions(engine, AnalyticsLake.from_settings(config).inputs(), params)
        pruned_rows = engine.scalar("SELECT COUNT(*) FROM cf_scores")
        pruned = engine.fetch("recommendations", "user_id, rank").to_pylist()
        reads, step = model.STEPS["cf_scores"]
        assert engine.scalar("SELECT MAX(weight) FROM model_check") == share * params.cf_weight
        everything = step({n: engine.table(n) for n in reads}, replace(params, top_k=10**6))
        assert everything.num_rows > pruned_rows  # the pruning is in play
        engine.put("cf_scores", everything)
        after = [s for s, _ in statements(params)]
        start = [s.name for s in after].index("cf_scores") + 1
        for statement, sql in statements(params)[start:]:
            if not statement.model:
                engine.create(statement.name, sql, statement.materialize)
        assert engine.fetch("recommendations", "user_id, rank").to_pylist() == pruned
    finally:
        engine.close()
