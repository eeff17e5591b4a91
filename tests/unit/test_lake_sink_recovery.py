"""The lake sink's crash cleanup of a partition with no committed offset deletes its files
from the log start on (replayable), so it must know the broker's log start, not guess it."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from vitrina.errors import BrokerError
from vitrina.services.lake_sink import _log_start


class Watermarks:
    """get_watermark_offsets fails with `codes` in turn, then answers (low, 90)."""

    def __init__(self, low: int, *codes: int) -> None:
        self.low, self.codes, self.calls = low, list(codes), 0

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float) -> tuple[int, int]:
        self.calls += 1
        if self.codes:
            raise KafkaException(KafkaError(self.codes.pop(0)))
        return self.low, 90


def test_the_log_start_waits_out_a_transient_error() -> None:
    """Regression: one transport error made it 0, and the cleanup deleted the files below a
    log start retention had moved to 40 — rows no replay brings back."""
    consumer = Watermarks(40, KafkaError._TRANSPORT, KafkaError.REQUEST_TIMED_OUT)
    tp = TopicPartition("orders", 2)
    assert _log_start(consumer, tp, sleep=lambda _: None) == 40  # type: ignore[arg-type]
    assert consumer.calls == 3


def test_the_log_start_is_an_error_not_a_guess_when_it_cannot_be_read() -> None:
    consumer = Watermarks(40, KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(BrokerError, match="offsets of orders"):
        _log_start(consumer, TopicPartition("orders", 2), sleep=lambda _: None)  # type: ignore[arg-type]
