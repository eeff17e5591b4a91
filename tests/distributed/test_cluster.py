"""The secured cluster itself: RF 3 / min.insync 2, SASL_SSL + SCRAM, deny by default."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from tests.distributed.conftest import SecuredCluster

from vitrina.kafka.admin import admin_client, apply_topics, describe_topics
from vitrina.kafka.clients import consumer_config, producer_config

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


def test_three_brokers_an_active_controller_and_topics_as_code(
    healthy_cluster: SecuredCluster,
) -> None:
    info = healthy_cluster.kafka.describe()
    assert info["brokers"] == [1, 2, 3]
    assert info["controller"] in (1, 2, 3)
    suffix = uuid.uuid4().hex[:6]
    settings = healthy_cluster.settings_for("admin", topics={"orders": f"orders-{suffix}"})
    apply_topics(settings)
    state = describe_topics(admin_client(settings), [f"orders-{suffix}"])[f"orders-{suffix}"]
    assert state.replication_factor == 3
    assert state.configs.get("min.insync.replicas") == "2"


def test_admin_round_trip_over_sasl_ssl(healthy_cluster: SecuredCluster) -> None:
    topic = f"roundtrip-{uuid.uuid4().hex[:6]}"
    settings = healthy_cluster.admin_settings
    from confluent_kafka.admin import NewTopic

    admin = admin_client(settings)
    admin.create_topics([NewTopic(topic, 1, 3)])[topic].result(timeout=30)
    producer = Producer(producer_config(settings, "admin"))
    producer.produce(topic, key=b"k", value=b"v", headers=[("h", b"1")])
    assert producer.flush(30) == 0
    consumer = Consumer(consumer_config(settings, "admin", f"vitrina-admin-{topic}"))
    consumer.subscribe([topic])
    try:
        msg = None
        for _ in range(60):
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                break
        assert msg is not None and msg.value() == b"v" and msg.headers() == [("h", b"1")]
    finally:
        consumer.close()


def test_a_principal_without_acls_is_refused(healthy_cluster: SecuredCluster) -> None:
    """allow.everyone.if.no.acl.found=false: a valid SCRAM user with no ACL sees nothing."""
    settings = healthy_cluster.settings_for("traffic")
    admin = admin_client(settings)
    from confluent_kafka.admin import NewTopic

    futures = admin.create_topics([NewTopic(f"denied-{uuid.uuid4().hex[:6]}", 1, 3)])
    with pytest.raises(KafkaException) as info:
        next(iter(futures.values())).result(timeout=30)
    assert info.value.args[0].code() in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    )


def test_a_taken_port_is_a_clear_error_and_nothing_is_left_running(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Regression: a port taken by another process made node 1 die with a Java bind trace
    while nodes 2 and 3 kept running."""
    import socket

    from tests.distributed.conftest import free_node_ports

    from vitrina.cluster.kafka import KafkaCluster
    from vitrina.cluster.process import ClusterError

    ports = list(free_node_ports(3))
    cluster = KafkaCluster("kafka", tmp_path, ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0].client))
        sock.listen()
        with pytest.raises(ClusterError) as info:
            cluster.start()
    assert f"port(s) {ports[0].client}" in info.value.message
    assert "already taken" in info.value.message
    assert all(cluster.process(n).pid() is None for n in (1, 2, 3))


def test_the_brokers_export_every_kafka_metric_the_rules_and_dashboards_may_use(
    healthy_cluster: SecuredCluster,
) -> None:
    """JMX_EXPORTER_METRICS is the list the rule and dashboard checks take kafka_* names
    from (tests/unit/test_monitoring_metrics.py): every name in it must come out of the
    brokers' own exporter agents, with the committed rules (deploy/kafka/jmx-exporter.yml)."""
    import urllib.request

    from vitrina.monitoring.promql import JMX_EXPORTER_METRICS

    exported: set[str] = set()
    for ports in healthy_cluster.plan.primary_ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports.jmx}/metrics", timeout=30) as r:
            text = r.read().decode()
        exported |= {
            line.split("{", 1)[0].split(" ", 1)[0]
            for line in text.splitlines()
            if line and not line.startswith("#")
        }
    assert sorted(JMX_EXPORTER_METRICS - exported) == []
