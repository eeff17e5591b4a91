"""Category statistics, top products and search analytics: the job's report statements.

Plain SQL over the relations `definitions.py` builds first (`order_lines`, `products_latest`,
`catalogue`) and over `client_queries`; the same DuckDB-dialect rules apply (see there).
"""

from __future__ import annotations

from vitrina.analytics.relations import Statement
from vitrina.domain.limits import MAX_INT64

NOT_IN_CATALOGUE = "(нет в каталоге)"
ALL_CATEGORIES = "(все)"
# A search logged as slower than an hour is no measurement: two records of 1e308 ms (the
# contract bounds latency_ms below only) made the average infinite and every run fail.
MAX_LATENCY_MS = 3_600_000
# A search that found nothing, then the same customer's next search within this many seconds
# that found something: what they meant (search_refinements).
REFINED_WITHIN_S = 300
# A refinement is shown to customers («Показаны результаты по запросу …»): a short query.
MAX_REFINEMENT_CHARS = 100

REPORT_STATEMENTS: list[Statement] = [
    # -- category statistics and top products ---------------------------------------------
    # Money is summed and averaged as DECIMAL: exact, so the cents do not depend on the order
    # in which a parallel engine (DuckDB threads, Spark partitions) adds the rows.
    Statement(
        "order_stats",
        f"SELECT COALESCE(p.category, '{NOT_IN_CATALOGUE}') AS category, "
        "COUNT(DISTINCT o.order_id) AS orders, "
        "SUM(CAST(o.quantity * COALESCE(o.price, p.price_amount, 0.0) AS DECIMAL(28, 6))) "
        "AS revenue "
        "FROM order_lines AS o LEFT JOIN products_latest AS p "
        "ON p.product_id = o.product_id GROUP BY 1",
    ),
    Statement(
        "category_stats",
        "SELECT COALESCE(c.category, o.category) AS category, "
        "CAST(COALESCE(c.products, 0) AS BIGINT) AS products, c.min_price, "
        "c.avg_price, c.max_price, "
        # Each product's stock fits in 64 bits (the contract), a category's sum may not:
        # summed as DECIMAL(38, 0) on both engines and capped at the largest BIGINT.
        f"CAST(LEAST(COALESCE(c.stock_available, 0), {MAX_INT64}) AS BIGINT) AS stock_available, "
        f"CAST(LEAST(COALESCE(c.stock_reserved, 0), {MAX_INT64}) AS BIGINT) AS stock_reserved, "
        "CAST(COALESCE(o.orders, 0) AS BIGINT) AS orders, "
        "CAST(ROUND(COALESCE(o.revenue, 0.0), 2) AS DOUBLE) AS revenue FROM ("
        "SELECT category, COUNT(*) AS products, ROUND(MIN(price_amount), 2) AS min_price, "
        "CAST(ROUND(AVG(CAST(price_amount AS DECIMAL(28, 6))), 2) AS DOUBLE) AS avg_price, "
        "ROUND(MAX(price_amount), 2) "
        "AS max_price, "
        "SUM(CAST(GREATEST(COALESCE(stock_available, 0), 0) AS DECIMAL(38, 0))) "
        "AS stock_available, "
        "SUM(CAST(GREATEST(COALESCE(stock_reserved, 0), 0) AS DECIMAL(38, 0))) "
        "AS stock_reserved "
        "FROM catalogue GROUP BY category) AS c "
        "FULL OUTER JOIN order_stats AS o ON o.category = c.category",
    ),
    Statement(
        "top_products",
        "SELECT CAST(rank AS BIGINT) AS rank, product_id, name, "
        "category, units, orders, revenue FROM ("
        "SELECT t.*, ROW_NUMBER() OVER (ORDER BY units DESC, revenue DESC, product_id) "
        "AS rank FROM (SELECT o.product_id, COALESCE(MAX(p.name), '') AS name, "
        f"COALESCE(MAX(p.category), '{NOT_IN_CATALOGUE}') AS category, "
        "CAST(SUM(o.quantity) AS BIGINT) AS units, "
        "CAST(COUNT(DISTINCT o.order_id) AS BIGINT) AS orders, "
        "CAST(ROUND(SUM(CAST(o.quantity * COALESCE(o.price, p.price_amount, 0.0) "
        "AS DECIMAL(28, 6))), 2) AS DOUBLE) AS revenue "
        "FROM order_lines AS o LEFT JOIN products_latest AS p "
        "ON p.product_id = o.product_id GROUP BY o.product_id) AS t) AS r "
        "WHERE rank <= {top_n}",
    ),
    # -- search analytics ----------------------------------------------------------------
    Statement(
        "searches",
        "SELECT LOWER(TRIM(query)) AS query, user_id, result_count, epoch(timestamp) AS searched_at, "
        f"COALESCE(json_extract_string(filters_json, '$.category'), '{ALL_CATEGORIES}') "
        "AS category, "
        f"CASE WHEN latency_ms BETWEEN 0 AND {MAX_LATENCY_MS} THEN latency_ms END AS latency_ms "
        "FROM ("
        # A query id counted once: the query log's journal may produce a record again
        # after a kill -9 (api/query_journal.py); a record without an id counts once.
        "SELECT *, ROW_NUMBER() OVER (PARTITION BY COALESCE(query_id, _incarnation || '/' "
        "|| CAST(_partition AS VARCHAR) || '/' || CAST(_offset AS VARCHAR)) "
        "ORDER BY _incarnation, _partition, _offset) AS dup FROM client_queries "
        "WHERE kind = 'search' AND epoch(timestamp) < {train_until}) AS q WHERE dup = 1",
        materialize=True,
    ),
    Statement(
        "query_stats",
        "SELECT query, CAST(COUNT(*) AS BIGINT) AS searches, "
        "CAST(COUNT(DISTINCT user_id) AS BIGINT) AS users, "
        "ROUND(AVG(result_count), 2) AS avg_results, "
        "CAST(SUM(CASE WHEN result_count = 0 THEN 1 ELSE 0 END) AS BIGINT) "
        "AS zero_results FROM searches WHERE query <> '' GROUP BY query",
    ),
    Statement(
        "search_top_queries",
        "SELECT CAST(rank AS BIGINT) AS rank, query, searches, "
        "users, avg_results, zero_results FROM (SELECT *, ROW_NUMBER() OVER ("
        "ORDER BY searches DESC, query) AS rank FROM query_stats) AS t "
        "WHERE rank <= {top_n}",
    ),
    Statement(
        "search_zero_results",
        "SELECT CAST(rank AS BIGINT) AS rank, query, "
        "zero_results, searches FROM (SELECT *, ROW_NUMBER() OVER ("
        "ORDER BY zero_results DESC, query) AS rank FROM query_stats "
        "WHERE zero_results > 0) AS t WHERE rank <= {top_n}",
    ),
    Statement(
        "search_by_category",
        "SELECT category, CAST(COUNT(*) AS BIGINT) AS searches, "
        "CAST(COUNT(DISTINCT user_id) AS BIGINT) AS users, "
        "CAST(SUM(CASE WHEN result_count = 0 THEN 1 ELSE 0 END) AS BIGINT) "
        "AS zero_results, ROUND(AVG(latency_ms), 2) AS avg_latency_ms "
        "FROM searches GROUP BY category",
    ),
    # What customers searched next when a search found nothing: the same customer's next
    # search (not anonymous), within REFINED_WITHIN_S, that found something, counted by
    # customers; the most common per query, kept at {refine_min_users}+ customers. The
    # client API answers a query that finds nothing with its refinement's results
    # (analytics/refinements.py): каскан → мантоварка, learned from the shop's own traffic.
    Statement(
        "search_refinements",
        "SELECT query, refined_to, users FROM (SELECT query, refined_to, users, "
        "ROW_NUMBER() OVER (PARTITION BY query ORDER BY users DESC, refined_to) AS pick "
        "FROM (SELECT query, next_query AS refined_to, "
        "CAST(COUNT(DISTINCT user_id) AS BIGINT) AS users FROM ("
        "SELECT query, user_id, result_count, searched_at, "
        "LEAD(query) OVER (PARTITION BY user_id ORDER BY searched_at, query, result_count) AS next_query, "
        "LEAD(result_count) OVER (PARTITION BY user_id ORDER BY searched_at, query, result_count) AS next_count, "
        "LEAD(searched_at) OVER (PARTITION BY user_id ORDER BY searched_at, query, result_count) AS next_at "
        "FROM searches WHERE user_id <> 'anonymous') AS s "
        f"WHERE result_count = 0 AND next_count > 0 AND next_at - searched_at <= {REFINED_WITHIN_S} "
        "AND query <> '' AND next_query <> '' AND next_query <> query "
        f"AND LENGTH(next_query) <= {MAX_REFINEMENT_CHARS} "
        "GROUP BY query, next_query) AS pairs) AS ranked "
        "WHERE pick = 1 AND users >= {refine_min_users}",
    ),
]
