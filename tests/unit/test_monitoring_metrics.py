"""Every metric a dashboard or an alert rule queries exists in the metric registry.

The registry is what the code really exports: `vitrina.metrics` plus every service module
(imported here), read back from prometheus_client's REGISTRY — not a hand-kept list.
kafka_* names must be in the documented JMX exporter list.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import vitrina.services
from vitrina.monitoring.dashboards import all_dashboards, expressions
from vitrina.monitoring.promql import (
    JMX_EXPORTER_METRICS,
    exposed_names,
    referenced_metrics,
    unknown_metrics,
)

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARD_DIR = ROOT / "deploy" / "grafana" / "dashboards"


@pytest.fixture(scope="module")
def registry_names() -> set[str]:
    importlib.import_module("vitrina.metrics")
    for module in pkgutil.iter_modules(vitrina.services.__path__, "vitrina.services."):
        try:
            importlib.import_module(module.name)
        except ImportError as exc:  # an optional backend's library (pyspark…) is absent
            print(f"skipped {module.name}: {exc}")
    families = [(m.name, m.type) for m in REGISTRY.collect()]
    return exposed_names(families)


def rule_expressions() -> list[str]:
    exprs = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    return exprs


def committed_dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


def test_referenced_metrics_ignores_labels_strings_and_functions() -> None:
    expr = (
        "sum by (service, vitrina_fake_label) (rate(vitrina_worker_consumed_messages_total"
        '{topic="vitrina_not_a_metric", job!="kafka_x"}[5m])) / on (service) '
        "kafka_server_replicamanager_leadercount and histogram_quantile(0.9, "
        "vitrina_api_request_seconds_bucket)"
    )
    assert referenced_metrics(expr) == {
        "vitrina_worker_consumed_messages_total",
        "kafka_server_replicamanager_leadercount",
        "vitrina_api_request_seconds_bucket",
    }


def test_exposed_names_expand_counter_and_histogram_suffixes() -> None:
    names = exposed_names(
        [
            ("vitrina_a_messages", "counter"),
            ("vitrina_b_seconds", "histogram"),
            ("vitrina_c_rows", "gauge"),
        ]
    )
    assert {
        "vitrina_a_messages_total",
        "vitrina_b_seconds_bucket",
        "vitrina_b_seconds_count",
        "vitrina_c_rows",
    } <= names
    assert "vitrina_a_messages" not in names


def test_unknown_metrics_reports_a_typo(registry_names: set[str]) -> None:
    bad = unknown_metrics(["rate(vitrina_worker_consumd_messages_total[5m])"], registry_names)
    assert bad == {
        "rate(vitrina_worker_consumd_messages_total[5m])": {"vitrina_worker_consumd_messages_total"}
    }


def test_the_registry_holds_the_worker_metrics(registry_names: set[str]) -> None:
    for name in (
        "vitrina_worker_broker_up",
        "vitrina_worker_consumer_lag_messages",
        "vitrina_worker_processing_seconds_bucket",
        "vitrina_api_requests_total",
    ):
        assert name in registry_names


def test_alert_rules_reference_only_existing_metrics(registry_names: set[str]) -> None:
    exprs = rule_expressions()
    assert len(exprs) >= 10
    assert unknown_metrics(exprs, registry_names) == {}


def test_dashboards_reference_only_existing_metrics(registry_names: set[str]) -> None:
    exprs = [e for board in committed_dashboards().values() for e in expressions(board)]
    assert len(exprs) >= 30
    assert unknown_metrics(exprs, registry_names) == {}


def test_kafka_rules_and_dashboards_use_jmx_exporter_names() -> None:
    used = {n for e in rule_expressions() for n in referenced_metrics(e) if n.startswith("kafka_")}
    assert used and used <= JMX_EXPORTER_METRICS


def test_committed_dashboards_are_the_generated_ones() -> None:
    assert committed_dashboards() == all_dashboards(), (
        "run `vitrina monitoring dashboards` and commit deploy/grafana/dashboards"
    )


def test_the_four_dashboards_are_well_formed() -> None:
    boards = committed_dashboards()
    assert {b["title"] for b in boards.values()} == {
        "Vitrina · Kafka cluster",
        "Vitrina · Pipeline flow",
        "Vitrina · APIs",
        "Vitrina · Analytics and lake",
    }
    for board in boards.values():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), board["uid"]
        cells = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in board["panels"]]
        assert len(cells) == len(set(cells)), f"overlapping panels in {board['uid']}"
        for panel in board["panels"]:
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    prov = ROOT / "deploy" / "grafana" / "provisioning"
    datasource = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["type"] == "prometheus"
    # Dashboards select their datasource by this uid (the ${datasource} variable's default).
    assert datasource["datasources"][0]["uid"] == "prometheus"
    provider = yaml.safe_load((prov / "dashboards" / "vitrina.yml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"]


# The unlabelled vitrina_* gauges each service's process may export (as 0 before it sets
# them). Any other process exporting one made alerts fire for the wrong job: every service
# served vitrina_analytics_last_success_timestamp_seconds 0, so VitrinaAnalyticsStale fired
# for the filter, the indexer, the lake sink and the traffic generator.
OWN_GAUGES = {
    "filter": {"vitrina_filter_ban_list_size"},
    "lake-sink": {"vitrina_lake_buffered_rows"},
    "analytics": {
        "vitrina_analytics_last_success_timestamp_seconds",
        "vitrina_analytics_recommended_users",
        "vitrina_analytics_model_share",
    },
}


def test_each_service_process_exports_only_its_own_unlabelled_gauges() -> None:
    import subprocess
    import sys

    from vitrina.services import SERVICES

    probe = (
        "import importlib, sys\n"
        "importlib.import_module(sys.argv[1])\n"
        "from prometheus_client import REGISTRY\n"
        "print('\\n'.join(s.name for f in REGISTRY.collect() if f.type == 'gauge'"
        " for s in f.samples if not s.labels and s.name.startswith('vitrina_')))\n"
    )
    exported = {}
    for spec in SERVICES:
        module = spec.target.split(":")[0]
        out = subprocess.run(
            [sys.executable, "-c", probe, module], capture_output=True, text=True, check=True
        ).stdout
        exported[spec.name] = set(out.split())
    assert exported == {spec.name: OWN_GAUGES.get(spec.name, set()) for spec in SERVICES}


def test_the_model_share_says_nothing_before_a_run_has_checked_the_model() -> None:
    """vitrina_analytics_model_share == 0 for 6 h fires VitrinaRecommenderOnPopularity: before
    any run (an empty lake, failing runs) the gauge is NaN, which no comparison matches, not
    the 0 that means "popularity alone"."""
    import subprocess
    import sys

    probe = (
        "import vitrina.services.analytics_scheduler\n"
        "from prometheus_client import REGISTRY\n"
        "print(REGISTRY.get_sample_value('vitrina_analytics_model_share'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "nan"
