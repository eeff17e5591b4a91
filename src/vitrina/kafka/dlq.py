"""Dead letters you can act on: list them by source, show one, replay chosen ones.

`dead-letters` is read to its true end (partition EOF, never the high watermark). A replay
re-produces the original key and bytes to the record's source topic with `replay_count`
incremented, so the record goes through validation again; nothing is ever deleted.

A replay sends each original record ONCE, however many services rejected it and however
often it was replayed before: letters are grouped by their root (the original
topic:partition:offset, kept in `replay_root` through every replay) and the latest
generation of each root is sent, addressed (`replay_for`) to the services that rejected it.
Other services skip the copy; if it fails again, only the first addressed service
dead-letters it — one new letter per replay, not one per service. A letter whose copy its
topic already holds (a second run, a rerun after a kill -9) is not sent again, nor one
older than a record of the same key its topic holds (`already_in_topics`), nor one that
still breaks its topic's contract (`still_invalid`): it would only be dead-lettered again.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import orjson
from confluent_kafka import TopicPartition

from vitrina.errors import BadRequestError, BrokerError, ContractError, NotFoundError
from vitrina.kafka.deadletter import (
    HEADER_ERROR,
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REPLAY_FOR,
    HEADER_REPLAY_ROOT,
    HEADER_REPLAYED_FROM,
    HEADER_REPLAYS,
    HEADER_SERVICE,
    HEADER_TOPIC,
    REPLAY_HEADERS,
    headers_dict,
)
from vitrina.settings import Settings

_RULE = re.compile(r"field (?P<field>\S+): .*\(rule: (?P<rule>[^)]+)\)", re.S)
_WHERE = re.compile(r"^[a-z]+ [0-9]+: ")  # where a loader met the record (Record.where)
_RULE_NOTE = re.compile(r"\s*\(rule: [^)]*\)")
_CLAUSE_END = re.compile(r"[:;]")


@dataclass(frozen=True)
class DeadLetter:
    """One record of `dead-letters`, with its headers decoded."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]
    raw_headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp_ms: int = 0

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.headers.get(HEADER_TOPIC, "")

    @property
    def service(self) -> str:
        return self.headers.get(HEADER_SERVICE, "")

    @property
    def error(self) -> str:
        return self.headers.get(HEADER_ERROR, "")

    @property
    def replay_count(self) -> int:
        return replays_of(self.headers)

    @property
    def reason(self) -> str:
        return reason_of(self.error)

    @property
    def at_the_door(self) -> bool:
        """Rejected before it entered its topic (shop load, SHOP API): no source offset."""
        return not self.headers.get(HEADER_PARTITION, "").isdecimal()

    @property
    def source_partition(self) -> int:
        """The rejected record's partition in its topic; -1 at the door."""
        return -1 if self.at_the_door else int(self.headers[HEADER_PARTITION])

    @property
    def source_offset(self) -> int:
        """The rejected record's offset in its partition; -1 when the header holds none."""
        text = self.headers.get(HEADER_OFFSET, "")
        return int(text) if text.isdecimal() else -1

    @property
    def root(self) -> str:
        """The original record this letter stands for: `topic:partition:offset` in its
        topic, or this letter itself (`dlq:partition:offset`) for a rejection at the door."""
        if self.headers.get(HEADER_REPLAY_ROOT):
            return self.headers[HEADER_REPLAY_ROOT]
        if self.at_the_door:
            return f"dlq:{self.ref}"
        return (
            f"{self.source_topic}:{self.headers[HEADER_PARTITION]}:"
            f"{self.headers.get(HEADER_OFFSET, '?')}"
        )

    @property
    def addressed_to(self) -> set[str]:
        """Consumers that rejected the record; empty for a door rejection (a replayed copy
        is new to every consumer of the topic)."""
        services = {s for s in self.headers.get(HEADER_REPLAY_FOR, "").split(",") if s}
        if self.service and not self.at_the_door:
            services.add(self.service)
        return services


def replays_of(headers: dict[str, str]) -> int:
    """A record's `replay_count` header (a dead letter's, or a replayed copy's); 0 if none."""
    text = headers.get(HEADER_REPLAYS, "")
    return int(text) if text.isdecimal() else 0


def reason_of(error: str) -> str:
    """Group errors into countable reasons: `<field>: <rule>` for contract errors, else
    the error's first clause without where a loader met the record (`item 3: `, `line 7: `
    grouped each record apart) and without its `(rule: …)` note."""
    match = _RULE.search(error)
    if match:
        return f"{match['field']}: {match['rule']}"
    error = _WHERE.sub("", error, count=1)
    if "malformed JSON" in error:
        return "malformed JSON"
    if "limit" in error and "bytes" in error:
        return "record too large"
    return _CLAUSE_END.split(_RULE_NOTE.sub("", error), maxsplit=1)[0].strip()[:80] or "unknown"


_REF = re.compile(r"\d+(:\d+)?")  # a dead letter's offset, alone or as partition:offset


@dataclass(frozen=True)
class Selection:
    """Which dead letters a replay picks; empty criteria match everything."""

    topic: str | None = None
    service: str | None = None
    reason: str | None = None
    refs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A mistyped ref matched nothing, and the replay said "replayed 0 record(s)", exit 0.
        check_refs(self.refs, "--offset ", "--offset 2:0; nothing was replayed")

    def matches(self, letter: DeadLetter) -> bool:
        if self.topic and letter.source_topic != self.topic:
            return False
        if self.service and letter.service != self.service:
            return False
        if self.reason and self.reason.lower() not in letter.error.lower():
            return False
        return not self.refs or any(_ref_matches(r, letter) for r in self.refs)


def check_refs(refs: Iterable[str], named: str = "", example: str = "2:0") -> None:
    """BadRequestError naming each ref that is not `PARTITION:OFFSET` or `OFFSET`, before
    anything is read: a mistyped one would only be "not found" (or a broker error)."""
    malformed = [ref for ref in refs if not _REF.fullmatch(ref)]
    if malformed:
        raise BadRequestError(
            f"{named}{', '.join(malformed)}: not a dead letter's ref (P:O or O)",
            hint=f"use the refs `vitrina dlq list` shows, e.g. {example}",
        )


def _ref_matches(ref: str, letter: DeadLetter) -> bool:
    if ":" in ref:
        return ref == letter.ref
    return ref.isdecimal() and int(ref) == letter.offset


def distinct(letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """Each rejection once: the first letter of each (original record, service, replay).

    Dead letters are written at least once. A worker killed after writing one and before
    committing the record's offset reads the record again and writes it again (with
    `kafka.transactions` off, as on the embedded broker): a chaos review counted 1,011
    letters for 800 rejected records after three kill -9s. A rejection at the door (no
    source offset) is its own letter."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for letter in letters:
        if not letter.at_the_door:
            key = (letter.root, letter.service, letter.replay_count)
            if key in seen:
                continue
            seen.add(key)
        out.append(letter)
    return out


def records(letters: Iterable[DeadLetter]) -> int:
    """How many records the letters stand for: each consumer of a topic that refuses a
    record writes its own letter (the filter's and the lake sink's for one product a store
    sent past the door), so `vitrina dlq list` counted one bad product twice (a blind
    review). A replayed copy refused again is a record of its own."""
    return len({(d.root, d.replay_count) for d in letters})


def summarize(letters: Iterable[DeadLetter]) -> Counter[tuple[str, str, str]]:
    """Counts by (source topic, service, reason) (of `distinct` letters, to count each
    rejection once)."""
    return Counter((d.source_topic, d.service, d.reason) for d in letters)


def read_dead_letters(settings: Settings, timeout: float = 60.0) -> list[DeadLetter]:
    """Every record of the dead-letter topic, in partition/offset order."""
    from vitrina.kafka.inspect import read_to_end

    letters = []
    for msg in read_to_end(settings, [settings.topics.dead_letters], timeout):
        raw = [
            (str(h[0]), h[1] if isinstance(h[1], bytes) else str(h[1] or "").encode())
            for h in (msg.headers() or [])
        ]
        _, ts = msg.timestamp()
        letters.append(
            DeadLetter(
                msg.partition() or 0,
                msg.offset() or 0,
                msg.key(),
                msg.value(),
                headers_dict(list(raw)),
                raw,
                ts,
            )
        )
    letters.sort(key=lambda d: (d.partition, d.offset))
    return letters


def find(letters: list[DeadLetter], ref: str) -> DeadLetter:
    """The dead letter at `partition:offset`, or at `offset` when that is unambiguous."""
    hits = [d for d in letters if _ref_matches(ref, d)]
    if not hits:
        raise NotFoundError(f"no dead letter at {ref}", hint="see `vitrina dlq list`")
    if len(hits) > 1:
        refs = ", ".join(d.ref for d in hits)
        raise NotFoundError(
            f"offset {ref} exists in several partitions ({refs})",
            hint="give it as PARTITION:OFFSET",
        )
    return hits[0]


def replay_headers(
    letter: DeadLetter, services: set[str] | None = None
) -> list[tuple[str, str | bytes | None]]:
    """Headers of a replayed record: the dead letter's own, `replay_count` incremented, the
    root kept, addressed to the services that rejected it."""
    kept = [(k, v) for k, v in letter.raw_headers if k not in REPLAY_HEADERS]
    headers: list[tuple[str, str | bytes | None]] = [
        *kept,
        (HEADER_REPLAYS, str(letter.replay_count + 1).encode()),
        (HEADER_REPLAYED_FROM, f"{letter.partition}:{letter.offset}".encode()),
        (HEADER_REPLAY_ROOT, letter.root.encode()),
    ]
    targets = letter.addressed_to if services is None else services
    if targets:
        headers.append((HEADER_REPLAY_FOR, ",".join(sorted(targets)).encode()))
    return headers


def latest_per_root(letters: list[DeadLetter]) -> list[tuple[DeadLetter, set[str]]]:
    """One letter per original record (its latest generation) and the services it is for."""
    groups: dict[str, list[DeadLetter]] = {}
    for letter in letters:
        groups.setdefault(letter.root, []).append(letter)
    chosen = []
    for group in groups.values():
        top = max(d.replay_count for d in group)
        latest = [d for d in group if d.replay_count == top]
        services = set().union(*(d.addressed_to for d in latest))
        chosen.append((max(latest, key=lambda d: (d.partition, d.offset)), services))
    return sorted(chosen, key=lambda c: (c[0].partition, c[0].offset))


@dataclass
class ReplayReport:
    chosen: list[DeadLetter]
    by_topic: Counter[str]
    unreplayable: list[DeadLetter]
    dry_run: bool
    # Products another store owns (the doors' owner rule, `ownership.replay_ownership`)
    refused: list[tuple[DeadLetter, str]] = field(default_factory=list)
    # Versions older than a record of the same id their topic holds, and letters whose copy
    # their topic holds already (`already_in_topics`)
    superseded: list[tuple[DeadLetter, str]] = field(default_factory=list)
    replayed_before: list[tuple[DeadLetter, str]] = field(default_factory=list)
    # Records that still break their topic's contract (`still_invalid`)
    invalid: list[tuple[DeadLetter, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": len(self.chosen),
            "by_topic": dict(self.by_topic),
            "unreplayable": [d.ref for d in self.unreplayable],
            "refused": [{"ref": d.ref, "why": why} for d, why in self.refused],
            "superseded": [{"ref": d.ref, "why": why} for d, why in self.superseded],
            "replayed_before": [{"ref": d.ref, "why": why} for d, why in self.replayed_before],
            "invalid": [{"ref": d.ref, "why": why} for d, why in self.invalid],
            "dry_run": self.dry_run,
        }


def replay(
    settings: Settings,
    selection: Selection,
    *,
    dry_run: bool = False,
    again: bool = False,
    unchecked: bool = False,
    timeout: float = 30.0,
) -> ReplayReport:
    """Re-produce the chosen records to their source topics, each once (nothing is deleted).
    `again`: also those whose copies their topics hold already (a copy a consumer lost);
    `unchecked`: also those that still break this version's contract (services that run
    newer rules than this command)."""
    from vitrina.kafka.produce import produce
    from vitrina.kafka.worker import make_producer

    picked = latest_per_root([d for d in read_dead_letters(settings) if selection.matches(d)])
    services_of = {d.ref: services for d, services in picked}
    letters = [d for d, _ in picked]
    known = {getattr(settings.topics, role) for role in type(settings.topics).model_fields}
    known.discard(settings.topics.dead_letters)
    # By topic, not `d not in replayable`: that compared every letter with every other
    # (dataclass equality), 37 s for 10,000 letters.
    replayable = [d for d in letters if d.source_topic in known]
    unreplayable = [d for d in letters if d.source_topic not in known]
    invalid = [] if unchecked else still_invalid(settings, replayable)
    replayable = _leaving_out(replayable, invalid)
    stale, copied = already_in_topics(settings, replayable)
    if again:
        copied = []
    replayable = _leaving_out(replayable, [*stale, *copied])
    refused, claims = _owner_rule(settings, replayable)
    replayable = _leaving_out(replayable, refused)
    report = ReplayReport(
        replayable,
        Counter(d.source_topic for d in replayable),
        unreplayable,
        dry_run,
        refused,
        stale,
        copied,
        invalid,
    )
    if dry_run or not replayable:
        return report
    failures: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(str(err))

    producer = make_producer(settings, "dlq-replay", on_delivery=delivered)
    if claims:  # before the products, as the doors write them
        _claim(settings, producer, claims, timeout)
        if failures:  # a refused claim is gone from the queue too: flush() cannot tell
            raise BrokerError(
                f"{settings.topics.product_owners} refused the claims of replayed products "
                f"({failures[0]}); nothing was replayed",
                hint="check the dlq-replay principal's ACLs (`vitrina acl plan`) and "
                "`vitrina broker status`, and replay again",
            )
    for letter in replayable:
        produce(
            producer,
            letter.source_topic,
            letter.value,
            letter.key,
            headers=replay_headers(letter, services_of[letter.ref]),
        )
    remaining = producer.flush(timeout)
    if remaining or failures:
        raise BrokerError(
            f"{remaining + len(failures)} of {len(replayable)} replayed records "
            f"were not confirmed by {settings.kafka.bootstrap_servers}"
            + (f": {failures[0]}" if failures else ""),
            hint="check `vitrina broker status` and replay again",
        )
    return report


def _leaving_out(letters: list[DeadLetter], left: list[tuple[DeadLetter, str]]) -> list[DeadLetter]:
    """`letters` without those `left` out (with why), compared by ref: equality of letters
    compared every letter with every other (37 s for 10,000 letters)."""
    out = {d.ref for d, _ in left}
    return [d for d in letters if d.ref not in out] if out else letters


def still_invalid(settings: Settings, letters: list[DeadLetter]) -> list[tuple[DeadLetter, str]]:
    """The letters whose records break their topic's contract as the services read it: a
    product as the filter judges it (its key its product_id), a ban as every reader folds
    it, any other record against its topic's schema. A replayed copy of one would only be
    dead-lettered again, one more letter per run. A tombstone of a compacted topic is valid.
    Records rejected for another reason (the lake could not write them) are replayed."""
    from vitrina.contracts.codec import decode
    from vitrina.contracts.door import check_record_key, check_store, judge_product
    from vitrina.contracts.models import CONTRACTS
    from vitrina.services.bans import decode_ban
    from vitrina.topics import declared_topics

    specs = {spec.name: spec for spec in declared_topics(settings)}
    found = []
    for letter in letters:
        spec = specs[letter.source_topic]
        key = letter.key.decode("utf-8", "replace") if letter.key is not None else ""
        try:
            if letter.value is None and spec.compacted:
                continue
            if spec.role == "shop_products":
                product_id, value = judge_product(letter.value)
                check_record_key(letter.key, product_id, "")
                # The door's store rule too: a replay republished products `shop load` had
                # refused for a store_id of "" or "store_001\n" (a blind review).
                check_store((value or orjson.loads(cast(bytes, letter.value))).get("store_id"))
            elif spec.role == "banned_products":
                decode_ban(letter.value, key)
            elif spec.value in CONTRACTS:
                decode(spec.value, letter.value)
        except ContractError as exc:
            found.append((letter, f"still breaks the {spec.value} contract: {exc}"))
    return found


# Topics whose consumers keep the latest record of each key (a product, a ban): a replayed
# older record would become the latest.
LATEST_PER_KEY = ("shop_products", "filtered_products", "withheld_products", "banned_products")
_END = 1 << 62


class _Later(NamedTuple):
    """A record read past a letter's point: its place, and its replay_root / replay_count
    ("" / 0 unless it is a replayed copy)."""

    partition: int
    offset: int
    timestamp_ms: int
    root: str
    replays: int


def already_in_topics(
    settings: Settings, letters: list[DeadLetter]
) -> tuple[list[tuple[DeadLetter, str]], list[tuple[DeadLetter, str]]]:
    """Of the letters, (superseded, replayed before), each with why. Their source topics are
    read from each letter's point to their end, once.

    Replayed before: the topic holds a copy of this generation of the letter (its root, a
    replay_count above the letter's) — sending it again would duplicate the record (an
    order counted twice). A copy that failed again left a newer letter, which is replayed.

    Superseded (topics of LATEST_PER_KEY): the topic holds a later record of the same key —
    replaying would put an older version back over the newer (an old price over the one the
    store sent since, an old ban over a later unban). Later: past the rejected record's
    offset in its partition; for a letter from the door (no offset), written at or after the
    letter's time (the same millisecond counts: keeping what the topic holds is the safe
    side). Copies of the same original do not count."""
    from vitrina.kafka.inspect import TO_THE_END, TopicFollower

    if not letters:
        return [], []
    state = {getattr(settings.topics, role) for role in LATEST_PER_KEY}
    starts: dict[tuple[str, int], int] = {}  # (topic, partition) -> first offset to read
    for d in letters:  # a later version of a worker's letter: past its record's offset
        if d.source_topic in state and not d.at_the_door:
            at = (d.source_topic, d.source_partition)
            starts[at] = min(starts.get(at, _END), d.source_offset + 1)
    for topic in {d.source_topic for d in letters}:  # copies (and the door's later versions)
        # 0 for a letter without a time: read from the start (-1 would mean "the end")
        since = max(0, min(d.timestamp_ms for d in letters if d.source_topic == topic))
        for at, offset in _offsets_at(settings, topic, since).items():
            starts[at] = min(starts.get(at, _END), offset)
    keys = {d.key for d in letters if d.source_topic in state and d.key is not None}
    roots = {d.root for d in letters}
    by_key: dict[tuple[str, bytes], list[_Later]] = {}
    by_root: dict[str, list[_Later]] = {}
    partitions = [TopicPartition(t, p, o) for (t, p), o in sorted(starts.items()) if o < _END]
    follower = TopicFollower(settings, partitions, principal="admin", **TO_THE_END)
    try:
        for msg in follower.read_to_end(timeout=60):  # a stall bound: any length reads through
            key, raw = msg.key(), msg.headers()
            headers = headers_dict(cast(list[tuple[str, bytes | None]], raw)) if raw else {}
            root = headers.get(HEADER_REPLAY_ROOT, "")
            if key not in keys and root not in roots:
                continue
            found = _Later(
                msg.partition() or 0,
                msg.offset() or 0,
                msg.timestamp()[1],
                root,
                replays_of(headers),
            )
            if root in roots:
                by_root.setdefault(root, []).append(found)
            if key in keys:
                by_key.setdefault((msg.topic() or "", cast(bytes, key)), []).append(found)
    finally:
        follower.close()
    stale, copied = [], []
    for d in letters:
        copy = next((r for r in by_root.get(d.root, []) if r.replays > d.replay_count), None)
        if copy is not None:
            why = (
                f"already replayed: {d.source_topic} holds its copy ({copy.partition}:"
                f"{copy.offset}); sending it again would duplicate it"
            )
            copied.append((d, why))
            continue
        if d.key is None:  # no key, no version of it to compare
            continue
        for record in by_key.get((d.source_topic, d.key), []):
            if record.root == d.root:
                continue  # a copy of this very record
            if d.at_the_door:
                newer = record.timestamp_ms >= d.timestamp_ms
            else:
                newer = record.partition == d.source_partition and record.offset > d.source_offset
            if newer:
                name = d.key.decode(errors="replace")
                why = (
                    f"{d.source_topic} holds a newer record of {name} ({record.partition}:"
                    f"{record.offset}); replaying this older one would replace it"
                )
                stale.append((d, why))
                break
    return stale, copied


def _offsets_at(settings: Settings, topic: str, since_ms: int) -> dict[tuple[str, int], int]:
    """Each partition's first offset written at or after `since_ms` (partitions with none
    left out)."""
    from confluent_kafka import Consumer

    from vitrina.kafka.clients import consumer_config
    from vitrina.kafka.inspect import topic_partitions

    consumer = Consumer(consumer_config(settings, "admin", None))
    try:
        asked = [
            TopicPartition(topic, tp.partition, since_ms)
            for tp in topic_partitions(settings, topic)
        ]
        found = consumer.offsets_for_times(asked, timeout=10)
    finally:
        consumer.close()
    return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}


def _owner_rule(
    settings: Settings, letters: list[DeadLetter]
) -> tuple[list[tuple[DeadLetter, str]], list[tuple[str, str]]]:
    """Of the letters bound for shop-products, those another store owns (with why), and the
    claims of the new ids among the rest."""
    from vitrina.services.ownership import replay_ownership

    products = [d for d in letters if d.source_topic == settings.topics.shop_products]
    if not products:
        return [], []
    why, claims = replay_ownership(settings, [d.value for d in products])
    return [(products[i], reason) for i, reason in sorted(why.items())], claims


def _claim(
    settings: Settings, producer: Any, claims: list[tuple[str, str]], timeout: float
) -> None:
    """Write the claims (`ownership.claim_batches`) and wait until the broker has them."""
    from vitrina.kafka.produce import produce
    from vitrina.services.ownership import claim_batches, owner_partitions

    topic = settings.topics.product_owners
    for partition, key, value in claim_batches(claims, owner_partitions(producer, settings)):
        produce(producer, topic, value, key, partition=partition)
    if producer.flush(timeout):
        raise BrokerError(
            f"{topic} did not confirm the claims of replayed products; nothing was replayed",
            hint="check `vitrina broker status` and replay again",
        )
