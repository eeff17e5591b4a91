"""Offline evaluation: does the recommender beat "show everyone the bestsellers"?

Time-split holdout: orders and events before the cut train both models (the job's own
definitions run with `train_until` = cut, so evaluation measures exactly what `run` ships);
what each customer bought after the cut, and had not bought before, is the truth. Customers
with no history before the cut are cold-start (both models show the popular list) and are
left out, and counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from vitrina.analytics.definitions import IS_CANCELLED, Params
from vitrina.analytics.job import Progress, compute
from vitrina.analytics.lakeio import AnalyticsLake, EmptyLakeError, InputFiles
from vitrina.domain.recommend import popularity_baseline, ranking_metrics


@dataclass
class EvaluationReport:
    cutoff: str
    k: int
    engine: str
    users: int
    cold_start_users: int
    catalogue: int
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    # The run's model check (analytics/guard.py): whether the model led or popularity alone.
    model_check: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdout_cutoff(lake: AnalyticsLake, holdout: float) -> float:
    """Epoch seconds splitting the order history: the last `holdout` share is held out."""
    import duckdb

    def quantile(inputs: dict[str, InputFiles]) -> Any:
        if not inputs["orders"].urls:  # a lake of products and events only: nothing to hold out
            return None
        con = duckdb.connect(":memory:")
        try:
            if not lake.local:
                con.register_filesystem(lake.fs)
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in inputs["orders"].urls)
            # A share of ORDERS, not of order lines (one order of 1,000 lines moved the cut:
            # 0.1 % of the orders were held out for --holdout 0.2, a blind review), of the
            # orders that count (not cancelled). An order dated 9999 is one order: it moves
            # a quantile no further than any other.
            return con.execute(
                f"SELECT quantile_cont(t, {1.0 - holdout}) FROM (SELECT order_id, "
                "MIN(epoch(order_date)) AS t FROM "
                f"read_parquet([{listed}], union_by_name = true) WHERE NOT {IS_CANCELLED} "
                "GROUP BY order_id) AS o"
            ).fetchone()
        finally:
            con.close()

    row = lake.read_listed(quantile)
    if row is None or row[0] is None:
        raise EmptyLakeError(
            f"the orders in the lake at {lake.url} have no order dates",
            hint="generate traffic first: `vitrina up` or `vitrina demo`",
        )
    return float(row[0])


def evaluate(
    settings: Any,
    *,
    engine_name: str | None = None,
    k: int = 10,
    holdout: float = 0.2,
    progress: Progress | None = None,
    engine_options: dict[str, Any] | None = None,
) -> EvaluationReport:
    """Precision/recall/NDCG@k and coverage of the recommender and the popularity baseline."""
    lake = AnalyticsLake.from_settings(settings)
    cut = holdout_cutoff(lake, holdout)
    # The same clock rule as `run`: recency from the newest fact before the cut.
    params = Params(train_until=cut, top_k=k, ease_products=settings.analytics.ease_products)
    out = compute(
        settings,
        params,
        engine_name=engine_name,
        evaluation=True,
        progress=progress,
        engine_options=engine_options,
    )
    bought: dict[str, set[str]] = {}
    for row in out["bought"].to_pylist():
        bought.setdefault(row["user_id"], set()).add(row["product_id"])
    recs: dict[str, list[str]] = {}
    for row in out["recommendations"].to_pylist():  # sorted by user_id, rank
        recs.setdefault(row["user_id"], []).append(row["product_id"])
    truth: dict[str, set[str]] = {}
    cold: set[str] = set()
    for row in out["holdout"].to_pylist():
        user, product = row["user_id"], row["product_id"]
        if user not in recs:
            cold.add(user)
        elif product not in bought.get(user, set()):
            truth.setdefault(user, set()).add(product)
    if not truth:
        raise EmptyLakeError(
            f"no customer in the lake at {lake.url} bought something new after the cut "
            f"({datetime.fromtimestamp(cut, UTC).isoformat()})",
            hint="let the traffic generator run longer, or use a larger --holdout",
        )
    popular = [r["product_id"] for r in out["popular"].to_pylist()]
    baseline = {u: popularity_baseline(popular, bought.get(u, set()), k) for u in truth}
    catalogue = out["recommendable"].num_rows
    return EvaluationReport(
        cutoff=datetime.fromtimestamp(cut, UTC).isoformat(),
        k=k,
        engine=engine_name or settings.analytics.engine,
        users=len(truth),
        cold_start_users=len(cold),
        catalogue=catalogue,
        models={
            "recommender": ranking_metrics(recs, truth, k, catalogue),
            "popularity": ranking_metrics(baseline, truth, k, catalogue),
        },
        model_check=next(iter(out["model_check"].to_pylist()), {}),
    )
