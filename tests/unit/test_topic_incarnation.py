"""`topic_incarnation` waits out a broker it cannot reach for a moment.

Seen on the secured cluster (the test of services frozen past their session timeout): right
after SIGCONT the lake sink was assigned its partitions again, its describe-topic call got
"Local: Broker transport failure" once, and the sink exited. The admin client is a fake
here: a transport failure of a real cluster at a chosen moment cannot be made on demand
(the real calls run in tests/integration/test_lake_compact.py and the sink's tests).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from vitrina.errors import BrokerError
from vitrina.kafka.inspect import topic_incarnation
from vitrina.settings import load_settings


class FakeFuture:
    def __init__(self, error: int | None) -> None:
        self.error = error

    def result(self) -> Any:
        if self.error is not None:
            raise KafkaException(KafkaError(self.error))
        return SimpleNamespace(topic_id="q6lWkqGmQm2NwP5Fzl0ZGg")


def fake_admin(failures: list[int], describe_error: int | None = None) -> type:
    class FakeAdmin:
        def __init__(self, _conf: dict[str, Any]) -> None:
            pass

        def list_topics(self, _topic: str, timeout: float) -> Any:
            if failures:
                raise KafkaException(KafkaError(failures.pop(0)))
            return SimpleNamespace(cluster_id="c1")

        def describe_topics(self, topics: Any, request_timeout: float) -> dict[str, Any]:
            # Keyed by topic name, as the real AdminClient's futures are.
            return {name: FakeFuture(describe_error) for name in topics.topic_names}

    return FakeAdmin


@pytest.fixture
def settings(tmp_path: Any) -> Any:
    return load_settings(data_dir=tmp_path)


def test_a_transport_failure_is_asked_again(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    failures = [KafkaError._TRANSPORT, KafkaError._TIMED_OUT]
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", fake_admin(failures))
    slept: list[float] = []
    name = topic_incarnation(settings, "orders", "lake-sink", sleep=slept.append)
    assert len(name) == 10 and failures == [] and len(slept) == 2
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", fake_admin([]))
    assert topic_incarnation(settings, "orders", "lake-sink") == name  # the same incarnation


def test_a_missing_topic_and_a_broker_away_for_good_are_errors(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    missing = fake_admin([], describe_error=KafkaError.UNKNOWN_TOPIC_OR_PART)
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", missing)
    slept: list[float] = []
    with pytest.raises(BrokerError, match="does not exist"):
        topic_incarnation(settings, "orders", "lake-sink", sleep=slept.append)
    assert slept == []  # at once: waiting would not create it
    away = fake_admin([KafkaError._TRANSPORT] * 100)
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", away)
    with pytest.raises(BrokerError, match="cannot describe topic orders"):
        topic_incarnation(settings, "orders", "lake-sink", wait_s=0.0, sleep=slept.append)
