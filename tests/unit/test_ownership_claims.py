"""product-owners claims in both forms (services/ownership.py): one record per id (SHOP API)
and batches (`shop load`); the fold reads both, first claim wins either way."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import count

import orjson
from hypothesis import given
from hypothesis import strategies as st

from vitrina.services.ownership import BATCH_PREFIX, Owners, claim_batches, claim_partition

PRODUCT_IDS = st.from_regex(r"\A[A-Za-z0-9._-]{1,64}\Z")


def _keys() -> Callable[[], str]:
    numbers = count()
    return lambda: f"test-{next(numbers)}"


def test_the_fold_reads_one_id_records_and_batches_first_claim_wins() -> None:
    owners = Owners()
    owners.fold(b"A1", b"store_001")  # the old form, as the SHOP API writes it
    owners.fold(BATCH_PREFIX + b"x", orjson.dumps({"A1": "store_002", "B2": "store_002"}))
    owners.fold(b"B2", b"store_003")  # a later one-id claim loses to the batch before it
    assert owners.by_product == {"A1": "store_001", "B2": "store_002"}


def test_a_broken_batch_is_skipped_and_folding_goes_on() -> None:
    owners = Owners()
    owners.fold(BATCH_PREFIX + b"1", b"not json")
    owners.fold(BATCH_PREFIX + b"2", b'["A1", "store_001"]')  # JSON, but not an object
    owners.fold(BATCH_PREFIX + b"3", orjson.dumps({"A1": 7, "B2": "", "C3": "store_001"}))
    owners.fold(b"D4", b"store_002")
    assert owners.by_product == {"C3": "store_001", "D4": "store_002"}


def test_a_batch_key_is_never_a_product_id() -> None:
    # The contract's product_id pattern has no `:`, so a batch cannot shadow an id's claim.
    assert b":" in BATCH_PREFIX


@given(st.lists(st.tuples(PRODUCT_IDS, st.sampled_from(["s1", "s2"])), max_size=60))
def test_batches_hold_every_claim_once_in_the_partition_of_its_id(
    claims: list[tuple[str, str]],
) -> None:
    partitions = 3
    expected = dict(reversed(claims))  # the loader never claims one id twice; first kept
    claims = list(expected.items())
    records = claim_batches(claims, partitions, batch_key=_keys())
    folded: dict[str, str] = {}
    keys = set()
    for partition, key, value in records:
        assert key.startswith(BATCH_PREFIX)
        keys.add(key)
        batch = orjson.loads(value)
        assert batch, "no empty batches"
        for product_id, store in batch.items():
            # The partition librdkafka's default partitioner gives a one-id claim of this id.
            assert partition == zlib.crc32(product_id.encode()) % partitions
            assert product_id not in folded
            folded[product_id] = store
    assert folded == expected
    assert len(keys) == len(records), "each batch has its own key (compaction keeps them all)"


def test_claim_partition_is_crc32_of_the_key() -> None:
    assert claim_partition("100001", 3) == zlib.crc32(b"100001") % 3
    assert claim_partition("100001", 1) == 0


def test_inside_one_batch_the_first_claim_of_an_id_wins_too() -> None:
    records = claim_batches([("A1", "s1"), ("A1", "s2")], 1, batch_key=_keys())
    assert [orjson.loads(value) for _, _, value in records] == [{"A1": "s1"}]
