"""Ownership claims written per batch by `shop load` (issue 15): every new product id of a
load larger than one batch (1,000 records) is claimed exactly once, by its store, and a
second store is refused for any of them in the next load."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from vitrina.kafka.inspect import read_to_end
from vitrina.services.shop_load import load_paths

pytestmark = pytest.mark.integration


def test_every_new_id_of_a_multi_batch_load_is_claimed_once(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    base = {"name": "Книга", "price": {"amount": 1.0, "currency": "RUB"}, "category": "Книги"}
    ids = [str(700000 + i) for i in range(2500)]  # 2 full batches and a partial one
    catalogue = tmp_path / "store1.jsonl"
    catalogue.write_bytes(
        b"\n".join(
            orjson.dumps({**base, "product_id": pid, "store_id": "store_001"}) for pid in ids
        )
    )
    assert load_paths(settings, [catalogue]).delivered == len(ids)
    claims = Counter[str]()
    owners: dict[str, str] = {}
    for msg in read_to_end(settings, [settings.topics.product_owners]):
        claims[msg.key().decode()] += 1
        owners[msg.key().decode()] = msg.value().decode()
    assert set(claims) == set(ids) and max(claims.values()) == 1
    assert set(owners.values()) == {"store_001"}
    taken = tmp_path / "store2.jsonl"
    taken.write_bytes(orjson.dumps({**base, "product_id": ids[-1], "store_id": "store_002"}))
    report = load_paths(settings, [taken])
    assert (report.sent, report.rejected) == (0, 1), report.as_dict()
