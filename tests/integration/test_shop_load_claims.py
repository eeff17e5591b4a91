"""Ownership claims written per batch by `shop load` (issue 15): every new product id of a
load larger than one batch (1,000 records) is claimed exactly once, by its store, in batch
records (ownership.py) that sit in the partition of each of their ids, and a second store is
refused for any of them in the next load."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.support import settings_env

from vitrina.kafka.dlq import read_dead_letters
from vitrina.kafka.inspect import read_to_end
from vitrina.kafka.produce import make_producer
from vitrina.services.ownership import (
    BATCH_PREFIX,
    Owners,
    OwnersView,
    claim_partition,
    load_owners,
)
from vitrina.services.shop_load import load_paths
from vitrina.settings import Settings

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
    batches = 0
    for msg in read_to_end(settings, [settings.topics.product_owners]):
        assert msg.key().startswith(BATCH_PREFIX), "shop load writes claims in batches"
        batches += 1
        for product_id, store in orjson.loads(msg.value()).items():
            claims[product_id] += 1
            assert store == "store_001"
            assert msg.partition() == claim_partition(product_id, settings.kafka.partitions)
    assert set(claims) == set(ids) and max(claims.values()) == 1
    assert batches <= 3 * settings.kafka.partitions  # per 1,000 records, one per partition
    assert load_owners(settings).by_product == dict.fromkeys(ids, "store_001")
    view = OwnersView(settings).start()  # the SHOP API's view folds the batches too
    try:
        assert view.ready(timeout=30).by_product == dict.fromkeys(ids, "store_001")
    finally:
        view.stop()
    taken = tmp_path / "store2.jsonl"
    taken.write_bytes(orjson.dumps({**base, "product_id": ids[-1], "store_id": "store_002"}))
    report = load_paths(settings, [taken])
    assert (report.sent, report.rejected) == (0, 1), report.as_dict()


def test_a_batch_sits_where_the_default_partitioner_puts_each_of_its_ids(make_settings) -> None:
    """The SHOP API's one-id claims go where librdkafka's default partitioner puts their key;
    claim_partition must name that partition, so both forms of one id's claims share it."""
    settings = make_settings()
    topic = settings.topics.product_owners
    producer = make_producer(settings, "shop-api")
    landed: dict[str, int] = {}

    def delivered(err: object, msg: object) -> None:
        assert err is None, err
        landed[msg.key().decode()] = msg.partition()  # type: ignore[attr-defined]

    ids = [f"id-{i}" for i in range(60)] + ["85123A", "Z.z_9-"]
    for product_id in ids:
        producer.produce(topic, b"store_001", product_id, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert landed == {i: claim_partition(i, settings.kafka.partitions) for i in ids}
    assert len(set(landed.values())) > 1, "the ids spread over several partitions"
    owners = Owners()
    for msg in read_to_end(settings, [topic]):
        owners.fold(msg.key(), msg.value())
    assert owners.by_product == dict.fromkeys(ids, "store_001")


def test_a_product_without_store_id_cannot_replace_an_owned_one(
    make_settings, tmp_path: Path
) -> None:
    """A load that names no store may add new ids (unclaimed, as before) but not replace a
    product another store owns: before, the owner rule was only checked when the product
    named a store, so leaving `store_id` out overwrote store_001's product."""
    settings = make_settings()
    base = {"category": "Книги", "price": {"amount": 1.0, "currency": "RUB"}}
    owned = tmp_path / "owner.json"
    owned.write_bytes(
        orjson.dumps([{**base, "name": "Книга", "product_id": "710001", "store_id": "store_001"}])
    )
    assert load_paths(settings, [owned]).delivered == 1
    anonymous = tmp_path / "anonymous.jsonl"
    anonymous.write_bytes(
        b"\n".join(
            [
                orjson.dumps({**base, "name": "Подделка", "product_id": "710001"}),
                orjson.dumps({**base, "name": "Новая книга", "product_id": "710002"}),
            ]
        )
    )
    report = load_paths(settings, [anonymous])
    assert (report.sent, report.rejected) == (1, 1), report.as_dict()
    names = {
        msg.key(): orjson.loads(msg.value())["name"]
        for msg in read_to_end(settings, [settings.topics.shop_products])
    }
    assert names == {b"710001": "Книга", b"710002": "Новая книга"}
    [letter] = read_dead_letters(settings)
    assert letter.key == b"710001", letter
    assert "belongs to store_001" in letter.error and "without store_id" in letter.error
    owners = load_owners(settings).by_product
    assert owners == {"710001": "store_001"}  # the new id without a store is not claimed


def test_a_claim_another_store_makes_while_a_load_runs_is_honoured(
    make_settings, tmp_path: Path
) -> None:
    """A blind review: store_002 claimed ids through the SHOP API while store_001's load of
    20,000 ran; the load had read the owners once, at its start, and published its own
    version of 16 of them over store_002's (whose claim came first, so store_001 then got
    403 for its own updates). The load follows product-owners: an id claimed before the
    load reaches it is another store's, and its product a dead letter."""
    from tests.conftest import wait_for

    settings = make_settings()
    base = {"name": "Книга", "price": {"amount": 1.0, "currency": "RUB"}, "category": "Книги"}
    files = []
    for name, first in (("a.jsonl", 730000), ("b.jsonl", 731500)):
        path = tmp_path / name
        path.write_bytes(
            b"\n".join(
                orjson.dumps({**base, "product_id": str(first + i), "store_id": "store_001"})
                for i in range(1500)
            )
        )
        files.append(path)
    victim = "731700"
    view = OwnersView(settings, principal="shop-load").start()

    def on_file(path: Path, catalog: Any) -> None:
        if path.name != "b.jsonl":
            return
        producer = make_producer(settings, "shop-api")
        producer.produce(settings.topics.product_owners, b"store_002", victim.encode())
        assert producer.flush(10) == 0
        wait_for(lambda: view.owners.get(victim) == "store_002", 30, message="the claim seen")

    try:
        report = load_paths(settings, files, on_file=on_file, owners_view=view)
    finally:
        view.stop()
    assert (report.sent, report.rejected) == (2999, 1), report.as_dict()
    published = {msg.key() for msg in read_to_end(settings, [settings.topics.shop_products])}
    assert victim.encode() not in published and len(published) == 2999
    [letter] = read_dead_letters(settings)
    assert letter.key == victim.encode() and "belongs to store_002" in letter.error, letter
    assert load_owners(settings).get(victim) == "store_002"


@pytest.mark.parametrize("shape", ["array", "jsonl"])  # the parsed and the one-pass paths
def test_a_store_named_with_a_control_character_or_nothing_visible_claims_nothing(
    make_settings, tmp_path: Path, shape: str
) -> None:
    """`store_id: "store_001\\n"` claimed the id for a store no token names, locking
    store_001 out of it; `store_id: ""` left the product without an owner (hostile-input
    review). Both are refused, naming the rule; a visible name is claimed as before."""
    settings = make_settings()
    base = {"category": "Книги", "price": {"amount": 1.0, "currency": "RUB"}, "name": "Книга"}
    products = [
        {**base, "product_id": "720001", "store_id": "store_001\n"},
        {**base, "product_id": "720002", "store_id": ""},
        {**base, "product_id": "720003", "store_id": "\u200b"},  # a zero-width space only
        {**base, "product_id": "720004", "store_id": "store_001"},
    ]
    path = tmp_path / f"stores.{shape}"
    if shape == "array":
        path.write_bytes(orjson.dumps(products))
    else:
        path.write_bytes(b"\n".join(orjson.dumps(p) for p in products))
    report = load_paths(settings, [path])
    assert (report.sent, report.rejected) == (1, 3), report.as_dict()
    letters = read_dead_letters(settings)
    assert sorted(d.key for d in letters) == [b"720001", b"720002", b"720003"]
    assert all("names no store" in d.error for d in letters)
    assert load_owners(settings).by_product == {"720004": "store_001"}


# `shop load` in a child process that dies (os._exit, as under kill -9) as it is about to
# produce its 1,500th product, once everything it had produced before reached the broker:
# a kill at any moment of the load is this, for some count.
DIE_AT_A_PRODUCT = """
import os, sys
from pathlib import Path
from vitrina.services.shop_load import ShopLoader, load_paths
from vitrina.settings import load_settings

class DieAtProduct:
    def __init__(self, producer, topic, count):
        self.producer, self.topic, self.count = producer, topic, count

    def produce(self, topic, *args, **kwargs):
        if topic == self.topic:
            self.count -= 1
            if self.count == 0:
                self.producer.flush(30)
                os._exit(9)
        return self.producer.produce(topic, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.producer, name)

    def __len__(self):
        return len(self.producer)

init = ShopLoader.__init__

def dying(self, *args, **kwargs):
    init(self, *args, **kwargs)
    self.producer = DieAtProduct(self.producer, self.topic, int(sys.argv[2]))

ShopLoader.__init__ = dying
load_paths(load_settings(), [Path(sys.argv[1])])
"""


def test_a_loader_killed_mid_load_leaves_no_published_product_unclaimed(
    make_settings, tmp_path: Path
) -> None:
    """Every product a killed `shop load` published is claimed by its store, so another
    store can not take it over before the first loads again. Before, claims followed their
    products (one batch per 1,000): a loader that died between the two left up to 1,000
    products published and unclaimed, and a second store's load replaced them."""
    settings = make_settings()
    base = {"name": "Книга", "price": {"amount": 1.0, "currency": "RUB"}, "category": "Книги"}
    ids = [str(720000 + i) for i in range(2500)]
    catalogue = tmp_path / "store1.jsonl"
    catalogue.write_bytes(
        b"\n".join(
            orjson.dumps({**base, "product_id": pid, "store_id": "store_001"}) for pid in ids
        )
    )
    child = subprocess.run(
        [sys.executable, "-c", DIE_AT_A_PRODUCT, str(catalogue), "1500"],
        env=settings_env(settings),
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == 9, child.stderr.decode(errors="replace")[-2000:]
    published = {
        msg.key().decode() for msg in read_to_end(settings, [settings.topics.shop_products])
    }
    assert len(published) == 1499, "every product before the 1,500th reached the broker"
    owners = load_owners(settings).by_product
    unclaimed = sorted(published - set(owners))
    assert not unclaimed, f"{len(unclaimed)} published products without a claim"
    assert {owners[pid] for pid in published} == {"store_001"}
    rival = tmp_path / "store2.jsonl"
    rival.write_bytes(
        b"\n".join(
            orjson.dumps({**base, "name": "Чужая", "product_id": pid, "store_id": "store_002"})
            for pid in sorted(published)
        )
    )
    report = load_paths(settings, [rival])
    assert (report.sent, report.rejected) == (0, len(published)), report.as_dict()


class MetadataTimesOut:
    """A real producer whose first `failures` metadata asks time out, as they did with one
    broker of three just killed (a fault injected around the real client)."""

    def __init__(self, producer: Any, failures: int) -> None:
        self.producer, self.failures, self.asked = producer, failures, 0

    def list_topics(self, *args: Any, **kwargs: Any) -> Any:
        from confluent_kafka import KafkaError, KafkaException

        self.asked += 1
        if self.asked <= self.failures:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "Failed to get metadata"))
        return self.producer.list_topics(*args, **kwargs)

    def poll(self, timeout: float) -> int:
        return int(self.producer.poll(timeout))


def test_owner_partitions_are_asked_again_while_the_metadata_times_out(
    make_settings: Callable[..., Settings],
) -> None:
    """A blind review of the cluster: one broker killed mid-load, the single 10 s ask for
    product-owners' partitions timed out and `shop load` stopped with 50k of 60k products
    unsent ("could not read product-owners's partitions"). It is asked again in steps."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.services.ownership import owner_partitions

    settings = make_settings()
    flaky = MetadataTimesOut(Producer(producer_config(settings, "shop-api")), failures=2)
    assert owner_partitions(flaky, settings) == settings.kafka.partitions
    assert flaky.asked == 3
