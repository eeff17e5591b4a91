"""The recommender's scores on tiny hand-made lakes (DuckDB in-process, real Parquet files).

Regressions of issue 16: a purchase counted twice (order line + `purchase` event), one
category's popularity added twice, recency from the wall clock (NaN on old data).
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.analytics.definitions import Params
from vitrina.analytics.engines import DuckDBEngine, run_definitions
from vitrina.analytics.lakeio import InputFiles
from vitrina.analytics.relations import INPUT_COLUMNS

T0 = datetime(2017, 6, 1, tzinfo=UTC)


def _products(ids: list[str], category: str = "Продукты") -> list[dict[str, Any]]:
    return [
        {
            "product_id": p,
            "name": p,
            "category": category,
            "stock_available": 5,
            "_timestamp": T0,
            "_partition": 0,
            "_offset": i,
        }
        for i, p in enumerate(ids)
    ]


def _order(i: int, user: str, product: str, when: datetime) -> dict[str, Any]:
    return {
        "order_id": f"o{i}",
        "customer_id": user,
        "order_date": when,
        "state": "created",
        "line_no": 0,
        "product_id": product,
        "quantity": 1,
        "_partition": 0,
        "_offset": i,
    }


def _engine(
    root: Path,
    data: dict[str, list[dict[str, Any]]],
    params: Params,
    *,
    evaluation: bool = False,
) -> DuckDBEngine:
    engine = DuckDBEngine()
    inputs = {}
    for dataset in INPUT_COLUMNS:
        rows = data.get(dataset, [])
        urls: list[str] = []
        columns: set[str] = set()
        if rows:
            path = root / f"{dataset}.parquet"
            pq.write_table(pa.Table.from_pylist(rows), path)
            urls, columns = [str(path)], set(rows[0])
        inputs[dataset] = InputFiles(dataset, urls, frozenset(columns))
    run_definitions(engine, inputs, params, evaluation=evaluation)
    return engine


def test_a_purchase_counts_once(tmp_path: Path) -> None:
    data = {
        "shop_products": _products(["a", "b"]),
        "orders": [_order(0, "u1", "a", T0)],
        "client_events": [
            {
                "user_id": "u1",
                "type": "purchase",
                "product_id": "a",
                "timestamp": T0,
                "_partition": 0,
                "_offset": 0,
            },
            {
                "user_id": "u2",
                "type": "view",
                "product_id": "b",
                "timestamp": T0,
                "_partition": 0,
                "_offset": 1,
            },
        ],
    }
    engine = _engine(tmp_path, data, Params())
    weight = engine.scalar("SELECT weight FROM interactions WHERE user_id = 'u1'")
    assert weight == 5.0  # the order line alone (ORDER_WEIGHT), not 10
    # The purchase event still marks it bought: never recommended to u1.
    assert (
        engine.scalar(
            "SELECT COUNT(*) FROM recommendations WHERE user_id = 'u1' AND product_id = 'a'"
        )
        == 0
    )


def test_one_category_is_not_added_twice(tmp_path: Path) -> None:
    orders = [_order(i, f"u{i}", "top", T0) for i in range(3)] + [_order(9, "new", "x", T0)]
    data = {"shop_products": _products(["top", "x"]), "orders": orders}
    engine = _engine(tmp_path, data, Params())
    # "new" bought only x (nobody else did): no similarity, popularity fills with "top".
    score = engine.scalar("SELECT score FROM recommendations WHERE user_id = 'new'")
    assert score == 1.0  # popular_weight x share 1.0, not category + global = 2.0


def test_the_category_fill_shows_its_category(tmp_path: Path) -> None:
    orders = [_order(i, f"u{i}", "top", T0) for i in range(3)]
    orders += [_order(5, "other", "b1", T0), _order(9, "new", "x", T0)]
    products = _products(["top"], category="A") + _products(["b1", "x"], category="B")
    engine = _engine(tmp_path, {"shop_products": products, "orders": orders}, Params())
    # "new" bought only x (no co-buyers): the list is the fill, b1 as the best of the
    # customer's category, top as the bestseller overall.
    reasons = dict(
        engine.con.execute(
            "SELECT product_id, reason FROM recommendations WHERE user_id = 'new'"
        ).fetchall()
    )
    assert reasons == {"b1": "популярно в категории B", "top": "популярно у покупателей"}


def test_recency_is_measured_from_the_newest_fact_not_the_wall_clock(tmp_path: Path) -> None:
    orders = [_order(0, "u1", "a", T0), _order(1, "u2", "a", T0 - timedelta(days=30))]
    data = {"shop_products": _products(["a"]), "orders": orders}
    engine = _engine(tmp_path, data, Params())
    assert engine.scalar("SELECT now FROM clock") == T0.timestamp()
    assert engine.scalar("SELECT weight FROM interactions WHERE user_id = 'u1'") == 5.0
    assert math.isclose(
        engine.scalar("SELECT weight FROM interactions WHERE user_id = 'u2'"), 2.5, rel_tol=1e-6
    )  # one half-life older
    explicit = _engine(tmp_path, data, Params(as_of=(T0 + timedelta(days=30)).timestamp()))
    assert math.isclose(
        explicit.scalar("SELECT weight FROM interactions WHERE user_id = 'u1'"), 2.5, rel_tol=1e-6
    )


moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=15, deadline=None)
@given(
    orders=st.lists(
        st.tuples(
            st.sampled_from(["u1", "u2", "u3"]), st.sampled_from(["a", "b", "c", "d"]), moments
        ),
        min_size=1,
        max_size=12,
    ),
    views=st.lists(
        st.tuples(
            st.sampled_from(["u1", "u4"]),
            st.sampled_from(["a", "d"]),
            moments,
            st.sampled_from(["view", "review", "purchase"]),
            st.integers(1, 5),
        ),
        max_size=6,
    ),
    as_of=st.one_of(st.none(), st.floats(0, 4e9)),
    half_life=st.floats(0.01, 3650),
)
def test_scores_are_always_finite(
    orders: list[tuple[str, str, datetime]],
    views: list[tuple[str, str, datetime, str, int]],
    as_of: float | None,
    half_life: float,
) -> None:
    data = {
        "shop_products": _products(["a", "b"]) + _products(["c", "d"], "Дом"),
        "orders": [_order(i, u, p, t) for i, (u, p, t) in enumerate(orders)],
        "client_events": [
            {
                "user_id": u,
                "type": kind,
                "product_id": p,
                "timestamp": t,
                "rating": r,
                "_partition": 0,
                "_offset": i,
            }
            for i, (u, p, t, kind, r) in enumerate(views)
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(Path(tmp), data, Params(as_of=as_of, half_life_days=half_life))
        for table in ("recommendations", "popular", "item_neighbours"):
            bad = engine.scalar(
                f"SELECT COUNT(*) FROM {table} WHERE score IS NULL "
                "OR isnan(score) OR isinf(score) OR score < 0"
            )
            assert bad == 0, table
        assert engine.scalar("SELECT COUNT(*) FROM popular") >= 1
        engine.close()


def test_popularity_counts_customers_not_order_lines(tmp_path: Path) -> None:
    # One customer buying "a" six times must not outrank "b", bought by three customers:
    # the fill is what many people want (Instacart: distinct customers 1.21x order lines).
    orders = [_order(i, "heavy", "a", T0 + timedelta(days=i)) for i in range(6)]
    orders += [_order(10 + i, f"u{i}", "b", T0) for i in range(3)]
    engine = _engine(tmp_path, {"shop_products": _products(["a", "b"]), "orders": orders}, Params())
    ranked = engine.fetch("popular", "rank").column("product_id").to_pylist()
    assert ranked == ["b", "a"]


def test_the_similarity_floor_prunes_without_changing_any_list(tmp_path: Path) -> None:
    from vitrina.analytics.definitions import statements
    from vitrina.analytics.lakeio import AnalyticsLake
    from vitrina.analytics.synthetic import write_generated_lake
    from vitrina.lake.writer import LakeWriter
    from vitrina.settings import load_settings

    config = load_settings(data_dir=tmp_path)
    write_generated_lake(
        LakeWriter.from_settings(config), products=300, customer_count=80, messages=6000, seed=3
    )
    engine = DuckDBEngine()
    params = Params()
    run_definitions(engine, AnalyticsLake.from_settings(config).inputs(), params)
    pruned = engine.fetch("recommendations", "user_id, rank").to_pylist()
    assert engine.scalar("SELECT COUNT(*) FROM cf_floor") > 0  # the floor is in play
    engine.create(
        "cf_floor", "SELECT CAST(0 AS INTEGER) AS u, 0.0 AS floor WHERE 1 = 0", materialize=True
    )
    for statement, sql in statements(params):  # everything the floor prunes, without it
        if statement.name in ("fill", "scored", "ranked", "recommendations"):
            engine.create(statement.name, sql, statement.materialize)
    assert engine.fetch("recommendations", "user_id, rank").to_pylist() == pruned


def test_history_keeps_a_heavy_customers_most_touched_items_and_a_light_ones_all(
    tmp_path: Path,
) -> None:
    # "heavy" touched 5 products (3 of them twice), "light" 2: with max_history 3, only
    # heavy's 3 most touched stay (ranked by strength), light keeps both.
    products = ["a", "b", "c", "d", "e"]
    orders = [_order(i, "heavy", p, T0) for i, p in enumerate(products)]
    orders += [_order(10 + i, "heavy", p, T0 + timedelta(days=1)) for i, p in enumerate("ace")]
    orders += [_order(20, "light", "a", T0), _order(21, "light", "b", T0)]
    data = {"shop_products": _products(products), "orders": orders}
    engine = _engine(tmp_path, data, Params(max_history=3))
    kept = engine.con.execute(
        "SELECT k.user_id, pk.product_id FROM history AS h "
        "JOIN user_keys AS k ON k.u = h.u JOIN product_keys AS pk ON pk.p = h.p "
        "ORDER BY 1, 2"
    ).fetchall()
    assert kept == [("heavy", "a"), ("heavy", "c"), ("heavy", "e"), ("light", "a"), ("light", "b")]


def test_scored_equals_merging_similarity_and_fill_rows_by_aggregate(tmp_path: Path) -> None:
    # `scored` adds a fill row only where no similarity row exists, because a similarity row
    # carries the same fill values: the same rows as merging both by MAX per (u, p).
    from vitrina.analytics.lakeio import AnalyticsLake
    from vitrina.analytics.synthetic import write_generated_lake
    from vitrina.lake.writer import LakeWriter
    from vitrina.settings import load_settings

    config = load_settings(data_dir=tmp_path)
    write_generated_lake(
        LakeWriter.from_settings(config), products=300, customer_count=80, messages=6000, seed=4
    )
    engine = DuckDBEngine()
    run_definitions(engine, AnalyticsLake.from_settings(config).inputs(), Params())
    both = engine.scalar(
        "SELECT COUNT(*) FROM fill AS l JOIN cf_scores AS c ON c.u = l.u AND c.p = l.p"
    )
    assert both > 0  # products with both a similarity and a fill row are in play
    merged = engine.con.execute(
        "SELECT u, p, MAX(cf), MAX(cf_code), MAX(cat), MAX(pop) FROM ("
        "SELECT s.u, s.p, 10.0 * s.score / m.top AS cf, "
        "CASE WHEN s.from_bought = 1 THEN 1 ELSE 2 END AS cf_code, "
        "uc.share * f.cat_share AS cat, f.pop FROM cf_scores AS s JOIN (SELECT u, "
        "MAX(score) AS top FROM cf_scores GROUP BY u) AS m ON m.u = s.u "
        "LEFT JOIN fill_of AS f ON f.p = s.p LEFT JOIN user_categories AS uc "
        "ON uc.u = s.u AND uc.category = f.category UNION ALL "
        "SELECT u, p, NULL, NULL, cat, pop FROM fill) AS t GROUP BY u, p ORDER BY u, p"
    ).fetchall()
    scored = engine.con.execute(
        "SELECT u, p, cf, cf_code, cat, pop FROM scored ORDER BY u, p"
    ).fetchall()
    assert scored == merged
