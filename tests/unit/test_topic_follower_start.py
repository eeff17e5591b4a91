"""How a TopicFollower starts: what made every read to the end take a second.

`vitrina ban unban` (and the SHOP API's DELETE /bans) took ~1.07 s, even for a ban list of
two records, and so did every ban-list load, dead-letter read and ownership load. librdkafka's
debug log of one read (hostile-input review, then traced here): the partition was assigned
before its leader was known, and the offset query was retried only after a fixed 500 ms;
then the fetch that finds the partition's end was held by the broker for fetch.wait.max.ms
(500 ms by default). Measured on the embedded broker: 1.07 s -> 0.13 s an unban. The timings
belong to no unit test; these tests hold the two causes away, with a recording consumer."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from confluent_kafka import TopicPartition

from vitrina.kafka import inspect
from vitrina.settings import load_settings


class RecordingConsumer:
    made: ClassVar[list[RecordingConsumer]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.calls: list[str] = []
        RecordingConsumer.made.append(self)

    def list_topics(self, topic: str, timeout: float) -> None:
        self.calls.append(f"list_topics {topic}")

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.calls.append("assign")

    def consume(self, size: int, timeout: float) -> list[Any]:
        return []

    def poll(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[RecordingConsumer]:
    RecordingConsumer.made = []
    monkeypatch.setattr(inspect, "Consumer", RecordingConsumer)
    return RecordingConsumer


def test_the_leaders_are_known_before_the_partitions_are_assigned(
    recording: type[RecordingConsumer], tmp_path: Any
) -> None:
    settings = load_settings(data_dir=tmp_path)
    inspect.TopicFollower(settings, [TopicPartition("a", 0), TopicPartition("a", 1)])
    assert recording.made[0].calls == ["list_topics a", "assign"]


def test_a_read_to_the_end_has_the_broker_hold_an_empty_fetch_briefly(
    recording: type[RecordingConsumer], tmp_path: Any
) -> None:
    settings = load_settings(data_dir=tmp_path)
    reader = inspect.read_partitions_to_end(settings, [TopicPartition("a", 0)], timeout=0.5)
    with pytest.raises(Exception, match="no record and no end"):
        list(reader)  # the recording consumer never reaches an end
    assert recording.made[0].config["fetch.wait.max.ms"] == 10
    # A follower that stays (the client API's view, the filter's ban list) keeps the
    # default: an idle one would otherwise ask the broker 100 times a second.
    inspect.TopicFollower(settings, [TopicPartition("a", 0)])
    assert "fetch.wait.max.ms" not in recording.made[1].config
