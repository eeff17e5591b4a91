"""The client API's Kafka producer: query log (fire-and-forget) and client events (acknowledged).

Search and recommendation requests are logged to `client-queries` without ever blocking or
failing the request, and off the request path: a request only appends a tuple to a bounded
in-memory queue; the producer's background thread builds, validates and produces the
records in batches and serves delivery reports. A full queue or an undeliverable record is
counted in `vitrina_client_api_query_log_failed_total` instead of reaching the customer.
Client events are data the analytics need, so `publish_event` waits for the broker's
acknowledgement and raises UnavailableError (503) when it does not come: the caller may
retry.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from vitrina import metrics
from vitrina.contracts.codec import encode
from vitrina.errors import ContractError, UnavailableError
from vitrina.kafka.clients import producer_config
from vitrina.settings import Settings

log = logging.getLogger(__name__)

MAX_USER = 100  # client_query.user_id maxLength
MAX_QUERY = 10000  # client_query.query maxLength
# 100k pending log records (~10 s at 10k req/s): beyond, new ones are counted and dropped.
QUEUE_LIMIT = 100_000


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

    def record(self) -> dict[str, Any]:
        """The `client_query` record, fields trimmed to the contract's limits."""
        scalars = {
            k: v
            for k, v in self.filters.items()
            if v is None or isinstance(v, str | int | float | bool)
        }
        return {
            "query_id": uuid.uuid4().hex,
            "user_id": (self.user_id or "anonymous")[:MAX_USER],
            "kind": self.kind,
            "query": self.query[:MAX_QUERY],
            "filters": {k: (v[:200] if isinstance(v, str) else v) for k, v in scalars.items()},
            "result_count": max(0, int(self.result_count)),
            "latency_ms": max(0.0, float(self.latency_ms)),
            "timestamp": self.at.isoformat(),
        }


class ClientProducer:
    """One idempotent producer shared by every request of the API process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # 10 s: a logged query older than that is not worth a retry; events wait separately.
        conf = producer_config(settings, "client-api")
        conf.update({"message.timeout.ms": 10000, "linger.ms": 5})
        self.producer = Producer(conf)
        self._queries: deque[LoggedQuery] = deque()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="client-api-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._drain()
            # 50 ms: a logged query waits at most this long; delivery reports (events wait
            # for theirs) return from poll at once.
            self.producer.poll(0.05)
        self._drain()

    def _drain(self) -> None:
        """Build, validate and produce every queued query-log record (the thread's job)."""
        while self._queries:
            self._produce_query(self._queries.popleft())

    @staticmethod
    def _on_query_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("undelivered").inc()
            log.warning("query log record not delivered: %s", err)

    def log_query(
        self,
        kind: str,
        user_id: str,
        query: str,
        filters: dict[str, Any],
        result_count: int,
        latency_ms: float,
    ) -> None:
        """Queue one query-log record (O(1), on the request path); never raises."""
        if len(self._queries) >= QUEUE_LIMIT:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("queue_full").inc()
            return
        self._queries.append(
            LoggedQuery(kind, user_id, query, filters, result_count, latency_ms, datetime.now(UTC))
        )

    def _produce_query(self, entry: LoggedQuery) -> None:
        try:
            record = entry.record()
            value = encode("client_query", record)
            self.producer.produce(
                self.settings.topics.client_queries,
                key=record["user_id"].encode(),
                value=value,
                on_delivery=self._on_query_delivery,
            )
        except BufferError:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("queue_full").inc()
        except ContractError as exc:
            metrics.CLIENT_API_QUERY_LOG_FAILED.labels("invalid").inc()
            log.warning("query log record invalid: %s", exc)
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
        self._stop.set()
        self._poller.join(5)
        self.producer.flush(2)
