"""The client API's Kafka producer: query log (journalled) and client events (acknowledged).

Search and recommendation requests are logged to `client-queries` without ever blocking or
failing the request: a request writes its record as one line to the process's journal
(`api.query_journal`: local disk, so a kill -9 or a long broker outage loses nothing) and
appends it to an in-memory queue; the producer's background thread validates and produces
the records in batches, marks them done in the journal once acknowledged, and produces
again what was not delivered. A full queue, an unwritable journal or a record the contract
refuses is counted in `vitrina_client_api_query_log_failed_total` instead of reaching the
customer. Client events are data the analytics need, so `publish_event` waits for the
broker's acknowledgement and raises UnavailableError (503) when it does not come: the caller
may retry.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer

from vitrina import metrics
from vitrina.api.query_journal import QueryJournal, Segment
from vitrina.contracts.codec import encode, validate
from vitrina.domain.limits import MAX_USER_ID_CHARS
from vitrina.errors import ContractError, UnavailableError
from vitrina.kafka.clients import producer_config
from vitrina.settings import Settings

log = logging.getLogger(__name__)

MAX_USER = MAX_USER_ID_CHARS  # client_query.user_id maxLength
MAX_QUERY = 10000  # client_query.query maxLength
# 100k pending log records (~10 s at 10k req/s): beyond, new ones are counted and dropped.
QUEUE_LIMIT = 100_000
ROTATE_S = 1.0  # a journal segment takes lines this long, then is deleted once all are done
RETRY_S = 5.0  # an undelivered record is produced again after this long
WARN_EVERY_S = 30.0  # undelivered records are reported at most this often


@dataclass(frozen=True, slots=True)
class LoggedQuery:
    """One search or recommendation request, as the request path hands it to the log."""

    kind: str
    user_id: str
    query: str
    filters: dict[str, Any]
    result_count: int
    latency_ms: float
    at: datetime

    def record(self, query_id: str) -> dict[str, Any]:
        """The `client_query` record, fields trimmed to the contract's limits."""
        scalars = {
            k: v
            for k, v in self.filters.items()
            if v is None or isinstance(v, str | int | float | bool)
        }
        return {
            "query_id": query_id,
            "user_id": (self.user_id or "anonymous")[:MAX_USER],
            "kind": self.kind,
            "query": self.query[:MAX_QUERY],
            "filters": {k: (v[:200] if isinstance(v, str) else v) for k, v in scalars.items()},
            "result_count": max(0, int(self.result_count)),
            "latency_ms": max(0.0, float(self.latency_ms)),
            "timestamp": self.at.isoformat(),
        }


# A queued record: its journal line and place (segment None: the journal could not take
# it), and the record itself (None when recovered from a journal: parsed from the line).
Queued = tuple[bytes, Segment | None, int, dict[str, Any] | None]


class ClientProducer:
    """One idempotent producer shared by every request of the API process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # 10 s: events wait separately; an undelivered query-log record is retried.
        conf = producer_config(settings, "client-api")
        conf.update({"message.timeout.ms": 10000, "linger.ms": 5})
        self.producer = Producer(conf)
        self._queries: deque[Queued] = deque()
        self._retry: deque[tuple[float, Queued]] = deque()
        self._undelivered, self._warned_at = 0, -WARN_EVERY_S
        # Query ids: this process's random prefix and a counter (no urandom per request).
        self._id_prefix = uuid.uuid4().hex[:20]
        self._ids = itertools.count()
        self.journal: QueryJournal | None = None
        try:
            self.journal = QueryJournal(settings.data_dir / "query-log")
            for segment, number, line in self.journal.recover():
                self._queries.append((line + b"\n", segment, number, None))
        except OSError as exc:  # searches are served and logged, only not through a kill -9
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("journal").inc()
            log.warning("query log journal unavailable, records kept in memory only: %s", exc)
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="client-api-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        rotated = time.monotonic()
        while not self._stop.is_set():
            self._drain()
            # 50 ms: a logged query waits at most this long; delivery reports (events wait
            # for theirs) return from poll at once.
            self.producer.poll(0.05)
            now = time.monotonic()
            while self._retry and self._retry[0][0] <= now:
                self._queries.append(self._retry.popleft()[1])
            if self.journal is not None:
                if now - rotated >= ROTATE_S:
                    rotated = now
                    self._journal_step(self.journal.rotate)
                self._journal_step(self.journal.collect)
        self._drain()

    @staticmethod
    def _journal_step(step: Any, *args: Any) -> None:
        try:
            step(*args)
        except OSError as exc:  # a full or failing disk must not stop the query log
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("journal").inc()
            log.warning("query log journal: %s", exc)

    def _drain(self) -> None:
        """Validate and produce every queued query-log record (the thread's job)."""
        while self._queries:
            self._produce_query(self._queries.popleft())

    def _on_query_delivery(self, queued: Queued, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("undelivered").inc()
            now = time.monotonic()
            self._undelivered += 1
            # Once per WARN_EVERY_S, not per record: a broker away for minutes would
            # otherwise write a warning for every search, again at every retry.
            if now - self._warned_at >= WARN_EVERY_S:
                log.warning(
                    "query log: %d record(s) not delivered (retried every %.0f s): %s",
                    self._undelivered,
                    RETRY_S,
                    err,
                )
                self._warned_at, self._undelivered = now, 0
            if len(self._retry) < QUEUE_LIMIT:
                self._retry.append((now + RETRY_S, queued))
            return
        self._done(queued)

    def _done(self, queued: Queued) -> None:
        if queued[1] is not None and self.journal is not None:
            self._journal_step(self.journal.done, queued[1], queued[2])

    def log_query(
        self,
        kind: str,
        user_id: str,
        query: str,
        filters: dict[str, Any],
        result_count: int,
        latency_ms: float,
    ) -> None:
        """Journal and queue one query-log record (on the request path); never raises."""
        if len(self._queries) >= QUEUE_LIMIT:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("queue_full").inc()
            return
        try:
            entry = LoggedQuery(
                kind, user_id, query, filters, result_count, latency_ms, datetime.now(UTC)
            )
            record = entry.record(f"{self._id_prefix}{next(self._ids):x}")
            line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except Exception as exc:  # logging must never fail a search
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("invalid").inc()
            log.warning("query log record not built: %s", exc)
            return
        segment: Segment | None = None
        number = -1
        try:
            if self.journal is not None:
                segment, number = self.journal.append(line)
        except OSError as exc:  # still produced, only not kept through a kill -9
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("journal").inc()
            log.warning("query log journal: %s", exc)
        self._queries.append((line, segment, number, record))

    def _produce_query(self, queued: Queued) -> None:
        line, _, _, record = queued
        try:
            if record is None:  # recovered from a journal
                record = orjson.loads(line)
            validate("client_query", record)
            self.producer.produce(
                self.settings.topics.client_queries,
                key=str(record["user_id"]).encode(),
                value=line[:-1],
                on_delivery=lambda err, msg: self._on_query_delivery(queued, err, msg),
            )
        except BufferError:  # librdkafka's queue is full: later
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("queue_full").inc()
            if len(self._retry) < QUEUE_LIMIT:
                self._retry.append((time.monotonic() + RETRY_S, queued))
        except (ContractError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("invalid").inc()
            log.warning("query log record invalid: %s", exc)
            self._done(queued)  # refused for good: recovery must not produce it again
        except Exception as exc:  # logging must never fail a search
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("error").inc()
            log.warning("query log failed: %s", exc)

    def publish_event(self, event: dict[str, Any], timeout_s: float = 5.0) -> None:
        """Produce one client event and wait for its acknowledgement."""
        done = threading.Event()
        failure: list[KafkaError] = []

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                failure.append(err)
            done.set()

        value = encode("client_event", event)
        try:
            self.producer.produce(
                self.settings.topics.client_events,
                key=event["user_id"].encode(),
                value=value,
                on_delivery=delivered,
            )
        except BufferError:
            raise UnavailableError(
                "the event queue is full", hint="retry in a few seconds"
            ) from None
        if not done.wait(timeout_s) or failure:
            reason = failure[0] if failure else f"no acknowledgement in {timeout_s:.0f} s"
            raise UnavailableError(
                f"event not stored: {reason}", hint="the broker may be down; retry later"
            )

    def close(self) -> None:
        """Stop the thread and deliver what is queued; what the broker did not acknowledge
        stays in the journal for the next process to produce."""
        self._stop.set()
        self._poller.join(5)
        self.producer.flush(2)
        if self.journal is not None:
            self._journal_step(self.journal.close)
