"""What a shop load did: per file sent / rejected (by reason), and what the broker confirmed.

Plain records of the load (services/shop_load.py), reported by `vitrina shop load` and the
benchmarks; the producer's error-only delivery callback counts what was not confirmed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message

from vitrina.errors import ContractError

_SHORT_REASONS = {
    "json": "malformed JSON",
    "size": "record too large",
    "depth": "nested too deep",
    "truncated": "array not closed",
    "encoding": "not UTF-8",
}


def reason_of(exc: ContractError) -> str:
    """A short, countable reason for the summary: `<field>: <rule>`. The `encoding` rule
    covers UTF-16 text and gzip that does not unpack as well as bytes that are not UTF-8:
    each is named (the summary called all three "not UTF-8", a docs review)."""
    if exc.rule == "encoding":
        if "UTF-16" in exc.message:
            return "UTF-16, not UTF-8"
        if "gzip" in exc.message:
            return "gzip that does not unpack" if "does not unpack" in exc.message else "gzip data"
    return _SHORT_REASONS.get(exc.rule) or f"{exc.field}: {exc.rule}"


@dataclass
class Deliveries:
    """Counts failed deliveries per topic (the loader asks for error-only delivery reports)."""

    failed: Counter[str] = field(default_factory=Counter)
    first_error: KafkaError | None = None

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failed[msg.topic() or ""] += 1
            self.first_error = self.first_error or err


# FileReport.shape of a file refused as a whole (see shop_load.load_paths).
REFUSED_SHAPES = frozenset({"unreadable", "invalid"})


@dataclass
class FileReport:
    path: str
    shape: str
    records: int = 0
    sent: int = 0
    rejected: int = 0
    skipped: str | None = None


@dataclass
class LoadReport:
    """What a load did: sent / rejected (by reason) per file; delivery confirmed by the broker."""

    files: list[FileReport] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    delivered: int = 0
    dead_lettered: int = 0

    @property
    def sent(self) -> int:
        return sum(f.sent for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def refused_files(self) -> int:
        """Files refused whole (unreadable, over the size limit): nothing of them was sent.
        A schema or an empty file is skipped, not refused."""
        return sum(f.shape in REFUSED_SHAPES for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "rejected": self.rejected,
            "refused_files": self.refused_files,
            "delivered": self.delivered,
            "dead_lettered": self.dead_lettered,
            "reasons": dict(self.reasons),
            "files": [vars(f) for f in self.files],
        }
