"""One registry of metric names. Every service serves them on its own /metrics port.

Naming: ``vitrina_<service>_<what>_<unit>``. Metrics shared by every stream worker live
under the ``worker`` service name with a ``service`` label (filter, indexer, lake-sink…), so
one alert rule covers all of them.

An unlabelled gauge is exported, as 0, by every process that imports its module, and a 0
can mean something (`time() - vitrina_analytics_last_success_timestamp_seconds` of every
other service fired VitrinaAnalyticsStale). So a gauge only one service sets lives in that
service's module (the analytics job's metrics in `services/analytics_scheduler.py`,
`vitrina_filter_ban_list_size` in `services/filter.py`, `vitrina_lake_buffered_rows` in
`services/lake_sink.py`), which only that service's process imports.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from vitrina.errors import ConfigError

if TYPE_CHECKING:
    from vitrina.settings import Settings

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 5000)

# -- every stream worker -------------------------------------------------------------
CONSUMED = Counter("vitrina_worker_consumed_messages_total", "Messages read", ["service", "topic"])
PRODUCED = Counter(
    "vitrina_worker_produced_messages_total", "Messages written", ["service", "topic"]
)
REJECTED = Counter(
    "vitrina_worker_rejected_messages_total", "Invalid input messages", ["service", "reason"]
)
DEAD_LETTERED = Counter(
    "vitrina_worker_dead_lettered_messages_total",
    "Messages sent to dead-letters",
    ["service", "topic"],
)
PROCESSING = Histogram(
    "vitrina_worker_processing_seconds",
    "Time to process one batch",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
END_TO_END = Histogram(
    "vitrina_worker_end_to_end_seconds",
    "Now minus the input record's timestamp, at output",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "vitrina_worker_batch_size_messages", "Messages per batch", ["service"], buckets=BATCH_BUCKETS
)
LAG = Gauge(
    "vitrina_worker_consumer_lag_messages",
    "High watermark minus position, clamped at 0",
    ["service", "topic", "partition"],
)
LAST_COMMIT = Gauge(
    "vitrina_worker_last_commit_timestamp_seconds",
    "Unix time of the last successful offset commit",
    ["service"],
)
BROKER_UP = Gauge("vitrina_worker_broker_up", "1 if the client reaches the broker", ["service"])
# reason: group_moved_on (offsets refused), partitions_lost (expelled), abortable_error (a
# produce refused in an abortable transaction), producer_stuck (a transactional call past its
# deadline: the producer was replaced), producer_failed (a fatal producer error: replaced),
# topic_recreated (an input topic deleted and created again).
REWINDS = Counter(
    "vitrina_worker_rewinds_total",
    "Open transactions given up and read again from the committed offsets, in process",
    ["service", "reason"],
)

# -- filter ----------------------------------------------------------------------------
FILTER_PASSED = Counter("vitrina_filter_passed_total", "Products allowed")
FILTER_BLOCKED = Counter("vitrina_filter_blocked_total", "Products blocked by a ban")
FILTER_RETRACTED = Counter(
    "vitrina_filter_retracted_total", "Published products withdrawn after a ban (tombstones)"
)
FILTER_REINSTATED = Counter(
    "vitrina_filter_reinstated_total", "Products republished after an unban"
)

# -- lake sink ---------------------------------------------------------------------------
LAKE_FILES = Counter("vitrina_lake_files_written_total", "Parquet files written", ["dataset"])
LAKE_ROWS = Counter("vitrina_lake_rows_written_total", "Rows written to the lake", ["dataset"])
LAKE_BYTES = Counter("vitrina_lake_bytes_written_total", "Parquet bytes written", ["dataset"])
LAKE_FLUSH = Histogram(
    "vitrina_lake_flush_seconds", "Time to write one flush of all buffers", buckets=LATENCY_BUCKETS
)
LAKE_COMPACTED = Counter(
    "vitrina_lake_files_compacted_total",
    "Small lake files merged into a larger one and deleted (lake compaction)",
    ["dataset"],
)
LAKE_LEFTOVERS = Counter(
    "vitrina_lake_leftover_files_deleted_total",
    "Uncommitted files of a crashed run deleted before the replay",
    ["dataset"],
)

# -- shop api / loader -----------------------------------------------------------------
SHOP_ACCEPTED = Counter("vitrina_shop_products_accepted_total", "Products written", ["source"])
SHOP_REJECTED = Counter(
    "vitrina_shop_products_rejected_total", "Products refused", ["source", "reason"]
)

# -- http apis ---------------------------------------------------------------------------
API_REQUESTS = Counter(
    "vitrina_api_requests_total", "HTTP requests", ["api", "method", "route", "status"]
)
API_LATENCY = Histogram(
    "vitrina_api_request_seconds", "HTTP request latency", ["api", "route"], buckets=LATENCY_BUCKETS
)

# -- client api --------------------------------------------------------------------------
CLIENT_API_QUERY_LOG_FAILED = Counter(
    "vitrina_client_api_query_log_failed_total",
    "Search/recommendation log records not delivered to client-queries (never fails a request)",
    ["reason"],
)
CLIENT_API_VIEW_INVALID = Counter(
    "vitrina_client_api_view_invalid_records_total",
    "Records of compacted topics the API view could not fold (logged, skipped)",
    ["topic"],
)
CLIENT_API_ALERT_NOTIFICATIONS = Counter(
    "vitrina_client_api_alert_notifications_total",
    "Alertmanager webhook notifications received, by notification status",
    ["status"],
)

# -- search indexer ----------------------------------------------------------------------
INDEXER_UPSERTED = Counter(
    "vitrina_indexer_documents_upserted_total", "Product documents written to the search index"
)
INDEXER_DELETED = Counter(
    "vitrina_indexer_documents_deleted_total",
    "Product documents removed from the search index (tombstones)",
)
INDEXER_COMMIT = Histogram(
    "vitrina_indexer_commit_seconds",
    "Time to apply and commit one batch of index changes",
    buckets=LATENCY_BUCKETS,
)

_server_lock = threading.Lock()
_served: set[int] = set()


def serve_metrics(settings: Settings, port: int) -> None:
    """Serve /metrics for this process on `port` (idempotent per port).

    Binds the settings' `api.host`: 127.0.0.1 on the embedded default, 0.0.0.0 in the
    distributed profile so Prometheus in another container can scrape it. A port already in
    use is a ConfigError naming the port and the setting to change, not a traceback.
    """
    host = settings.api.host
    with _server_lock:
        if port in _served:
            return
        try:
            start_http_server(port, addr=host)
        except OSError as exc:
            names = [f"ports.{name}" for name, value in settings.ports if value == port]
            setting = names[0] if names else "the service's metrics port"
            env = "VITRINA__" + setting.upper().replace(".", "__") if names else ""
            raise ConfigError(
                f"cannot serve /metrics on {host}:{port} ({setting}): {exc.strerror or exc}",
                hint=f"another process uses port {port} — is Vitrina already running "
                f"(`vitrina status`)? Or choose a free port: set {setting}"
                + (f" (e.g. {env}=…)" if env else ""),
            ) from None
        _served.add(port)
