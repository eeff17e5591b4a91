"""Dead letters: invalid input goes to `dead-letters` with the reason, never disappears."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vitrina.errors import VitrinaError

HEADER_TOPIC = "source_topic"
HEADER_PARTITION = "source_partition"
HEADER_OFFSET = "source_offset"
HEADER_ERROR = "error"
HEADER_SERVICE = "service"
HEADER_FAILED_AT = "failed_at"
HEADER_REPLAYS = "replay_count"


class DeadLetterFlood(VitrinaError):
    """Too much of the input is invalid: stop loudly instead of dead-lettering everything."""


@dataclass(frozen=True)
class Output:
    """One record a step wants written."""

    topic: str
    key: bytes | str | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None
    timestamp_ms: int | None = None


def dead_letter(
    dlq_topic: str,
    *,
    service: str,
    error: str,
    key: bytes | str | None,
    value: bytes | None,
    source_topic: str,
    partition: int = -1,
    offset: int = -1,
    now: datetime | None = None,
    extra_headers: list[tuple[str, bytes]] | None = None,
) -> Output:
    """The dead-letter record for one rejected input: original key and bytes, reason in headers."""
    stamp = (now or datetime.now(UTC)).isoformat()
    headers = [
        (HEADER_TOPIC, source_topic.encode()),
        (HEADER_PARTITION, str(partition).encode()),
        (HEADER_OFFSET, str(offset).encode()),
        (HEADER_ERROR, error[:2000].encode()),
        (HEADER_SERVICE, service.encode()),
        (HEADER_FAILED_AT, stamp.encode()),
        *(extra_headers or []),
    ]
    return Output(dlq_topic, key, value if value is not None else b"", headers)


def headers_dict(headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in (headers or [])}


class FloodGuard:
    """Counts dead letters over a sliding window of recent inputs."""

    def __init__(self, window: int, ratio: float) -> None:
        self.window = window
        self.ratio = ratio
        self._recent: deque[bool] = deque(maxlen=window)
        self._bad = 0

    def record(self, bad: bool) -> None:
        if len(self._recent) == self.window and self._recent[0]:
            self._bad -= 1
        self._recent.append(bad)
        self._bad += bad
        if len(self._recent) == self.window and self._bad / self.window > self.ratio:
            raise DeadLetterFlood(
                f"{self._bad} of the last {self.window} messages were invalid",
                hint="check the producer upstream; see `vitrina dlq list` for the reasons",
            )

    def snapshot(self) -> dict[str, Any]:
        return {"window": len(self._recent), "bad": self._bad}
