""" "Similar products" / "customers also bought" over the real client API, from a real
analytics run (DuckDB over a generated Parquet lake) and the real embedded index."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.conftest import wait_for
from tests.integration.test_client_api import (
    ADMIN,
    ApiServer,
    api_settings,
    logged_query,
    seed_index,
)

from vitrina.analytics.job import run_job
from vitrina.analytics.lakeio import AnalyticsLake
from vitrina.analytics.synthetic import add_searches, write_generated_lake
from vitrina.lake.writer import LakeWriter
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def test_product_neighbours_come_from_the_last_run_without_banned_or_sold_out(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("neighbours"))
    info = write_generated_lake(
        LakeWriter.from_settings(settings), products=200, customer_count=40, messages=4000
    )
    catalog = info["catalog"]
    seed_index(settings, catalog)
    report = run_job(settings)  # a run not published is not served (test_item_neighbours)
    rows = AnalyticsLake.from_settings(settings).read_output("item_neighbours").to_pylist()
    category = {p["product_id"]: p["category"] for p in catalog}
    stock = {p["product_id"]: p["stock"]["available"] for p in catalog}
    for row in rows:
        same = category[row["product_id"]] == category[row["other_id"]]
        assert row["kind"] == ("similar" if same else "also_bought")
    target = max(
        {r["product_id"] for r in rows}, key=lambda p: sum(1 for r in rows if r["product_id"] == p)
    )
    expected = {r["other_id"] for r in rows if r["product_id"] == target}
    with ApiServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:

        def shown() -> list[dict[str, object]]:
            body = http.get(f"/api/v1/products/{target}/similar", params={"limit": 50}).json()
            assert body["run_id"] == report.run_id
            return [*body["similar"], *body["also_bought"]]

        items = shown()
        assert items
        for item in items:
            assert item["product_id"] in expected and stock[str(item["product_id"])] > 0
            assert str(item["product_id"]) not in info["banned"]
        victim = str(items[0]["product_id"])
        response = http.post(
            f"/api/v1/bans/{victim}",
            json={"reason": "qa"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert response.status_code == 201, response.text
        wait_for(
            lambda: victim not in {str(i["product_id"]) for i in shown()},
            20,
            message="the banned neighbour to disappear",
        )
        unknown = http.get("/api/v1/products/999999/similar").json()
        assert unknown["similar"] == [] and unknown["also_bought"] == []
        # A path that cannot name a product: 404 on the page and on its neighbours alike
        # (the neighbours answered 200 with empty lists).
        for path in ("/api/v1/products/a%00b", "/api/v1/products/a%00b/similar"):
            malformed = http.get(path)
            assert malformed.status_code == 404, (path, malformed.text)
            assert "product ids are" in malformed.json()["error"]["hint"]


def test_a_search_that_finds_nothing_shows_what_customers_searched_next(
    broker_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Learned from the query log by a real analytics run, served by the real client API
    over the real index: a query the catalogue lacks (бздынька), which two customers
    followed within a minute by a search that found something, is answered with that
    search's results and says so; the query log keeps the query as typed with its 0. A
    query only one customer refined, or one that finds something itself, is searched as
    typed."""
    settings = api_settings(broker_settings, tmp_path_factory.mktemp("refined"))
    target = learned_refinement(settings)
    with ApiServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        marker = f"marker-{uuid.uuid4().hex[:8]}"
        body = wait_for(
            lambda: (
                (b := http.get("/api/v1/search", params={"q": "Бздынька", "user": marker}))
                and b.json()["refined"]
                and b.json()
            ),
            20,
            message="the refinement served",
        )
        assert body["refined"] == {"query": target, "customers": 2}
        direct = http.get("/api/v1/search", params={"q": target}).json()
        assert body["items"] and body["items"] == direct["items"]
        assert body["total"] == direct["total"] > 0
        alone = http.get("/api/v1/search", params={"q": "хрючевоз"}).json()
        assert alone["total"] == 0 and alone["refined"] is None
        learned = AnalyticsLake.from_settings(settings).read_output("search_refinements")
        assert "хрюндель" in learned.column("query").to_pylist()  # learned, never shown:
        spammed = http.get("/api/v1/search", params={"q": "хрюндель"}).json()
        assert spammed["total"] == 0 and spammed["refined"] is None
        assert direct["refined"] is None

        record = logged_query(settings, "user_id", marker)
        assert record["query"] == "Бздынька" and record["result_count"] == 0
        assert record["filters"]["refined_to"] == target


def learned_refinement(settings: Settings) -> str:
    """A generated lake and its catalogue in the index, two customers who searched
    «бздынька», found nothing and then searched a word of the first product's name (and
    one customer who did the same after «хрючевоз»), and a committed run that learned it:
    the word (the refinement of бздынька)."""
    writer = LakeWriter.from_settings(settings)
    info = write_generated_lake(writer, products=200, customer_count=40, messages=4000)
    catalog = info["catalog"]
    seed_index(settings, catalog)
    target = str(catalog[0]["name"]).split()[0].lower()
    searches = [
        (user, query, results, n * 30.0)
        for user in ("refine-1", "refine-2")
        for n, (query, results) in enumerate((("бздынька", 0), (target, 3)))
    ] + [("refine-3", "хрючевоз", 0, 0.0), ("refine-3", target, 3, 10.0)]
    # Two customer ids (anyone may send any) teaching a text no product has all words of
    spam = f"{target} скидки-тут.example"
    searches += [(u, "хрюндель", 0, 0.0) for u in ("spam-1", "spam-2")]
    searches += [(u, spam, 3, 5.0) for u in ("spam-1", "spam-2")]
    add_searches(writer, searches, info["end"])
    run_job(settings)
    return target
