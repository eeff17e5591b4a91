"""Dead letters: invalid input goes to `dead-letters` with the reason, never disappears."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from vitrina.errors import ContractError, VitrinaError

HEADER_TOPIC = "source_topic"
HEADER_PARTITION = "source_partition"
HEADER_OFFSET = "source_offset"
HEADER_ERROR = "error"
HEADER_SERVICE = "service"
HEADER_FAILED_AT = "failed_at"
HEADER_REPLAYS = "replay_count"
# Set by `dlq replay`: which services the replayed copy is for (comma-separated) and the
# original record it stands for (`topic:partition:offset`), kept through every replay.
HEADER_REPLAY_FOR = "replay_for"
HEADER_REPLAY_ROOT = "replay_root"
HEADER_REPLAYED_FROM = "replayed_from"
#: Headers a dead letter of a replayed record carries over from the record.
REPLAY_HEADERS = (HEADER_REPLAYS, HEADER_REPLAY_FOR, HEADER_REPLAY_ROOT, HEADER_REPLAYED_FROM)


class DeadLetterFlood(VitrinaError):
    """Too much of the input is invalid: stop loudly instead of dead-lettering everything."""


class Output(NamedTuple):
    """One record a step wants written.

    A NamedTuple, not a frozen dataclass: one is built per record on every worker's hot
    path, and the dataclass's __init__ cost ~1.3 us of the filter's ~11 us per product.
    """

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


def replay_targets(
    carried: Iterable[tuple[str, bytes]],
    topic: str | None = None,
    readers: Collection[str] | None = None,
) -> set[str] | None:
    """The services a replayed copy is for (its `replay_for` header); None for a record that
    is no replay.

    ContractError when the header names no service, or (given the record's `topic`) when
    the copy's `replay_root` is not a record of that topic, as `dlq replay` always writes
    it: a record produced around `dlq replay` may carry any bytes there, and must be
    dead-lettered like any invalid input — not crash every worker of its topic
    (undecodable) nor be skipped by all of them (addressed to no one of theirs).
    Given the services that read `topic` (`readers`), a copy addressed to none of them
    (`replay_for: ghost`) is a ContractError too: every reader would skip it.
    """
    headers: dict[str, bytes] = {}
    for key, raw in carried:
        headers.setdefault(key, raw)  # the first of a repeated header, as before
    value = headers.get(HEADER_REPLAY_FOR)
    if value is None:
        return None
    try:
        names = {name for name in value.decode().split(",") if name}
    except UnicodeDecodeError:
        names = set()
    if not names:
        raise ContractError(
            f"header {HEADER_REPLAY_FOR} {value[:100]!r} names no service "
            "(`vitrina dlq replay` writes service names separated by commas)",
            field=HEADER_REPLAY_FOR,
            rule="header",
        )
    if topic is not None:
        root = headers.get(HEADER_REPLAY_ROOT, b"").decode("utf-8", "replace")
        source, _, where = root.rpartition(":")
        source, _, partition = source.rpartition(":")
        if source != topic or not partition.isdecimal() or not where.isdecimal():
            raise ContractError(
                f"header {HEADER_REPLAY_FOR} names {sorted(names)} but {HEADER_REPLAY_ROOT} "
                f"{root[:100]!r} is no record of {topic}: not a copy `vitrina dlq replay` "
                "wrote, so no service may skip it",
                field=HEADER_REPLAY_ROOT,
                rule="header",
            )
    if readers is not None and names.isdisjoint(readers):
        raise ContractError(
            f"header {HEADER_REPLAY_FOR} names {sorted(names)}, none of which reads {topic} "
            f"(its readers: {', '.join(sorted(readers))}): every reader would skip it",
            field=HEADER_REPLAY_FOR,
            rule="header",
        )
    return names


def headers_dict(headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in (headers or [])}


class DeadLetterPolicy:
    """When dead-lettering turns into a flood: per source partition, over recent offsets.

    A partition floods when more than `ratio` × `window` of its invalid records fall within
    its last `window` offsets. Counting invalid offsets only (never valid records) keeps the
    hot path free: a valid record costs nothing. One partition full of garbage stops the
    worker even when the other partitions are clean, and a clean partition never dilutes it.
    """

    def __init__(self, window: int, ratio: float) -> None:
        self.window = window
        self.limit = ratio * window
        self._invalid: dict[tuple[str, int], deque[int]] = {}

    def invalid(self, topic: str, partition: int, offset: int) -> DeadLetterFlood | None:
        """Count one invalid record; the flood error when its partition is over the limit."""
        recent = self._invalid.get((topic, partition))
        if recent is None:
            recent = self._invalid[(topic, partition)] = deque()
        recent.append(offset)
        while recent and recent[0] <= offset - self.window:
            recent.popleft()
        if len(recent) <= self.limit:
            return None
        return DeadLetterFlood(
            f"{len(recent)} of the last {self.window} records of {topic} partition {partition} "
            f"were invalid (up to offset {offset}); stopping instead of dead-lettering them all",
            hint="check the producer upstream; `vitrina dlq list` shows the reasons, "
            "`dlq replay` re-sends them after a fix",
        )

    def forget(self, topic: str, partition: int) -> None:
        """The partition moved to another worker: its window goes with it."""
        self._invalid.pop((topic, partition), None)

    def snapshot(self) -> dict[str, Any]:
        return {f"{t}/{p}": len(offsets) for (t, p), offsets in self._invalid.items()}
