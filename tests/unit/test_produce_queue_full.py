"""produce() waits while the local queue is full — with a deadline (issue 11: no endless wait)."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from vitrina.errors import BrokerError
from vitrina.kafka.produce import produce


def test_a_queue_that_stays_full_fails_loudly_instead_of_waiting_for_ever() -> None:
    # A real client whose broker never answers (nothing listens on port 1): one record fills
    # its queue, and no delivery report will ever free it within the test.
    producer = Producer(
        {
            "bootstrap.servers": "127.0.0.1:1",
            "queue.buffering.max.messages": 1,
            "message.timeout.ms": 300000,
            "log_level": 0,
        }
    )
    produce(producer, "orders", b"first")
    with pytest.raises(BrokerError, match="queue stayed full for 1 s while writing to orders"):
        produce(producer, "orders", b"second", wait_s=1.0)
    producer.purge()
