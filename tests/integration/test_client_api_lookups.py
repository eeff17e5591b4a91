"""Issue 15 regressions: a recommendations request looks each item up in the index once and
never copies the whole ban list (real server, real broker, real index; the index and the
view are counted, not replaced)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import wait_for
from tests.integration.test_client_api import (
    NOW,
    api_settings,
    catalogue,
    produce,
    seed_index,
)
from tests.support import UvicornThread

from vitrina.api.deps import build_state
from vitrina.contracts.codec import encode
from vitrina.search.embedded import EmbeddedSearch
from vitrina.services.client_api import create_app
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


class CountedSearch(EmbeddedSearch):
    """The real read-only index, counting product lookups."""

    gets: Counter[str]

    def get(self, product_id: str) -> dict[str, Any] | None:
        self.gets[product_id] += 1
        return super().get(product_id)


def test_recommendations_look_each_item_up_once_and_copy_no_ban_list(
    broker_settings: Settings, tmp_path: Path
) -> None:
    settings = api_settings(broker_settings, tmp_path)
    products = catalogue()
    seed_index(settings, products)
    in_stock = [p["product_id"] for p in products[:100] if p["stock"]["available"] > 0]
    banned, kept = in_stock[:2]
    items = [
        {"product_id": pid, "score": 1.0 - i / 10, "reason": "test"}
        for i, pid in enumerate([banned, "990002", kept, in_stock[2]])
    ]
    produce(
        settings,
        settings.topics.recommendations,
        [
            (
                "Eva",
                encode(
                    "recommendation",
                    {
                        "user_id": "Eva",
                        "items": items,
                        "model": "als-test",
                        "generated_at": NOW.isoformat(),
                    },
                ),
            )
        ],
    )
    produce(
        settings,
        settings.topics.banned_products,
        [
            (
                banned,
                encode(
                    "ban",
                    {
                        "product_id": banned,
                        "reason": "test",
                        "banned_by": "test",
                        "banned_at": NOW.isoformat(),
                    },
                ),
            )
        ],
    )
    state = build_state(settings)
    index = CountedSearch(settings.search_path, readonly=True)
    index.gets = Counter()
    state.search_backend = index
    copies = Counter[str]()
    whole_list = state.view.bans
    state.view.bans = lambda: copies.update(["bans"]) or whole_list()  # type: ignore[method-assign]
    server = UvicornThread(create_app(settings, state), settings.ports.client_api)
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        wait_for(lambda: state.view.is_banned(banned), 20, message="the ban in the view")

        def eva() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get("/api/v1/recommendations/Eva").json()
            return body if body["source"] == "personal" else None

        wait_for(eva, 20, message="Eva's recommendations in the view")
        index.gets.clear()
        body = client.get("/api/v1/recommendations/Eva").json()
    assert [i["product_id"] for i in body["items"]] == [kept, in_stock[2]]
    assert all(i["product"]["name"] for i in body["items"])
    # the banned item is never looked up; the sold-out and the kept ones once each
    assert index.gets == Counter({"990002": 1, kept: 1, in_stock[2]: 1}), index.gets
    assert not copies, "a request copied the whole ban list"
