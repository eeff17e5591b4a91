"""Grafana dashboards as code: Kafka cluster, pipeline flow, APIs, analytics.

What each dashboard shows is declared here (panels of PromQL); the Grafana JSON model is
built with Grafana's own grafana-foundation-sdk, so the schema is theirs, not hand-written.
`vitrina monitoring dashboards` writes them to deploy/grafana/dashboards/*.json, where
Grafana's file provisioning picks them up; a unit test checks the committed files equal this
output and that every PromQL expression names metrics that exist in the live registry.
"""

from __future__ import annotations

import json
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


def _p(
    title: str,
    *exprs: tuple[str, str],
    unit: str = "short",
    kind: str = "timeseries",
    description: str = "",
) -> Panel:
    return Panel(title, tuple(exprs), unit, kind, description)


SVC = 'service=~"$service"'
R = "$__rate_interval"
# A broker's BrokerTopicMetrics come twice under one name: once per topic (label `topic`)
# and once for all topics together (no label). Summing both counts every message twice;
# `topic=""` keeps the all-topics series only.
ALL_TOPICS = 'topic=""'

KAFKA = Dashboard(
    "vitrina-kafka",
    "Vitrina · Kafka cluster",
    "Brokers as the services see them, plus the brokers' JMX exporter (distributed).",
    (
        _p(
            "Services reaching a broker",
            (f"vitrina_worker_broker_up{{{SVC}}}", "{{service}}"),
            kind="stat",
            description="librdkafka statistics, every 5 s: 1 = a broker is UP",
        ),
        _p("Brokers scraped (JMX exporter)", ('sum(up{job="kafka"})', "brokers up"), kind="stat"),
        _p(
            "Under-replicated partitions",
            (
                "sum by (instance) (kafka_server_replicamanager_underreplicatedpartitions)",
                "{{instance}}",
            ),
        ),
        _p(
            "Offline partitions / active controllers",
            ("max(kafka_controller_kafkacontroller_offlinepartitionscount)", "offline partitions"),
            (
                "sum by (job) (kafka_controller_kafkacontroller_activecontrollercount)",
                "active controllers ({{job}})",
            ),
        ),
        _p(
            "Messages in per broker",
            (
                "sum by (instance) (rate("
                f"kafka_server_brokertopicmetrics_messagesin_total{{{ALL_TOPICS}}}[{R}]))",
                "{{instance}}",
            ),
            unit="ops",
        ),
        _p(
            "Bytes in / out",
            (
                f"sum(rate(kafka_server_brokertopicmetrics_bytesin_total{{{ALL_TOPICS}}}[{R}]))",
                "in",
            ),
            (
                f"sum(rate(kafka_server_brokertopicmetrics_bytesout_total{{{ALL_TOPICS}}}[{R}]))",
                "out",
            ),
            unit="Bps",
        ),
        _p(
            "Consumer lag by service and topic",
            (
                f"sum by (service, topic) (vitrina_worker_consumer_lag_messages{{{SVC}}})",
                "{{service}} ← {{topic}}",
            ),
            description="Clamped at 0; the embedded broker under-reports high watermarks.",
        ),
        _p(
            "Partitions and leaders per broker",
            (
                "sum by (instance) (kafka_server_replicamanager_partitioncount)",
                "{{instance}} partitions",
            ),
            ("sum by (instance) (kafka_server_replicamanager_leadercount)", "{{instance}} leaders"),
        ),
    ),
    (("service", "label_values(vitrina_worker_broker_up, service)"),),
)

PIPELINE = Dashboard(
    "vitrina-pipeline",
    "Vitrina · Pipeline flow",
    "shop-products → filter → filtered-products → indexer / lake; dead letters.",
    (
        _p(
            "Products accepted by the shop API / loader",
            (f"sum by (source) (rate(vitrina_shop_products_accepted_total[{R}]))", "{{source}}"),
            (
                f"sum by (reason) (rate(vitrina_shop_products_rejected_total[{R}]))",
                "rejected: {{reason}}",
            ),
            unit="ops",
        ),
        _p(
            "Consumed per service and topic",
            (
                f"sum by (service, topic) (rate(vitrina_worker_consumed_messages_total{{{SVC}}}[{R}]))",
                "{{service}} ← {{topic}}",
            ),
            unit="ops",
        ),
        _p(
            "Produced per service and topic",
            (
                f"sum by (service, topic) (rate(vitrina_worker_produced_messages_total{{{SVC}}}[{R}]))",
                "{{service}} → {{topic}}",
            ),
            unit="ops",
        ),
        _p(
            "Dead-lettered and rejected",
            (
                f"sum by (service) (rate(vitrina_worker_dead_lettered_messages_total{{{SVC}}}[{R}]))",
                "{{service}} dead-lettered",
            ),
            (
                f"sum by (service, reason) (rate(vitrina_worker_rejected_messages_total{{{SVC}}}[{R}]))",
                "{{service}}: {{reason}}",
            ),
            unit="ops",
        ),
        _p(
            "Filter decisions",
            (f"rate(vitrina_filter_passed_total[{R}])", "passed"),
            (f"rate(vitrina_filter_blocked_total[{R}])", "blocked"),
            (f"rate(vitrina_filter_retracted_total[{R}])", "retracted"),
            (f"rate(vitrina_filter_reinstated_total[{R}])", "reinstated"),
            unit="ops",
        ),
        _p("Banned products", ("vitrina_filter_ban_list_size", "ban list"), kind="stat"),
        _p(
            "Batch processing time p50 / p99",
            (
                f"histogram_quantile(0.5, sum by (service, le) "
                f"(rate(vitrina_worker_processing_seconds_bucket{{{SVC}}}[{R}])))",
                "{{service}} p50",
            ),
            (
                f"histogram_quantile(0.99, sum by (service, le) "
                f"(rate(vitrina_worker_processing_seconds_bucket{{{SVC}}}[{R}])))",
                "{{service}} p99",
            ),
            unit="s",
        ),
        _p(
            "End-to-end latency p99 (record timestamp → output)",
            (
                f"histogram_quantile(0.99, sum by (service, le) "
                f"(rate(vitrina_worker_end_to_end_seconds_bucket{{{SVC}}}[{R}])))",
                "{{service}}",
            ),
            unit="s",
        ),
        _p(
            "Average batch size",
            (
                f"sum by (service) (rate(vitrina_worker_batch_size_messages_sum{{{SVC}}}[{R}])) / "
                f"sum by (service) (rate(vitrina_worker_batch_size_messages_count{{{SVC}}}[{R}]))",
                "{{service}}",
            ),
            unit="short",
        ),
        _p(
            "Seconds since the last offset commit",
            (f"time() - vitrina_worker_last_commit_timestamp_seconds{{{SVC}}}", "{{service}}"),
            unit="s",
        ),
        _p(
            "Transactions given up and read again",
            (
                f"sum by (service, reason) (increase(vitrina_worker_rewinds_total{{{SVC}}}[{R}]))",
                "{{service}} {{reason}}",
            ),
            description="in process, without a restart: the group moved on, the partitions "
            "were lost, an abortable error, or a stuck producer replaced",
        ),
        _p(
            "Search index changes",
            (f"rate(vitrina_indexer_documents_upserted_total[{R}])", "upserted"),
            (f"rate(vitrina_indexer_documents_deleted_total[{R}])", "deleted"),
            unit="ops",
        ),
        _p(
            "Lake writes",
            (f"sum by (dataset) (rate(vitrina_lake_rows_written_total[{R}]))", "{{dataset}} rows"),
            ("vitrina_lake_buffered_rows", "buffered rows"),
            unit="short",
        ),
    ),
    (("service", "label_values(vitrina_worker_consumed_messages_total, service)"),),
)

API = Dashboard(
    "vitrina-api",
    "Vitrina · APIs",
    "Client API and SHOP API: traffic, errors, latency.",
    (
        _p(
            "Requests by status",
            (
                f'sum by (api, status) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))',
                "{{api}} {{status}}",
            ),
            unit="reqps",
        ),
        _p(
            "5xx ratio",
            (
                f'sum by (api) (rate(vitrina_api_requests_total{{api=~"$api",status=~"5.."}}[{R}])) / '
                f'sum by (api) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))',
                "{{api}}",
            ),
            unit="percentunit",
            description="Alert VitrinaApiErrorRate fires above 5 % for 5 min.",
        ),
        _p(
            "Latency p50 / p99 by route",
            (
                f"histogram_quantile(0.5, sum by (api, route, le) "
                f'(rate(vitrina_api_request_seconds_bucket{{api=~"$api"}}[{R}])))',
                "{{route}} p50",
            ),
            (
                f"histogram_quantile(0.99, sum by (api, route, le) "
                f'(rate(vitrina_api_request_seconds_bucket{{api=~"$api"}}[{R}])))',
                "{{route}} p99",
            ),
            unit="s",
        ),
        _p(
            "Requests by route",
            (
                f'sum by (api, route) (rate(vitrina_api_requests_total{{api=~"$api"}}[{R}]))',
                "{{api}} {{route}}",
            ),
            unit="reqps",
        ),
        _p(
            "Query-log records not delivered",
            (
                f"sum by (reason) (rate(vitrina_client_api_query_log_failed_total[{R}]))",
                "{{reason}}",
            ),
            unit="ops",
            description="Search logging never fails a request; this shows what it lost.",
        ),
        _p("Services up", ('up{job!="kafka"}', "{{job}}"), kind="stat"),
    ),
    (("api", "label_values(vitrina_api_requests_total, api)"),),
)

ANALYTICS = Dashboard(
    "vitrina-analytics",
    "Vitrina · Analytics and lake",
    "Freshness of analytics and recommendations, and the lake they read.",
    (
        _p(
            "Since the last successful analytics run",
            ("time() - vitrina_analytics_last_success_timestamp_seconds", "age"),
            unit="s",
            kind="stat",
            description="Alert VitrinaAnalyticsStale fires above 30 min.",
        ),
        _p(
            "Analytics runs by outcome",
            ("sum by (status) (increase(vitrina_analytics_runs_total[1h]))", "{{status}}"),
            unit="short",
        ),
        _p(
            "Analytics run duration p50 / p99",
            (
                f"histogram_quantile(0.5, sum by (le) (rate(vitrina_analytics_run_seconds_bucket[{R}])))",
                "p50",
            ),
            (
                f"histogram_quantile(0.99, sum by (le) (rate(vitrina_analytics_run_seconds_bucket[{R}])))",
                "p99",
            ),
            unit="s",
        ),
        _p(
            "Model check: hidden history items found",
            ('vitrina_analytics_model_check_hits{list="model"}', "model"),
            ('vitrina_analytics_model_check_hits{list="popularity"}', "popularity"),
            unit="short",
            description="The last run's check; the model is served only when its lead is "
            "significant, else popularity alone (alert VitrinaRecommenderOnPopularity after 6 h).",
        ),
        _p(
            "Recommendations and category stats written",
            (
                f"sum by (topic) "
                f'(rate(vitrina_worker_produced_messages_total{{service="analytics"}}[{R}]))',
                "{{topic}}",
            ),
            unit="ops",
        ),
        _p(
            "Lake rows written per dataset",
            (f"sum by (dataset) (rate(vitrina_lake_rows_written_total[{R}]))", "{{dataset}}"),
            unit="ops",
        ),
        _p(
            "Lake files and bytes",
            (f"sum(rate(vitrina_lake_files_written_total[{R}]))", "files/s"),
            (f"sum(rate(vitrina_lake_bytes_written_total[{R}]))", "bytes/s"),
            (f"sum(rate(vitrina_lake_files_compacted_total[{R}]))", "files merged away/s"),
            unit="short",
        ),
        _p(
            "Lake flush time p99",
            (
                f"histogram_quantile(0.99, sum by (le) (rate(vitrina_lake_flush_seconds_bucket[{R}])))",
                "p99",
            ),
            unit="s",
        ),
        _p("Rows buffered in the lake sink", ("vitrina_lake_buffered_rows", "rows"), kind="stat"),
    ),
    (),
)

DASHBOARDS: tuple[Dashboard, ...] = (KAFKA, PIPELINE, API, ANALYTICS)


def _sdk() -> Any:
    try:
        from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
        from grafana_foundation_sdk.cog.encoder import JSONEncoder
        from grafana_foundation_sdk.models import dashboard as model
    except ModuleNotFoundError as exc:
        from vitrina.errors import ConfigError

        raise ConfigError(
            f"building dashboards needs grafana-foundation-sdk ({exc.name})",
            hint="pip install 'vitrina[dev]' (grafana-foundation-sdk)",
        ) from None
    return dashboard, prometheus, stat, timeseries, JSONEncoder, model, common


def _panel(panel: Panel, index: int) -> Any:
    _, prometheus, stat, timeseries, _, model, common = _sdk()
    source = model.DataSourceRef(type_val=DATASOURCE["type"], uid=DATASOURCE["uid"])
    if panel.kind == "timeseries":
        builder = timeseries.Panel().legend(
            common.VizLegendOptions().display_mode("list").placement("bottom").show_legend(True)
        )
    else:
        builder = stat.Panel().reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
    builder = (
        builder.id(index + 1)
        .title(panel.title)
        .description(panel.description)
        .datasource(source)
        .unit(panel.unit)
        .grid_pos(model.GridPos(h=HEIGHT, w=WIDTH, x=(index % 2) * WIDTH, y=(index // 2) * HEIGHT))
    )
    for i, (expr, legend) in enumerate(panel.exprs):
        builder = builder.with_target(
            prometheus.Dataquery()
            .ref_id(chr(ord("A") + i))
            .datasource(source)
            .expr(expr)
            .legend_format(legend)
        )
    return builder


def dashboard_json(board: Dashboard) -> dict[str, Any]:
    """The Grafana JSON model of one dashboard, built with grafana-foundation-sdk."""
    dashboard, _, _, _, encoder, model, _ = _sdk()
    source = model.DataSourceRef(type_val=DATASOURCE["type"], uid=DATASOURCE["uid"])
    builder = (
        dashboard.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(["vitrina"])
        .timezone("browser")
        .editable()
        .refresh("30s")
        .time("now-1h", "now")
        .with_variable(
            dashboard.DatasourceVariable("datasource")
            .label("Prometheus")
            .type("prometheus")
            .current(model.VariableOption(text="Prometheus", value="prometheus"))
        )
    )
    for name, query in board.variables:
        builder = builder.with_variable(
            dashboard.QueryVariable(name)
            .label(name)
            .datasource(source)
            .query(query)
            .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .include_all(True)
            .multi(True)
            .all_value(".*")
        )
    for index, panel in enumerate(board.panels):
        builder = builder.with_panel(_panel(panel, index))
    built: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=encoder))
    return built


def all_dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard JSON for every dashboard."""
    return {f"{d.uid}.json": dashboard_json(d) for d in DASHBOARDS}


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard JSON: panel targets and variable queries."""
    exprs = [
        t["expr"]
        for p in dashboard.get("panels", [])
        for t in p.get("targets", [])
        if t.get("expr")
    ]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var.get("query")
            exprs.append(query["query"] if isinstance(query, dict) else str(query))
    return exprs
