"""The recommender's sparse steps (analytics/model.py) against plain-Python references."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from vitrina.analytics import model
from vitrina.analytics.definitions import Params


def _pair_history(seed: int) -> tuple[pa.Table, pa.Table]:
    rng = random.Random(seed)
    rows = {(u, rng.randint(1, 40)) for u in range(1, 120) for _ in range(rng.randint(1, 9))}
    u, p = zip(*sorted(rows), strict=True)
    allowed = [q for q in range(1, 41) if q % 7]  # some products not recommendable
    history = pa.table({"u": pa.array(u, pa.int32()), "p": pa.array(p, pa.int32())})
    return history, pa.table({"p": pa.array(allowed, pa.int32())})


def _reference_neighbours(history: pa.Table, allowed: pa.Table, params: Params) -> list[tuple]:
    by_user: dict[int, set[int]] = defaultdict(set)
    for row in history.to_pylist():
        by_user[row["u"]].add(row["p"])
    reach = Counter(p for items in by_user.values() for p in items)
    support: Counter[tuple[int, int]] = Counter()
    for items in by_user.values():
        for a in items:
            for b in items:
                if a != b:
                    support[(a, b)] += 1
    ok = set(allowed["p"].to_pylist())
    per_item: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (a, b), n in support.items():
        if n >= params.min_support and b in ok:
            sim = round(
                n / (reach[a] ** params.sim_item_exponent * reach[b] ** params.sim_other_exponent),
                9,
            )
            per_item[a].append((sim, b))
    out = []
    for a in sorted(per_item):
        best = sorted(per_item[a], key=lambda t: (-t[0], t[1]))[: params.neighbours]
        out += [(a, b, sim) for sim, b in best]
    return out


def test_neighbours_match_a_plain_python_count_with_every_tie_broken_by_id() -> None:
    params = Params(neighbours=5, min_support=2)
    for seed in (1, 2, 3):
        history, allowed = _pair_history(seed)
        got = model.neighbours({"pair_history": history, "recommendable_keys": allowed}, params)
        rows = sorted(zip(*(got[c].to_pylist() for c in ("item", "other", "sim")), strict=True))
        want = sorted(_reference_neighbours(history, allowed, params))
        assert rows == want


def test_neighbours_do_not_depend_on_row_order_or_block_size(monkeypatch) -> None:
    params = Params(neighbours=4, min_support=1)
    history, allowed = _pair_history(7)
    inputs = {"pair_history": history, "recommendable_keys": allowed}
    first = model.neighbours(inputs, params)
    shuffled = history.take(pa.array(random.Random(0).sample(range(len(history)), len(history))))
    monkeypatch.setattr(model, "BLOCK_WORK", 50)  # many small blocks
    second = model.neighbours({**inputs, "pair_history": shuffled}, params)
    assert first.sort_by([("item", "ascending"), ("other", "ascending")]).equals(
        second.sort_by([("item", "ascending"), ("other", "ascending")])
    )


def test_pruned_similarity_scores_leave_every_list_unchanged(tmp_path: Path) -> None:
    """cf_scores drops candidates that cannot reach a list: the lists must not change."""
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
    engine = DuckDBEngine()
    try:
        run_definitions(engine, AnalyticsLake.from_settings(config).inputs(), params)
        pruned_rows = engine.scalar("SELECT COUNT(*) FROM cf_scores")
        pruned = engine.fetch("recommendations", "user_id, rank").to_pylist()
        reads, step = model.STEPS["cf_scores"]
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
