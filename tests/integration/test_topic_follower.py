"""TopicFollower.read_to_end on the session broker: its timeout bounds a stall, not a read."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Producer, TopicPartition

from vitrina.kafka.clients import producer_config
from vitrina.kafka.inspect import TopicFollower
from vitrina.settings import Settings

pytestmark = pytest.mark.integration


def test_a_read_longer_than_the_timeout_that_keeps_moving_reaches_the_end(
    make_settings: Callable[..., Settings],
) -> None:
    """Regression: `read_to_end(timeout)` was a deadline for the whole read, so a topic
    too long to read within it could never be read: the filter's state rebuild (60 s) would
    have failed at every start beyond ~6M published products. Here a caller that takes
    2 ms a record reads 3,000 records (6 s) with a 2 s timeout: every record, no error."""
    settings = make_settings()
    topic = settings.topics.filtered_products
    producer = Producer(producer_config(settings, "test"))
    for i in range(3000):
        producer.produce(topic, b"{}", str(i).encode())
    assert producer.flush(30) == 0
    follower = TopicFollower(
        settings, [TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
    )
    keys = []
    started = time.monotonic()
    try:
        for msg in follower.read_to_end(timeout=2.0):
            keys.append(msg.key())
            time.sleep(0.002)  # a slow caller: the read as a whole outlasts the timeout
    finally:
        follower.close()
    assert time.monotonic() - started > 2.0  # the case this test is about
    assert sorted(keys) == sorted(str(i).encode() for i in range(3000))
    assert follower.at_end
