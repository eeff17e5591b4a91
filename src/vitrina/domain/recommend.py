"""Pure helpers of the recommender: records from ranked rows, post-filters, offline metrics.

Scoring itself is SQL (vitrina.analytics.definitions) so two engines can run it; what is
here is plain Python over plain data: shaping the output records, the rule of what must
never be shown to a customer (checked independently of the SQL by the tests), and the
ranking metrics of the evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

# The recommendation record every unknown or new customer gets (popular products).
POPULAR_USER = "__popular__"


def group_recommendations(
    rows: Iterable[Mapping[str, Any]], *, model: str, generated_at: datetime
) -> list[dict[str, Any]]:
    """Rows (user_id, rank, product_id, score, reason) → one `recommendation` record per user.

    Items keep the order of `rank`; users come out sorted so output is deterministic.
    """
    by_user: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for row in rows:
        item = {
            "product_id": str(row["product_id"]),
            "score": float(row["score"]),
            "reason": str(row["reason"]),
        }
        by_user.setdefault(str(row["user_id"]), []).append((int(row["rank"]), item))
    return [
        {
            "user_id": user,
            "items": [item for _, item in sorted(items, key=lambda x: x[0])],
            "model": model,
            "generated_at": generated_at.isoformat(),
        }
        for user, items in sorted(by_user.items())
    ]


def forbidden_items(
    record: Mapping[str, Any], *, banned: set[str], out_of_stock: set[str], bought: set[str]
) -> list[str]:
    """Products of a recommendation record that must never be shown to its user."""
    return [
        item["product_id"]
        for item in record["items"]
        if item["product_id"] in banned
        or item["product_id"] in out_of_stock
        or item["product_id"] in bought
    ]


def popularity_baseline(popular: Sequence[str], bought: set[str], k: int) -> list[str]:
    """The popularity recommender: the k most popular products the user has not bought."""
    return [p for p in popular if p not in bought][:k]


def precision_at(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    hits = sum(1 for p in recommended[:k] if p in relevant)
    return hits / k


def recall_at(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return 0.0
    hits = sum(1 for p in recommended[:k] if p in relevant)
    return hits / len(relevant)


def ndcg_at(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance NDCG: hits discounted by log2(position + 1), over the ideal ordering."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(recommended[:k]) if p in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def ranking_metrics(
    lists: Mapping[str, Sequence[str]], truth: Mapping[str, set[str]], k: int, catalogue_size: int
) -> dict[str, float]:
    """Mean precision/recall/NDCG@k over the users in `truth`, and catalogue coverage.

    A user in `truth` without a list counts as all misses (not skipped), so a model cannot
    look better by declining to answer.
    """
    users = sorted(truth)
    n = max(len(users), 1)
    shown: set[str] = set()
    precision = recall = ndcg = 0.0
    for user in users:
        recs = list(lists.get(user, []))[:k]
        shown.update(recs)
        precision += precision_at(recs, truth[user], k)
        recall += recall_at(recs, truth[user], k)
        ndcg += ndcg_at(recs, truth[user], k)
    return {
        "users": float(len(users)),
        f"precision@{k}": precision / n,
        f"recall@{k}": recall / n,
        f"ndcg@{k}": ndcg / n,
        "coverage": len(shown) / catalogue_size if catalogue_size else 0.0,
    }
