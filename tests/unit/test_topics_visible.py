"""`apply_topics` returns once the topics it created are in the metadata (CI, 2026-12-05: on
the 3-broker cluster under load, a topic described right after `apply_topics` was not there
yet). The race needs a broker that lags behind its controller, which no real cluster here
can be made to do on demand, so the admin client is a stand-in: its metadata shows the new
topic on the third request, and without a leader on the second."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import ClusterMetadata, PartitionMetadata, TopicMetadata

from vitrina.kafka import admin as kafka_admin
from vitrina.settings import load_settings


class LaggingAdmin:
    """Creates topics at once; its metadata learns of them `lag` requests later."""

    def __init__(self, lag: int) -> None:
        self.created: list[str] = []
        self.requests = 0
        self.lag = lag

    def create_topics(self, topics: list[Any], request_timeout: float) -> dict[str, Future[None]]:
        futures: dict[str, Future[None]] = {}
        for topic in topics:
            self.created.append(topic.topic)
            futures[topic.topic] = Future()
            futures[topic.topic].set_result(None)
        return futures

    def describe_configs(self, resources: list[Any], request_timeout: float) -> dict[Any, Any]:
        return {}

    def list_topics(self, topic: str | None = None, timeout: float = 1.0) -> ClusterMetadata:
        self.requests += 1
        metadata = ClusterMetadata()
        seen = self.requests > self.lag  # the first request is apply_topics' own describe
        for name in self.created if self.requests > 1 else []:
            state = TopicMetadata()
            state.topic = name
            partition = PartitionMetadata()
            partition.id, partition.leader = 0, 1 if seen else -1
            state.partitions = {0: partition}
            metadata.topics[name] = state
        return metadata


def test_apply_topics_waits_until_the_created_topics_have_leaders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = LaggingAdmin(lag=3)
    monkeypatch.setattr(kafka_admin, "admin_client", lambda _settings: stand_in)
    monkeypatch.setattr(kafka_admin, "VISIBLE_POLL_S", 0.0)
    report = kafka_admin.apply_topics(load_settings(data_dir=tmp_path))
    assert report.created and sorted(report.created) == sorted(stand_in.created)
    # 1 describe, then polled until the 4th request showed a leader for every new topic
    assert stand_in.requests == 4


def test_apply_topics_gives_up_waiting_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = LaggingAdmin(lag=10**9)  # never a leader
    monkeypatch.setattr(kafka_admin, "admin_client", lambda _settings: stand_in)
    monkeypatch.setattr(kafka_admin, "VISIBLE_POLL_S", 0.01)
    report = kafka_admin.apply_topics(load_settings(data_dir=tmp_path), timeout=0.3)
    assert report.created  # created, and said in the log; the caller's use reports the rest
    assert stand_in.requests > 2
