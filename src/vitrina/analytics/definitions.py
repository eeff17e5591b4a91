"""Every analytic of the batch job, defined ONCE as SQL in the DuckDB dialect.

The DuckDB engine runs these statements as written; the Spark engine transpiles each one to
Spark SQL with sqlglot. Both engines therefore compute the same thing by construction, and
`tests/integration/test_analytics_engines.py` proves their outputs are identical.

Rules that keep the two dialects in step:
- every statement is one SELECT over named relations (inputs, or earlier statements);
- time is compared as epoch seconds (`epoch(ts)`), never through time-zone sensitive casts;
- scores are rounded before they are ranked and every ranking has a total tie-break, so
  float summation order (which differs between engines) cannot reorder results.

The recommender is EASE (a closed-form linear item-item model, `model.py`) over the
products with the most customers, with two fallbacks that fill a customer's list and break
its near-ties: popular products in the customer's favourite categories (recency-weighted
affinity), then globally popular products. Banned, out-of-stock and
already-bought products are removed last, so no tier can leak them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from vitrina.analytics.relations import Statement
from vitrina.analytics.reports import REPORT_STATEMENTS
from vitrina.contracts.models import OrderItem, Price
from vitrina.domain.recommend import POPULAR_USER

REASON_BOUGHT = "похоже на то, что вы покупали"
REASON_VIEWED = "похоже на то, что вы смотрели"
REASON_CATEGORY = "популярно в категории "
REASON_POPULAR = "популярно у покупателей"
NO_CATEGORY = "(без категории)"
CANCELLED_STATES = ("cancelled", "canceled")

# Implicit-feedback weight of one signal. A purchase says the most and counts once, as its
# order line (a `purchase` client event weighs 0: it only marks the item bought); a view
# the least; a review says "liked" (4-5 stars) or "not really" (1-3 stars).
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0}
ORDER_WEIGHT = 5.0
REVIEW_LIKED = 4.0
REVIEW_DISLIKED = 0.5
# Older signals count as if 20 half-lives old (weight x 2^-20 ~ 1e-6): never 0, never NaN.
MAX_AGE_HALF_LIVES = 20.0


def _upper_bound(model: type[BaseModel], field: str) -> Any:
    """The contract's `le` bound of one field (pydantic keeps it in the field's metadata)."""
    return next(m.le for m in model.model_fields[field].metadata if hasattr(m, "le"))


# A price or quantity outside the contract's bounds (a lake written before a bound, or by
# another writer: 1e308, inf, NaN, negative, 2^62 items) reads as unknown, as a missing one
# does; one such row made every run fail (DuckDB: "Could not cast value inf to DECIMAL(28,6)").
MAX_AMOUNT = _upper_bound(Price, "amount")
MAX_QUANTITY = _upper_bound(OrderItem, "quantity")


# Outputs fetched after a run, with their sort order (so results compare row by row).
OUTPUTS: dict[str, str] = {
    "category_stats": "category",
    "top_products": "rank",
    "search_top_queries": "rank",
    "search_zero_results": "rank",
    "search_by_category": "category",
    "search_refinements": "query",
    "recommendations": "user_id, rank",
    "popular": "rank",
    "item_neighbours": "product_id, rank",
    "model_check": "weight",
}


@dataclass(frozen=True)
class Params:
    """Knobs of one run. `train_until` (epoch s) cuts inputs for a time-split evaluation.

    `as_of` (epoch s) is the moment recency is measured from; None (the default, in `run`
    and `evaluate` alike) means the newest order or event in the lake before the cut, so
    years-old data scores exactly like fresh data.
    """

    as_of: float | None = None
    # Facts dated after this (epoch s; None: a day after the wall clock) cannot be the
    # newest: one order dated 2999 made every other fact 20 half-lives old, and every
    # customer's recency weights equal.
    clock_limit: float | None = None
    top_k: int = 10
    train_until: float = 1e12  # no cut: far beyond any timestamp
    half_life_days: float = 30.0  # a 30-day-old signal counts half
    # The customer's most often touched items (undecayed signal weight, then recency): the
    # history row EASE learns and scores from. Instacart validation: 30 / 100 / 200 / 500
    # items 0.0402 / 0.0404 / 0.0472 / 0.0474 (EASE needs the whole basket history).
    max_history: int = 500
    neighbours: int = 20  # "similar products" kept per product (B's largest entries)
    # EASE over the products with the most customers (settings: analytics.ease_products).
    # Instacart validation (docs/recommendations-and-search.md), recall@10 new items:
    # 1000 / 2000 / 3000 / 5000 products 0.0438 / 0.0474 / 0.0455 / 0.0483 vs 0.0402 for
    # the item-item model it replaced; 2000 is within noise of 5000 at 1/15 of the inverse.
    ease_products: int = 2000
    # Regularisation λ + ρ·(the product's customers) on B's diagonal. A plain λ could not
    # serve both data sets: Instacart validation needs λ ≥ 200 (λ 100: 0.0431), while at
    # λ 200 the generated lakes fall behind popularity (0.0945 vs 0.1036). λ 20, ρ 3:
    # Instacart 0.0467, generated lakes ahead of popularity on all four (docs).
    ease_lambda: float = 20.0
    ease_diagonal: float = 3.0
    category_fill: int = 20  # popular items per favourite category offered as fill
    popular_n: int = 100  # length of the global popular list
    top_n: int = 50  # rows of top products / top queries
    # A refinement (search_refinements) is served once this many customers made it: one
    # customer's typo chain is no evidence, and one customer cannot steer another's search.
    refine_min_users: int = 2
    # Blend of the signals (each scaled to [0, 1]): similarity leads (x 10), favourite
    # categories and bestsellers break its near-ties and fill the list. 10 vs 1: Instacart
    # validation 0.0382 vs 0.0395 (noise), generated lakes ahead of popularity on all four
    # evaluated at 10, level on one at 1.
    cf_weight: float = 10.0
    # Customers whose hidden history items check the model against popularity before its
    # scores are used (`guard.py`); 0 = no check, the model leads with cf_weight.
    model_check_customers: int = 3000
    category_weight: float = 1.0
    popular_weight: float = 1.0

    def render(self) -> dict[str, str]:
        values = {
            k: repr(float(v)) if isinstance(v, float) else str(v) for k, v in self.__dict__.items()
        }
        values["as_of"] = "NULL" if self.as_of is None else repr(float(self.as_of))
        limit = time.time() + 86400.0 if self.clock_limit is None else self.clock_limit
        values["clock_limit"] = repr(float(limit))
        values["decay"] = repr(math.log(2) / (self.half_life_days * 86400.0))
        values["max_age"] = repr(MAX_AGE_HALF_LIVES * self.half_life_days * 86400.0)
        return values


def _latest(table: str, columns: str) -> str:
    return (
        f"SELECT {columns} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY product_id "
        f"ORDER BY _timestamp DESC, _partition DESC, _offset DESC) AS rn FROM {table}) AS t "
        f"WHERE rn = 1"
    )


_EVENT_CASE = (
    "CASE type "
    + " ".join(f"WHEN '{k}' THEN {v}" for k, v in EVENT_WEIGHTS.items())
    + f" WHEN 'review' THEN CASE WHEN rating >= 4 THEN {REVIEW_LIKED} "
    f"ELSE {REVIEW_DISLIKED} END ELSE 0.0 END"
)
_CANCELLED = ", ".join(f"'{s}'" for s in CANCELLED_STATES)
# A record's own state is free text: "CANCELLED" and "Canceled" are cancellations too.
IS_CANCELLED = f"LOWER(COALESCE(state, '')) IN ({_CANCELLED})"

STATEMENTS: list[Statement] = [
    # -- catalogue ---------------------------------------------------------------------
    Statement(
        "products_latest",
        _latest(
            "shop_products",
            f"product_id, name, COALESCE(category, '{NO_CATEGORY}') AS category, "
            "brand, CASE WHEN price_amount BETWEEN 0 AND "
            f"{MAX_AMOUNT:.0f} THEN price_amount END AS price_amount, "
            "stock_available, stock_reserved",
        ),
        materialize=True,
    ),
    Statement(
        "banned",
        _latest("banned_products", "product_id, tombstone").replace(
            "WHERE rn = 1", "WHERE rn = 1 AND NOT COALESCE(tombstone, FALSE)"
        ),
    ),
    Statement(
        "catalogue",
        "SELECT p.* FROM products_latest AS p LEFT JOIN banned AS b "
        "ON p.product_id = b.product_id WHERE b.product_id IS NULL",
        materialize=True,
    ),
    # Unknown stock counts as out of stock: never recommend what may not ship.
    Statement(
        "recommendable",
        "SELECT product_id, category FROM catalogue WHERE COALESCE(stock_available, 0) > 0",
        materialize=True,
    ),
    # -- facts (cut at train_until; each Kafka record once: engines.run_definitions reads
    # a record's copies once, by its incarnation, partition and offset) -------------------
    # An order cancelled by a later record of it (its newest record's state; any case):
    # it counts nowhere, though its earlier records say "created" (a blind review: a
    # cancellation sent as a later record of the order changed nothing).
    Statement(
        "cancelled_orders",
        "SELECT order_id FROM (SELECT order_id, LOWER(COALESCE(state, '')) AS state, "
        "ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY _timestamp DESC, _partition DESC, "
        "_offset DESC, line_no) AS rn FROM orders) AS t "
        f"WHERE rn = 1 AND state IN ({_CANCELLED})",
        materialize=True,
    ),
    # Each line once: the newest record's version of an order's line (order, product and
    # line number) counts. An order sent again (a store's retry) counted once in `orders`
    # but twice in revenue and units, and a corrected quantity counted both versions (a
    # blind review). A record's other lines, and records naming other products, all count.
    Statement(
        "order_lines",
        "SELECT order_id, customer_id, product_id, quantity, price, ts FROM (SELECT "
        "o.order_id, o.customer_id, o.product_id, "
        f"CASE WHEN quantity BETWEEN 1 AND {MAX_QUANTITY} THEN quantity ELSE 1 END AS quantity, "
        f"CASE WHEN price BETWEEN 0 AND {MAX_AMOUNT:.0f} THEN price END AS price, "
        "o.order_date AS ts, ROW_NUMBER() OVER (PARTITION BY o.order_id, o.product_id, "
        "o.line_no ORDER BY o._timestamp DESC, o._partition DESC, o._offset DESC) AS rn "
        "FROM orders AS o LEFT JOIN cancelled_orders AS c "
        "ON o.order_id = c.order_id WHERE c.order_id IS NULL "
        "AND epoch(o.order_date) < {train_until} "
        f"AND NOT {IS_CANCELLED.replace('state', 'o.state')}) AS d WHERE rn = 1",
        materialize=True,
    ),
    Statement(
        "events",
        "SELECT user_id, product_id, type, rating, timestamp AS ts FROM client_events "
        "WHERE epoch(timestamp) < {train_until} AND user_id IS NOT NULL "
        "AND product_id IS NOT NULL",
        materialize=True,  # read twice (the clock, interactions)
    ),
    # -- the clock: recency is measured from the newest fact in the lake (or `as_of`) that
    # is not dated in the future (`clock_limit`) -------------------------------------------
    Statement(
        "clock",
        "SELECT COALESCE(CAST({as_of} AS DOUBLE), "
        "MAX(CASE WHEN t <= {clock_limit} THEN t END), 0.0) AS now FROM ("
        "SELECT epoch(ts) AS t FROM order_lines UNION ALL "
        "SELECT epoch(ts) AS t FROM events) AS s",
        materialize=True,
    ),
    # -- implicit feedback ---------------------------------------------------------------
    # A purchase counts once: the order line. The `purchase` client event of the same item
    # only marks it bought (never recommended again), with no weight of its own.
    # The age is capped at {max_age} s (20 half-lives): the weight stays > 0, so no later
    # division can be 0/0, however old the data.
    Statement(
        "interactions",
        "SELECT user_id, product_id, "
        "ROUND(SUM(w * EXP(-{decay} * LEAST(GREATEST(c.now - epoch(ts), 0.0), "
        "{max_age}))), 9) AS weight, ROUND(SUM(w), 6) AS strength, "
        "MAX(bought) AS bought FROM ("
        f"SELECT customer_id AS user_id, product_id, ts, {ORDER_WEIGHT} AS w, 1 AS bought "
        "FROM order_lines UNION ALL "
        f"SELECT user_id, product_id, ts, {_EVENT_CASE} AS w, "
        "CASE WHEN type = 'purchase' THEN 1 ELSE 0 END AS bought FROM events) AS s "
        "CROSS JOIN clock AS c GROUP BY user_id, product_id",
        materialize=True,
    ),
    Statement("bought", "SELECT user_id, product_id FROM interactions WHERE bought = 1"),
    # Dense integer keys for customers and products (ranked by their ids, so ordering by a
    # key is ordering by the id): the heavy joins, aggregates and rankings below hash and
    # sort 4-byte integers instead of strings, and ids come back only for published rows.
    Statement(
        "user_keys",
        "SELECT user_id, CAST(ROW_NUMBER() OVER (ORDER BY user_id) "
        "AS INTEGER) AS u FROM (SELECT DISTINCT user_id FROM interactions) AS t",
        materialize=True,
    ),
    Statement(
        "product_keys",
        "SELECT product_id, CAST(ROW_NUMBER() OVER (ORDER BY "
        "product_id) AS INTEGER) AS p FROM (SELECT DISTINCT product_id "
        "FROM interactions) AS t",
        materialize=True,
    ),
    Statement(
        "keyed",
        "SELECT k.u, pk.p, i.weight, i.strength, i.bought FROM interactions AS i "
        "JOIN user_keys AS k ON k.user_id = i.user_id "
        "JOIN product_keys AS pk ON pk.product_id = i.product_id",
        materialize=True,
    ),
    Statement(
        "recommendable_keys",
        "SELECT pk.p, r.category FROM recommendable AS r "
        "JOIN product_keys AS pk ON pk.product_id = r.product_id",
        materialize=True,
    ),
    # A customer's {max_history} most often touched items. Only customers with more than
    # that are ranked: the rest keep every item (5M lines: no customer has over 100, and
    # the ranking of all 9.6M rows was 3 s of CPU).
    Statement(
        "history_sizes",
        "SELECT u, COUNT(*) AS n FROM keyed WHERE weight > 0 GROUP BY u",
        materialize=True,
    ),
    Statement(
        "history",
        "SELECT i.u, i.p, i.bought FROM keyed AS i JOIN history_sizes AS s ON s.u = i.u "
        "WHERE i.weight > 0 AND s.n <= {max_history} UNION ALL "
        "SELECT u, p, bought FROM (SELECT i.u, i.p, i.bought, ROW_NUMBER() OVER ("
        "PARTITION BY i.u ORDER BY i.strength DESC, i.weight DESC, i.p) AS rn "
        "FROM keyed AS i JOIN history_sizes AS s ON s.u = i.u "
        "WHERE i.weight > 0 AND s.n > {max_history}) AS t WHERE rn <= {max_history}",
        materialize=True,
    ),
    # The model is EASE over the {ease_products} products with the most customers, in
    # Python (`model.py`, which says why), the same code for both engines: `neighbours`
    # (item, other, sim) keeps each product's {neighbours} largest positive weights in B
    # towards recommendable products.
    Statement("neighbours", "", materialize=True, model="neighbours"),
    Statement("bought_keys", "SELECT u, p FROM keyed WHERE bought = 1"),
    # A product's model score: the customer's history row (binary: weighting by recency or
    # frequency lost on the Instacart validation split) · B, positive scores only.
    # Materialized: read twice (scores, and each customer's best score that scales them).
    # Scores of products that cannot reach a customer's list whatever their fill are left
    # out (model.cf_scores says how; the published lists are unchanged).
    # Never worse than popularity, by evidence: the model's scores lead with the weight
    # (a share of {cf_weight}, 0 = popularity alone) that finds the most hidden history
    # items on this lake (`guard.py`); one row, read by `scored`, kept in the run's report.
    Statement("model_check", "", materialize=True, model="model_check"),
    Statement("cf_scores", "", materialize=True, model="cf_scores"),
    # "Similar products" (same category) and "customers also bought" (other categories):
    # the recommender's own neighbours, served per product.
    Statement(
        "item_neighbours",
        "SELECT a.product_id, CAST(ROW_NUMBER() OVER ("
        "PARTITION BY n.item ORDER BY n.sim DESC, n.other) AS BIGINT) AS rank, "
        "b.product_id AS other_id, n.sim AS score, CASE WHEN a.category = b.category "
        "THEN 'similar' ELSE 'also_bought' END AS kind FROM neighbours AS n "
        "JOIN product_keys AS ka ON ka.p = n.item "
        "JOIN product_keys AS kb ON kb.p = n.other "
        "JOIN catalogue AS a ON a.product_id = ka.product_id "
        "JOIN catalogue AS b ON b.product_id = kb.product_id",
    ),
    # -- popularity ----------------------------------------------------------------------
    # In distinct customers, not summed weight: one heavy buyer does not make a bestseller
    # (Instacart: recall 0.0335 vs 0.0324; generated lakes: +0.02 to +0.03).
    Statement(
        "popular_ranked",
        "SELECT product_id, p, category, popularity, "
        "COALESCE(popularity / NULLIF(MAX(popularity) OVER (), 0.0), 0.0) "
        "AS global_share, COALESCE(popularity / NULLIF(MAX(popularity) OVER ("
        "PARTITION BY category), 0.0), 0.0) AS category_share, "
        "ROW_NUMBER() OVER (ORDER BY popularity DESC, product_id) AS global_rank, "
        "ROW_NUMBER() OVER (PARTITION BY category ORDER BY popularity DESC, product_id) "
        "AS category_rank FROM ("
        "SELECT pk.product_id, c.p, r.category, CAST(c.n AS DOUBLE) AS popularity "
        "FROM (SELECT p, COUNT(*) AS n FROM keyed GROUP BY p) AS c "
        "JOIN recommendable_keys AS r ON r.p = c.p "
        "JOIN product_keys AS pk ON pk.p = c.p) AS t",
        materialize=True,
    ),
    # Every keyed product's category (banned ones too: they still say what a customer likes)
    # as a 4-byte key ranked by name, so ordering by the key is ordering by the name.
    Statement(
        "category_keys",
        "SELECT category, CAST(ROW_NUMBER() OVER (ORDER BY category) AS INTEGER) AS c "
        "FROM (SELECT DISTINCT category FROM products_latest) AS t",
        materialize=True,
    ),
    Statement(
        "product_categories",
        "SELECT pk.p, ck.c FROM product_keys AS pk "
        "JOIN products_latest AS l ON l.product_id = pk.product_id "
        "JOIN category_keys AS ck ON ck.category = l.category",
        materialize=True,
    ),
    # A customer's favourite categories, aggregated over the 4-byte keys, not the strings.
    # Materialized: read twice (the fill, and each similarity row's own fill in `scored`).
    # The weight is rounded before it is ranked: categories of equal weight (a customer
    # who touched three categories alike) are then ranked by key, not by the last bit of
    # a float sum, which depends on the order rows arrive in (seen: two runs over the same
    # lake published different lists).
    Statement(
        "user_categories",
        "SELECT t.u, ck.category, t.share FROM (SELECT u, c, "
        "COALESCE(w / NULLIF(SUM(w) OVER (PARTITION BY u), 0.0), 0.0) AS share "
        "FROM (SELECT u, c, w, ROW_NUMBER() OVER (PARTITION BY u "
        "ORDER BY w DESC, c) AS rn FROM ("
        "SELECT i.u, pc.c, ROUND(SUM(i.weight), 9) AS w FROM keyed AS i "
        "JOIN product_categories AS pc ON pc.p = i.p WHERE i.weight > 0 "
        "GROUP BY i.u, pc.c) AS a) AS b WHERE rn <= 2) AS t "
        "JOIN category_keys AS ck ON ck.c = t.c",
        materialize=True,
    ),
    # Exact pruning before the ranking: a customer's top {top_k} not-bought products of the
    # global popular list all score at least the popularity of global rank top_k + n (n =
    # bought among the 3 x top_k offered), so a product scoring below that floor (by
    # similarity, fill or both) can never reach the list. Outputs are identical; the
    # ranking sorts far less.
    Statement(
        "cf_floor",
        "SELECT n.u, ROUND({popular_weight} * p.global_share, 6) AS floor "
        "FROM (SELECT k.u, COUNT(b.p) AS n FROM user_keys AS k LEFT JOIN ("
        "SELECT i.u, i.p FROM keyed AS i JOIN popular_ranked AS g ON g.p = i.p "
        "AND g.global_rank <= 3 * {top_k} WHERE i.bought = 1) AS b ON b.u = k.u "
        "GROUP BY k.u) AS n JOIN popular_ranked AS p "
        "ON p.global_rank = {top_k} + n.n WHERE n.n <= 2 * {top_k}",
        materialize=True,
    ),
    # -- recommendations: similarity leads, popularity fills -------------------------------
    # Two signals, each in [0, 1]: `cf` (similar to what the customer touched) and `fill`
    # (popular in a favourite category, or overall). A product's fill is the larger of its
    # two popularity scores, never their sum: with one category both are the same list.
    # Reasons travel as small codes and become text only for the rows published.
    # A product's fill values: popular in the customer's favourite categories (`cat`), and
    # overall (`pop`); each NULL where the product is not on that list.
    Statement(
        "fill_of",
        "SELECT p.p, p.category, CASE WHEN p.category_rank <= {category_fill} "
        "THEN {category_weight} * p.category_share END AS cat_share, "
        "CASE WHEN p.global_rank <= 3 * {top_k} THEN {popular_weight} * p.global_share END "
        "AS pop FROM popular_ranked AS p WHERE p.category_rank <= {category_fill} "
        "OR p.global_rank <= 3 * {top_k}",
        materialize=True,
    ),
    # Fill rows offered on their own: only those at or above the customer's floor (below
    # it a product cannot reach the list by fill alone; with a similarity score its fill
    # comes with it, in `scored`). Where the model check fell back to popularity alone
    # (share 0, no similarity rows), the favourite-category fill goes too: the lists are
    # then the global popular list minus what the customer bought, as the baseline is.
    Statement(
        "fill",
        "SELECT u, p, MAX(cat) AS cat, MAX(pop) AS pop FROM ("
        "SELECT uc.u, f.p, uc.share * f.cat_share AS cat, CAST(NULL AS DOUBLE) AS pop "
        "FROM user_categories AS uc JOIN fill_of AS f ON f.category = uc.category "
        "CROSS JOIN model_check AS w "
        "LEFT JOIN cf_floor AS fl ON fl.u = uc.u WHERE f.cat_share IS NOT NULL AND w.share > 0 "
        "AND ROUND(uc.share * f.cat_share, 6) >= COALESCE(fl.floor, 0.0) UNION ALL "
        "SELECT k.u, f.p, CAST(NULL AS DOUBLE) AS cat, f.pop FROM user_keys AS k "
        "CROSS JOIN fill_of AS f LEFT JOIN cf_floor AS fl ON fl.u = k.u "
        "WHERE f.pop IS NOT NULL AND ROUND(f.pop, 6) >= COALESCE(fl.floor, 0.0)) AS t "
        "GROUP BY u, p",
    ),
    # One row per (customer, product): similarity rows with their own fill, and the fill
    # rows offered on their own for products without a similarity row. A similarity row
    # already carries the same fill values as the product's fill row (the same fill_of and
    # user_categories rows, the same products), so the two need no merging aggregate: the
    # fill row is only added where no similarity row exists (every cf_scores row scores
    # > 0, so every customer with one passes `m.top > 0`).
    Statement(
        "scored",
        "SELECT s.u, s.p, w.weight * s.score / m.top AS cf, "
        "CASE WHEN s.from_bought = 1 THEN 1 ELSE 2 END AS cf_code, "
        "uc.share * f.cat_share AS cat, f.pop "
        "FROM cf_scores AS s JOIN (SELECT u, MAX(score) AS top "
        "FROM cf_scores GROUP BY u) AS m ON m.u = s.u CROSS JOIN model_check AS w "
        "LEFT JOIN fill_of AS f ON f.p = s.p "
        "LEFT JOIN user_categories AS uc ON uc.u = s.u AND uc.category = f.category "
        "WHERE m.top > 0 UNION ALL "
        "SELECT l.u, l.p, CAST(NULL AS DOUBLE) AS cf, CAST(NULL AS INTEGER) AS cf_code, "
        "l.cat, l.pop FROM fill AS l LEFT JOIN cf_scores AS c ON c.u = l.u AND c.p = l.p "
        "WHERE c.p IS NULL",
    ),
    # score = cf + fill; the reason shown is the stronger signal's (code 1-4). Only rows at
    # or above the customer's floor are ranked (see cf_floor: top_k products of the popular
    # list reach it, so a product below it cannot make the list, whatever its signals).
    # Bought products are removed through the bought rows of recommendable products only:
    # the others cannot match a ranked row, and the hash table holds fewer.
    Statement(
        "ranked",
        "SELECT u, p, category, score, code, ROW_NUMBER() OVER ("
        "PARTITION BY u ORDER BY score DESC, p) AS rank FROM ("
        "SELECT s.u, s.p, r.category, f.floor, "
        "ROUND(COALESCE(s.cf, 0.0) + GREATEST(COALESCE(s.cat, 0.0), "
        "COALESCE(s.pop, 0.0)), 6) AS score, "
        "CASE WHEN COALESCE(s.cf, -1.0) >= GREATEST(COALESCE(s.cat, -1.0), "
        "COALESCE(s.pop, -1.0)) THEN s.cf_code "
        "WHEN COALESCE(s.cat, -1.0) >= COALESCE(s.pop, -1.0) THEN 3 ELSE 4 END AS code "
        "FROM scored AS s JOIN recommendable_keys AS r ON r.p = s.p "
        "LEFT JOIN (SELECT i.u, i.p FROM keyed AS i JOIN recommendable_keys AS rk "
        "ON rk.p = i.p WHERE i.bought = 1) AS b ON b.u = s.u AND b.p = s.p "
        "LEFT JOIN cf_floor AS f ON f.u = s.u WHERE b.p IS NULL) AS t "
        "WHERE score >= COALESCE(floor, 0.0)",
    ),
    Statement(
        "recommendations",
        "SELECT k.user_id, CAST(t.rank AS BIGINT) AS rank, "
        f"pk.product_id, t.score, CASE t.code WHEN 1 THEN '{REASON_BOUGHT}' "
        f"WHEN 2 THEN '{REASON_VIEWED}' "
        f"WHEN 3 THEN '{REASON_CATEGORY}' || t.category ELSE '{REASON_POPULAR}' END "
        "AS reason FROM ranked AS t JOIN user_keys AS k ON k.u = t.u "
        "JOIN product_keys AS pk ON pk.p = t.p WHERE t.rank <= {top_k}",
        materialize=True,
    ),
    Statement(
        "popular",
        f"SELECT '{POPULAR_USER}' AS user_id, CAST(global_rank AS BIGINT) "
        "AS rank, product_id, ROUND(global_share, 6) AS score, "
        f"'{REASON_POPULAR}' AS reason, category FROM popular_ranked "
        "WHERE global_rank <= {popular_n}",
    ),
    *REPORT_STATEMENTS,
    # -- evaluation only: what customers bought after the cut -----------------------------
    Statement(
        "holdout",
        "SELECT DISTINCT o.customer_id AS user_id, o.product_id FROM orders AS o "
        "LEFT JOIN cancelled_orders AS c ON o.order_id = c.order_id "
        "WHERE c.order_id IS NULL AND epoch(o.order_date) >= {train_until} "
        f"AND NOT {IS_CANCELLED.replace('state', 'o.state')}",
        tags=frozenset({"evaluation"}),
    ),
]


def statements(params: Params, *, evaluation: bool = False) -> list[tuple[Statement, str]]:
    """The statements to run, in order, with parameters filled in (still DuckDB dialect)."""
    values = params.render()
    chosen = [s for s in STATEMENTS if evaluation or "evaluation" not in s.tags]
    return [(s, s.sql.format(**values)) for s in chosen]
