"""Letting go of a client with a deadline (issue 11: `shop load` hung in librdkafka's close).

librdkafka's close/destroy hang cannot be produced on demand, so the blocking client here is
a stand-in object; the real clients are released in tests/integration/test_shop_load.py and
under broker kills in tests/distributed/test_shop_load_broker_kill.py.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from vitrina.kafka.lifecycle import release


class _Stuck:
    """A consumer whose close() never returns (as librdkafka's can after a broker died)."""

    def __init__(self) -> None:
        self.unblock = threading.Event()

    def close(self) -> None:
        self.unblock.wait()


def test_a_close_that_never_returns_is_given_up_on(caplog: pytest.LogCaptureFixture) -> None:
    stuck = _Stuck()
    unblock = stuck.unblock
    with caplog.at_level("WARNING", logger="vitrina.kafka.lifecycle"):
        assert release([stuck], "the test reader", timeout=0.2) is False
    assert "the test reader did not close within 0 s" in caplog.text
    unblock.set()  # let the helper thread end


def test_the_client_is_destroyed_in_the_helper_thread_not_by_the_caller() -> None:
    where: list[str] = []

    class Client:
        def produce(self) -> None: ...

        def __del__(self) -> None:
            where.append(threading.current_thread().name)

    assert release([Client()], "the test producer") is True
    assert where == ["release the test producer"]


def test_real_clients_are_released_quickly() -> None:
    # Nothing listens on port 1: the clients never connect, and still go away at once.
    conf: dict[str, Any] = {"bootstrap.servers": "127.0.0.1:1", "log_level": 0}
    consumer = Consumer({**conf, "group.id": "g"})
    box: list[Any] = [consumer]
    del consumer
    assert release(box, "a consumer") is True
    assert release([Producer(conf)], "a producer") is True
