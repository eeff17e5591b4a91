"""Pure core of the recommender and the analytics definitions (no engine, no files)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st

from vitrina.analytics.definitions import Params, statements
from vitrina.analytics.relations import INPUT_COLUMNS, input_projection
from vitrina.contracts.codec import validate
from vitrina.domain.recommend import (
    forbidden_items,
    group_recommendations,
    ndcg_at,
    popularity_baseline,
    precision_at,
    ranking_metrics,
    recall_at,
)

ids = st.lists(st.sampled_from([str(100000 + i) for i in range(30)]), max_size=20, unique=True)


def test_perfect_list_scores_one_and_empty_truth_scores_zero() -> None:
    recs = ["1", "2", "3"]
    assert precision_at(recs, {"1", "2", "3"}, 3) == 1.0
    assert recall_at(recs, {"1", "2", "3"}, 3) == 1.0
    assert ndcg_at(recs, {"1", "2", "3"}, 3) == pytest.approx(1.0)
    assert recall_at(recs, set(), 3) == 0.0
    # A hit lower in the list is worth less than the same hit on top.
    assert ndcg_at(["9", "1"], {"1"}, 2) < ndcg_at(["1", "9"], {"1"}, 2)


@given(ids, ids, st.integers(min_value=1, max_value=15))
def test_metrics_stay_in_unit_interval(recs: list[str], truth: list[str], k: int) -> None:
    relevant = set(truth)
    for value in (
        precision_at(recs, relevant, k),
        recall_at(recs, relevant, k),
        ndcg_at(recs, relevant, k),
    ):
        assert 0.0 <= value <= 1.0 + 1e-12


def test_users_without_a_list_count_as_misses() -> None:
    truth = {"a": {"1"}, "b": {"2"}}
    full = ranking_metrics({"a": ["1"], "b": ["2"]}, truth, 10, catalogue_size=4)
    half = ranking_metrics({"a": ["1"]}, truth, 10, catalogue_size=4)
    assert full["recall@10"] == 1.0
    assert half["recall@10"] == 0.5
    assert full["coverage"] == 0.5


def test_popularity_baseline_skips_bought_products() -> None:
    assert popularity_baseline(["1", "2", "3", "4"], {"2"}, 2) == ["1", "3"]


def test_grouped_records_follow_rank_and_satisfy_the_contract() -> None:
    rows = [
        {"user_id": "u1", "rank": 2, "product_id": "200", "score": 0.5, "reason": "b"},
        {"user_id": "u1", "rank": 1, "product_id": "100", "score": 0.9, "reason": "a"},
        {"user_id": "u0", "rank": 1, "product_id": "300", "score": 1.0, "reason": "c"},
    ]
    records = group_recommendations(rows, model="m", generated_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert [r["user_id"] for r in records] == ["u0", "u1"]
    assert [i["product_id"] for i in records[1]["items"]] == ["100", "200"]
    for record in records:
        validate("recommendation", record)
    assert forbidden_items(records[1], banned={"200"}, out_of_stock=set(), bought=set()) == ["200"]


def test_every_definition_transpiles_to_spark_sql() -> None:
    """The Spark engine depends on sqlglot understanding every statement."""
    for statement, sql in statements(Params(as_of=1.7e9), evaluation=True):
        if statement.model:  # a Python step (analytics/model.py): no SQL to transpile
            assert not sql, statement.name
            continue
        assert "{" not in sql, f"{statement.name}: unfilled parameter"
        spark = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
        assert spark.upper().startswith("SELECT"), statement.name
    for dataset in INPUT_COLUMNS:
        empty = input_projection(dataset, None, set())
        assert "WHERE 1 = 0" in empty
        sqlglot.transpile(empty, read="duckdb", write="spark")
