"""Which metrics a PromQL expression references, and which metrics exist.

Used by the tests that keep dashboards and alert rules honest: every `vitrina_*` name must be
in the metric registry (`vitrina.metrics` plus whatever the service modules register), every
`kafka_*` name in `JMX_EXPORTER_METRICS`. Pure functions over strings, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names the Prometheus JMX exporter produces for Kafka brokers with the exporter's standard
# Kafka rules (github.com/prometheus/jmx_exporter, example_configs/kafka-2_0_0.yml:
# `kafka.<type><>Value` → `kafka_<type>_<name>_<attribute>` lower-cased, `…Count` for
# meters). The distributed compose stack runs that agent on every broker (port 7071).
JMX_EXPORTER_METRICS: frozenset[str] = frozenset(
    {
        "kafka_server_replicamanager_underreplicatedpartitions",
        "kafka_server_replicamanager_partitioncount",
        "kafka_server_replicamanager_leadercount",
        "kafka_server_replicamanager_isrshrinks_total",
        "kafka_server_replicamanager_isrexpands_total",
        "kafka_controller_kafkacontroller_offlinepartitionscount",
        "kafka_controller_kafkacontroller_activecontrollercount",
        # KRaft: kafka.controller:type=KafkaController,name=FencedBrokerCount (brokers the
        # active controller has fenced, e.g. killed ones); KafkaBrokerDown uses it.
        "kafka_controller_kafkacontroller_fencedbrokercount",
        "kafka_server_brokertopicmetrics_messagesin_total",
        "kafka_server_brokertopicmetrics_bytesin_total",
        "kafka_server_brokertopicmetrics_bytesout_total",
    }
)

_NAME = re.compile(r"(?<![A-Za-z0-9_:])((?:vitrina|kafka)_[A-Za-z0-9_:]*)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
# Grouping / matching label lists: by (…), without (…), on (…), ignoring (…), group_x (…).
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")


def referenced_metrics(expr: str) -> set[str]:
    """The vitrina_* and kafka_* metric names an expression uses (label names excluded)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("{}", text)
    text = _LABEL_LIST.sub("", text)
    return set(_NAME.findall(text))


def exposed_names(families: Iterable[tuple[str, str]]) -> set[str]:
    """Sample names Prometheus sees for (family name, type) pairs from a client registry."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
        "stateset": ("",),
        "enum": ("",),
    }
    names: set[str] = set()
    for name, kind in families:
        for suffix in suffixes.get(kind, ("",)):
            names.add(name + suffix)
    return names


def unknown_metrics(exprs: Iterable[str], known: set[str]) -> dict[str, set[str]]:
    """Map expression → the names it references that are neither known nor JMX exporter ones."""
    bad: dict[str, set[str]] = {}
    for expr in exprs:
        missing = {
            name
            for name in referenced_metrics(expr)
            if name not in known and name not in JMX_EXPORTER_METRICS
        }
        if missing:
            bad[expr] = missing
    return bad
