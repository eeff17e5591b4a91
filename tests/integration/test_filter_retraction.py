"""Retraction and reinstatement now that the filter keeps WHERE each product version is, not
its bytes (services/filter_versions.py): the versions a ban or an unban needs are re-read
from shop-products, filtered-products or withheld-products on the real broker."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from tests.conftest import wait_for
from tests.integration.test_filter import (
    RunningFilter,
    blocked,
    filtered,
    product,
    publish,
    start_filter,
)

from vitrina.kafka.clients import admin_config, producer_config
from vitrina.kafka.inspect import topic_partitions
from vitrina.services.bans import BanService
from vitrina.services.filter_versions import SHOP, VersionReader, Wanted, where
from vitrina.settings import Settings

pytestmark = pytest.mark.integration

__all__ = ["start_filter"]  # the fixture, used by name


def name_of(settings: Settings, pid: str) -> str | None:
    found = filtered(settings).get(pid)
    return None if found is None else str(found["name"])


def ban_and_update_twice(settings: Settings, bans: BanService, pid: int) -> None:
    """Publish v1, ban it (retracted), then two updates while banned (blocked)."""
    bans.ban([str(pid)], "жалоба", "ops")
    wait_for(lambda: str(pid) not in filtered(settings), timeout=10, message="retracted")
    publish(settings, [product(pid, version=2), product(pid, version=3)])
    wait_for(
        lambda: blocked(settings).get(str(pid), {}).get("name") == f"Товар {pid} v3",
        message="both updates blocked",
    )


def test_unban_of_a_product_updated_twice_republishes_the_last_update(
    make_settings: Callable[..., Settings], start_filter: Callable[..., RunningFilter]
) -> None:
    settings = make_settings()
    bans = BanService(settings)
    publish(settings, [product(5001), product(5002)])
    start_filter(settings)
    wait_for(lambda: len(filtered(settings)) == 2, message="2 products published")
    ban_and_update_twice(settings, bans, 5001)
    bans.unban(["5001"])
    wait_for(
        lambda: name_of(settings, "5001") == "Товар 5001 v3",
        timeout=10,
        message="the last update republished (read back from shop-products)",
    )
    assert name_of(settings, "5002") == "Товар 5002 v1"


def test_unban_after_restart_republishes_the_last_update(
    make_settings: Callable[..., Settings], start_filter: Callable[..., RunningFilter]
) -> None:
    settings = make_settings()
    bans = BanService(settings)
    publish(settings, [product(6001), product(6002)])
    first = start_filter(settings)
    wait_for(lambda: len(filtered(settings)) == 2, message="2 products published")
    ban_and_update_twice(settings, bans, 6001)
    first.stop()
    # The new replica's shelf is rebuilt from filtered- and withheld-products: offsets there.
    second = start_filter(settings, "b")
    wait_for(lambda: sum(len(s) for s in second.step.shelves.values()) == 2, message="rebuilt")
    bans.unban(["6001"])
    wait_for(
        lambda: name_of(settings, "6001") == "Товар 6001 v3",
        timeout=10,
        message="the last update republished (read back from withheld-products)",
    )
    bans.ban(["6002"], "жалоба", "ops")
    wait_for(lambda: "6002" not in filtered(settings), timeout=10, message="6002 retracted")
    assert blocked(settings)["6002"]["name"] == "Товар 6002 v1"  # read from filtered-products


def test_ban_and_unban_when_the_input_records_were_deleted(
    make_settings: Callable[..., Settings],
    start_filter: Callable[..., RunningFilter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """shop-products deletes records after its retention (7 days): the versions are found in
    the filter's own compacted topics instead (filtered-products, then withheld-products)."""
    caplog.set_level(logging.INFO, logger="vitrina.services.filter_versions")
    settings = make_settings()
    bans = BanService(settings)
    publish(settings, [product(7001), product(7002)])
    start_filter(settings)
    wait_for(lambda: len(filtered(settings)) == 2, message="2 products published")
    admin = AdminClient(admin_config(settings))
    topic = settings.topics.shop_products
    gone = [TopicPartition(topic, tp.partition, -1) for tp in topic_partitions(settings, topic)]
    for future in admin.delete_records(gone).values():
        future.result(30)  # what retention does, now
    bans.ban(["7001"], "жалоба", "ops")
    wait_for(lambda: "7001" not in filtered(settings), timeout=10, message="7001 retracted")
    audit = wait_for(lambda: blocked(settings).get("7001"), message="7001 audited")
    assert audit["name"] == "Товар 7001 v1" and audit["ban"]["reason"] == "жалоба"
    bans.unban(["7001"])
    wait_for(
        lambda: name_of(settings, "7001") == "Товар 7001 v1",
        timeout=10,
        message="7001 republished from its withheld copy",
    )
    assert set(filtered(settings)) == {"7001", "7002"}
    assert caplog.text.count("no longer at their offsets") == 2  # the fallback, both times


def test_version_reader_reads_near_and_far_offsets_in_one_batch(
    make_settings: Callable[..., Settings],
) -> None:
    """Offsets close together are read in one pass, far ones reached by seek; an offset with
    no record (here: past the end) is looked for in the filter's own topic, then missing."""
    settings = make_settings()
    topics = settings.topics
    producer = Producer(producer_config(settings, "test"))
    for i in range(1200):
        producer.produce(topics.shop_products, f"v{i}".encode(), str(i), partition=0)
    assert producer.flush(30) == 0
    reader = VersionReader(
        settings, "filter", topics.shop_products, topics.filtered_products, topics.withheld_products
    )
    try:
        offsets = [3, 4, 150, 700, 1199]  # gaps above and below the seek threshold
        wanted = [Wanted(0, where(SHOP, o), str(o), "visible") for o in offsets]
        gone = Wanted(0, where(SHOP, 5000), "5000", "withheld")
        wrong_key = Wanted(0, where(SHOP, 10), "11", "visible")
        found = reader.read([*wanted, gone, wrong_key])
        assert {w.product_id: v for w, v in found.items()} == {
            str(o): f"v{o}".encode() for o in offsets
        }
        again = reader.read(wanted[:2])  # the same consumer serves the next batch
        assert len(again) == 2
    finally:
        reader.close()
