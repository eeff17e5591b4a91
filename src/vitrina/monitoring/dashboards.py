"""Grafana dashboards as code: Kafka cluster, pipeline flow, APIs, analytics.

`vitrina monitoring dashboards` writes them to deploy/grafana/dashboards/*.json, where
Grafana's file provisioning picks them up; a unit test checks the committed files equal this
output and that every PromQL expression names metrics that exist. Pure: builds dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's grid is 24 columns wide; two panels per row, 8 rows high.
WIDTH, HEIGHT = 12, 8


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    description: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (name, label query)


def _p(title: str, *exprs: tuple[str, str], unit: str = "short", kind: str = "timeseries",
       description: str = "") -> Panel:
    return Panel(title, tuple(exprs), unit, kind, description)


SVC = 'service=~"$service"'
R = "$__rate_interval"

KAFKA = Dashboard("vitrina-kafka", "Vitrina · Kafka cluster",
                  "Brokers as the services see them, plus the brokers' JMX exporter "
                  "(distributed).", (
    _p("Services reaching a broker", (f"vitrina_worker_broker_up{{{SVC}}}", "{{service}}"),
       kind="stat", description="librdkafka statistics, every 5 s: 1 = a broker is UP"),
    _p("Brokers scraped (JMX exporter)", ('sum(up{job="kafka"})', "brokers up"), kind="stat"),
    _p("Under-replicated partitions",
       ("sum by (instance) (kafka_server_replicamanager_underreplicatedpartitions)",
        "{{instance}}")),
    _p("Offline partitions / active controllers",
       ("max(kafka_controller_kafkacontroller_offlinepartitionscount)", "offline partitions"),
       ("sum(kafka_controller_kafkacontroller_activecontrollercount)", "active controllers")),
    _p("Messages in per broker",
       (f"sum by (instance) (rate(kafka_server_brokertopicmetrics_messagesin_total[{R}]))",
        "{{instance}}"), unit="ops"),
    _p("Bytes in / out",
       (f"sum(rate(kafka_server_brokertopicmetrics_bytesin_total[{R}]))", "in"),
       (f"sum(rate(kafka_server_brokertopicmetrics_bytesout_total[{R}]))", "out"), unit="Bps"),
    _p("Consumer lag by service and topic",
       (f"sum by (service, topic) (vitrina_worker_consumer_lag_messages{{{SVC}}})",
        "{{service}} ← {{topic}}"),
       description="Clamped at 0; the embedded broker under-reports high watermarks."),
    _p("Partitions and leaders per broker",
       ("sum by (instance) (kafka_server_replicamanager_partitioncount)",
        "{{instance}} partitions"),
       ("sum by (instance) (kafka_server_replicamanager_leadercount)", "{{instance}} leaders")),
), (("service", "label_values(vitrina_worker_broker_up, service)"),))

PIPELINE = Dashboard("vitrina-pipeline", "Vitrina · Pipeline flow",
                     "shop-products → filter → filtered-products → indexer / lake; dead letters.", (
    _p("Products accepted by the shop API / loader",
       (f"sum by (source) (rate(vitrina_shop_products_accepted_total[{R}]))", "{{source}}"),
       (f"sum by (reason) (rate(vitrina_shop_products_rejected_total[{R}]))",
        "rejected: {{reason}}"),
       unit="ops"),
    _p("Consumed per service and topic",
       (f"sum by (service, topic) (rate(vitrina_worker_consumed_messages_total{{{SVC}}}[{R}]))",
        "{{service}} ← {{topic}}"), unit="ops"),
    _p("Produced per service and topic",
       (f"sum by (service, topic) (rate(vitrina_worker_produced_messages_total{{{SVC}}}[{R}]))",
        "{{service}} → {{topic}}"), unit="ops"),
    _p("Dead-lettered and rejected",
       (f"sum by (service) (rate(vitrina_worker_dead_lettered_messages_total{{{SVC}}}[{R}]))",
        "{{service}} dead-lettered"),
       (f"sum by (service, reason) (rate(vitrina_worker_rejected_messages_total{{{SVC}}}[{R}]))",
        "{{service}}: {{reason}}"), unit="ops"),
    _p("Filter decisions",
       (f"rate(vitrina_filter_passed_total[{R}])", "passed"),
       (f"rate(vitrina_filter_blocked_total[{R}])", "blocked"),
       (f"rate(vitrina_filter_retracted_total[{R}])", "retracted"),
       (f"rate(vitrina_filter_reinstated_total[{R}])", "reinstated"), unit="ops"),
    _p("Banned products", ("vitrina_filter_ban_list_size", "ban list"), kind="stat"),
    _p("Batch processing time p50 / p99",
       (f"histogram_quantile(0.5, sum by (service, le) "
        f"(rate(vitrina_worker_processing_seconds_bucket{{{SVC}}}[{R}])))", "{{service}} p50"),
       (f"histogram_quantile(0.99, sum by (service, le) "
        f"(rate(vitrina_worker_processing_seconds_bucket{{{SVC}}}[{R}])))", "{{service}} p99"),
       unit="s"),
    _p("End-to-end latency p99 (record timestamp → output)",
       (f"histogram_quantile(0.99, sum by (service, le) "
        f"(rate(vitrina_worker_end_to_end_seconds_bucket{{{SVC}}}[{R}])))", "{{service}}"),
       unit="s"),
    _p("Average batch size",
       (f"sum by (service) (rate(vitrina_worker_batch_size_messages_sum{{{SVC}}}[{R}])) / "
        f"sum by (service) (rate(vitrina_worker_batch_size_messages_count{{{SVC}}}[{R}]))",
        "{{service}}"), unit="short"),
    _p("Seconds since the last offset commit",
       (f"time() - vitrina_worker_last_commit_timestamp_seconds{{{SVC}}}", "{{service}}"),
       unit="s"),
    _p("Search index changes",
       (f"rate(vitrina_indexer_documents_upserted_total[{R}])", "upserted"),
       (f"rate(vitrina_indexer_documents_deleted_total[{R}])", "deleted"), unit="ops"),
    _p("Lake writes",
       (f"sum by (dataset) (rate(vitrina_lake_rows_written_total[{R}]))", "{{dataset}} rows"),
       ("vitrina_lake_buffered_rows", "buffered rows"), unit="short"),
), (("service", "label_values(vitrina_worker_consumed_messages_total, service)"),))

API = Dashboard("vitrina-api", "Vitrina · APIs",
                "Client API and SHOP API: traffic, errors, latency.", (
    _p("Requests by status",
       (f'sum by (api, status) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))',
        "{{api}} {{status}}"), unit="reqps"),
    _p("5xx ratio",
       (f'sum by (api) (rate(vitrina_api_requests_total{{api=~"$api",status=~"5.."}}[{R}])) / '
        f'sum by (api) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))', "{{api}}"),
       unit="percentunit", description="Alert VitrinaApiErrorRate fires above 5 % for 5 min."),
    _p("Latency p50 / p99 by route",
       (f'histogram_quantile(0.5, sum by (api, route, le) '
        f'(rate(vitrina_api_request_seconds_bucket{{api=~"$api"}}[{R}])))', "{{route}} p50"),
       (f'histogram_quantile(0.99, sum by (api, route, le) '
        f'(rate(vitrina_api_request_seconds_bucket{{api=~"$api"}}[{R}])))', "{{route}} p99"),
       unit="s"),
    _p("Requests by route",
       (f'sum by (api, route) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))',
        "{{api}} {{route}}"), unit="reqps"),
    _p("Query-log records not delivered",
       (f"sum by (reason) (rate(vitrina_client_api_query_log_failed_total[{R}]))", "{{reason}}"),
       unit="ops", description="Search logging never fails a request; this shows what it lost."),
    _p("Services up", ('up{job!="kafka"}', "{{job}}"), kind="stat"),
), (("api", "label_values(vitrina_api_requests_total, api)"),))

ANALYTICS = Dashboard("vitrina-analytics", "Vitrina · Analytics and lake",
                      "Freshness of analytics and recommendations, and the lake they read.", (
    _p("Since the last successful analytics run",
       ("time() - vitrina_analytics_last_success_timestamp_seconds", "age"), unit="s",
       kind="stat", description="Alert VitrinaAnalyticsStale fires above 30 min."),
    _p("Analytics runs by outcome",
       ("sum by (status) (increase(vitrina_analytics_runs_total[1h]))", "{{status}}"),
       unit="short"),
    _p("Analytics run duration p50 / p99",
       (f"histogram_quantile(0.5, sum by (le) (rate(vitrina_analytics_run_seconds_bucket[{R}])))",
        "p50"),
       (f"histogram_quantile(0.99, sum by (le) (rate(vitrina_analytics_run_seconds_bucket[{R}])))",
        "p99"), unit="s"),
    _p("Recommendations and category stats written",
       (f'sum by (topic) '
        f'(rate(vitrina_worker_produced_messages_total{{service="analytics"}}[{R}]))',
        "{{topic}}"), unit="ops"),
    _p("Lake rows written per dataset",
       (f"sum by (dataset) (rate(vitrina_lake_rows_written_total[{R}]))", "{{dataset}}"),
       unit="ops"),
    _p("Lake files and bytes",
       (f"sum(rate(vitrina_lake_files_written_total[{R}]))", "files/s"),
       (f"sum(rate(vitrina_lake_bytes_written_total[{R}]))", "bytes/s"), unit="short"),
    _p("Lake flush time p99",
       (f"histogram_quantile(0.99, sum by (le) (rate(vitrina_lake_flush_seconds_bucket[{R}])))",
        "p99"), unit="s"),
    _p("Rows buffered in the lake sink", ("vitrina_lake_buffered_rows", "rows"), kind="stat"),
), ())

DASHBOARDS: tuple[Dashboard, ...] = (KAFKA, PIPELINE, API, ANALYTICS)


def _panel_json(panel: Panel, index: int) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": HEIGHT, "w": WIDTH, "x": (index % 2) * WIDTH,
                    "y": (index // 2) * HEIGHT},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
        if panel.kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                     "legendFormat": legend} for i, (expr, legend) in enumerate(panel.exprs)],
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """The Grafana JSON model (schemaVersion 39) of one dashboard."""
    variables: list[dict[str, Any]] = [{
        "name": "datasource", "label": "Prometheus", "type": "datasource",
        "query": "prometheus", "current": {"text": "Prometheus", "value": "prometheus"},
    }]
    for name, query in dashboard.variables:
        variables.append({
            "name": name, "label": name, "type": "query", "datasource": DATASOURCE,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "includeAll": True, "multi": True,
            "allValue": ".*", "current": {"text": "All", "value": "$__all"},
        })
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["vitrina"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "panels": [_panel_json(p, i) for i, p in enumerate(dashboard.panels)],
    }


def all_dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON for every dashboard."""
    return {f"{d.uid}.json": dashboard_json(d) for d in DASHBOARDS}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard JSON: panel targets and variable queries."""
    exprs = [t["expr"] for p in dashboard.get("panels", []) for t in p.get("targets", [])
             if t.get("expr")]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var.get("query")
            exprs.append(query["query"] if isinstance(query, dict) else str(query))
    return exprs
