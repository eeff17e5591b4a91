"""Ban management: add, remove, list and import bans on the compacted `banned-products` topic.

Used by `vitrina ban …` and the client API's admin endpoints. A ban is a `ban` record keyed by
product_id; an unban is a tombstone. The current list is the topic folded by key, read to the
end with partition-EOF events (never the high watermark, which the embedded broker gets wrong).

Id rules (decided here, same for CLI and API):
- malformed ids (not an ASCII token of letters, digits, `-_.`, 1–64 long; see
  domain/limits.is_product_id) are a BadRequestError naming every bad one; nothing is written;
- ids never seen in shop-products are accepted: banning a product *before* a store publishes it
  is a core use case, and checking would mean scanning the whole product stream;
- unbanning an id that is not currently banned is a NotFoundError naming it; nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer

from vitrina.contracts.codec import encode
from vitrina.contracts.models import Ban
from vitrina.domain.banlist import BanList, fold_ban, ids_from_document, parse_product_ids
from vitrina.domain.limits import has_control
from vitrina.errors import BadRequestError, BrokerError, ContractError, NotFoundError
from vitrina.kafka.clients import identity, producer_config
from vitrina.kafka.errors import check_topic, explain, fetch_metadata, wait_flushed
from vitrina.kafka.inspect import read_partitions_to_end, topic_partitions
from vitrina.kafka.produce import produce
from vitrina.settings import Settings

# The operator's principal (ACL: reads everything, writes the ban list); the client API
# passes its own.
PRINCIPAL = "admin"
FLUSH_TIMEOUT_S = 30.0
# Embeddings, overrides and isolates (LRE…RLO, LRI…PDI): they reorder the text after them.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Tabs and line breaks are a reason's white space (`ban list` folds them), not controls.
_WHITESPACE = str.maketrans("\t\n\r", "   ")
# A ban is written only once the broker has answered for the ban-list topic: with no broker,
# a plain produce waited the whole flush timeout and said only "timed out".
METADATA_TIMEOUT_S = 10.0


def decode_ban(raw: bytes | None, key: str) -> dict[str, Any] | None:
    """A ban-list record's value: the ban, or None for a tombstone (unban).

    ContractError for a record that is not a ban, and for a ban under another key than its
    product_id: the list is folded (and compacted) by key, so such a record would ban one
    product for one reader and another for the next. The filter, `ban list` and the client
    API all read the list through here, so they agree on what is banned."""
    if raw is None:
        return None
    from vitrina.contracts.codec import decode

    ban = decode("ban", raw)
    if ban["product_id"] != key:
        raise ContractError(
            f"ban key {key!r} differs from product_id {ban['product_id']!r}",
            field="product_id",
            rule="key",
        )
    return ban


class BanService:
    """Writes and reads the ban list. Time is injected (`clock`) for deterministic tests."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        principal: str = PRINCIPAL,
    ) -> None:
        self.settings = settings
        self.principal = principal
        self.topic = settings.topics.banned_products
        self.clock = clock
        self._producer: Producer | None = None

    # -- writing -------------------------------------------------------------------------
    def _produce(self, records: list[tuple[str, bytes | None]]) -> None:
        if self._producer is None:
            producer = Producer(producer_config(self.settings, self.principal))
            ident = identity(self.settings, self.principal)
            metadata = fetch_metadata(producer, ident, self.topic, METADATA_TIMEOUT_S)
            check_topic(ident, self.topic, metadata, operation="WRITE")
            self._producer = producer
        errors: list[str] = []
        first_error: list[KafkaError] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(f"{msg.key()!r}: {err}")
                first_error[:1] = first_error[:1] or [err]

        for key, value in records:
            produce(self._producer, self.topic, value, key, on_delivery=delivered)
        # Short flush steps: a wrong password or an untrusted CA is raised at once (by the
        # client's ErrorWatch) instead of after the whole timeout.
        if wait_flushed(self._producer, FLUSH_TIMEOUT_S) > 0 or errors:
            problem = (
                explain(
                    first_error[0],
                    identity(self.settings, self.principal),
                    operation="WRITE",
                    topic=self.topic,
                )
                if first_error
                else None
            )
            if problem is not None:
                raise problem
            raise BrokerError(
                f"the ban list was not fully written: {errors or 'timed out'}",
                hint="check the broker (`vitrina broker status`) and retry; banning is idempotent",
            )

    @staticmethod
    def _valid_ids(ids: list[Any]) -> list[str]:
        valid, bad = parse_product_ids(ids)
        if bad:
            raise BadRequestError(
                f"malformed product id(s): {', '.join(bad[:20])}"
                + (f" and {len(bad) - 20} more" if len(bad) > 20 else ""),
                hint="a product id is 1 to 64 ASCII letters, digits, '-', '_' or '.', "
                "e.g. 100042 or 85123A; nothing was changed",
            )
        if not valid:
            raise BadRequestError("no product ids given", hint="pass at least one product id")
        return valid

    def ban(self, ids: list[Any], reason: str, banned_by: str = "operator") -> list[Ban]:
        """Ban products (idempotent: banning again updates reason and author)."""
        valid = self._valid_ids(ids)
        reason, banned_by = reason.strip(), banned_by.strip()
        if not reason:
            raise BadRequestError("a ban needs a reason", hint="pass --reason TEXT")
        if not banned_by:
            raise BadRequestError("a ban needs an author", hint="pass --by NAME")
        for what, text in (("reason", reason), ("author", banned_by)):
            # An escape recoloured the operator's terminal in `ban list`, and a direction
            # override (U+202E) reversed what followed it (a blind review).
            if has_control(text.translate(_WHITESPACE)) or _BIDI_CONTROL.search(text):
                raise BadRequestError(
                    f"a ban's {what} has a control or text-direction character "
                    f"({ascii(text)[:80]})",
                    hint="write it as plain text (no escapes, no direction overrides)",
                )
        now = self.clock()
        bans = [
            Ban(product_id=pid, reason=reason[:1000], banned_by=banned_by[:200], banned_at=now)
            for pid in valid
        ]
        self._produce([(b.product_id, encode("ban", b)) for b in bans])
        return bans

    def reassert(self, bans: dict[str, dict[str, Any]]) -> None:
        """Write each ban again as it is (services/recs_view.py: a ban whose key's latest
        record is not a ban would be lost to compaction)."""
        self._produce([(pid, encode("ban", ban)) for pid, ban in bans.items()])

    def unban(self, ids: list[Any], banned_now: Callable[[str], bool] | None = None) -> list[str]:
        """Lift bans; every id must be currently banned (else NotFoundError, nothing written).

        `banned_now`: a live view's answer (the client API's): ids it knows banned are not
        looked up in the topic, which is read to its end otherwise (0.5 s at 100k bans,
        2.3 s under load, on every unban: a blind review). An id it does not know is looked
        up, as it may only lag behind a ban just made."""
        valid = self._valid_ids(ids)
        if banned_now is not None and all(map(banned_now, valid)):
            self._produce([(pid, None) for pid in valid])
            return valid
        current = self.current()
        missing = [pid for pid in valid if pid not in current]
        if missing:
            raise NotFoundError(
                f"not banned: {', '.join(missing[:20])}",
                hint="see `vitrina ban list`; nothing was changed",
            )
        self._produce([(pid, None) for pid in valid])
        return valid

    def import_file(self, path: Path, reason: str, banned_by: str = "operator") -> list[Ban]:
        """Ban every id of a JSON file: `{"product_id": [...]}` or a plain list."""
        try:
            document = orjson.loads(Path(path).read_bytes())
        except FileNotFoundError:
            raise BadRequestError(f"{path} does not exist", hint="give a JSON file") from None
        except orjson.JSONDecodeError as exc:
            raise BadRequestError(
                f"{path} is not valid JSON: {exc}",
                hint='use {"product_id": ["1", "2"]} or ["1", "2"]',
            ) from None
        ids = ids_from_document(document)
        if ids is None:
            raise BadRequestError(
                f"{path}: expected a list of ids or an object with a product_id list",
                hint='e.g. {"product_id": ["100042"]}',
            )
        return self.ban(ids, reason, banned_by)

    # -- reading -------------------------------------------------------------------------
    def current(self) -> BanList:
        """The ban list now: the compacted topic folded by key, read to its end."""
        bans: BanList = {}
        partitions = topic_partitions(self.settings, self.topic, self.principal)
        for msg in read_partitions_to_end(self.settings, partitions, principal=self.principal):
            key = (msg.key() or b"").decode("utf-8", "replace")
            try:
                fold_ban(bans, key, decode_ban(msg.value(), key))
            except ContractError:
                continue  # an invalid record is not a ban; the filter dead-letters it
        return bans

    def list(self) -> list[dict[str, Any]]:
        """Current bans (product_id, reason, banned_by, banned_at), sorted by product id."""
        bans = self.current()
        return [bans[pid] for pid in sorted(bans, key=lambda p: (len(p), p))]

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(FLUSH_TIMEOUT_S)
            self._producer = None
