"""The secured 3-node Apache Kafka cluster (production topology), once per test session.

`secured_cluster` yields a `SecuredCluster`: the bootstrap, the secrets folder written by
`security init`, `settings_for(principal)` (Settings of a service principal with its own
password), `admin_settings`, and `kill(node)` / `restart(node)` for failure tests. Tests that
kill a node must `restart` it before they end (the next test expects 3 nodes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port, wait_for

from vitrina.cluster import topology
from vitrina.cluster.kafka import KafkaCluster, NodePorts
from vitrina.settings import Settings


def free_node_ports(count: int) -> tuple[NodePorts, ...]:
    return tuple(
        NodePorts(free_port(), free_port(), free_port(), free_port()) for _ in range(count)
    )


@dataclass
class SecuredCluster:
    plan: topology.Plan
    kafka: KafkaCluster

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def secrets(self) -> Path:
        return self.plan.secrets

    def settings_for(
        self, principal: str, data_dir: Path | None = None, **overrides: Any
    ) -> Settings:
        """Settings of `principal` (e.g. "filter") on the cluster: SASL_SSL, its password."""
        return topology.settings_for(
            self.kafka,
            principal,
            data_dir or self.plan.data_dir / "services" / principal,
            **overrides,
        )

    @property
    def admin_settings(self) -> Settings:
        return self.settings_for("admin")

    def pid(self, node: int) -> int | None:
        return self.kafka.process(node).pid()

    def kill(self, node: int) -> None:
        """kill -9 node 1..3."""
        self.kafka.kill(node)

    def restart(self, *nodes: int, timeout: float = 120.0) -> None:
        """Start killed nodes again, all at once (two nodes of three down have no controller
        quorum: one by one, the first waits for the second), and wait until no partition is
        under-replicated."""
        procs = [self.kafka.process(node) for node in nodes]
        for node, proc in zip(nodes, procs, strict=True):
            self.kafka._write_properties(node)  # as start_node does
            proc.launch()
        for proc in procs:
            proc.wait_ready()
        wait_for(
            lambda: self.kafka.describe()["under_replicated"] == 0,
            timeout=timeout,
            interval=1.0,
            message=f"node(s) {nodes} to catch up (no under-replicated partition)",
        )

    def healthy(self) -> bool:
        info = self.kafka.describe()
        return info["brokers"] == [1, 2, 3] and info["under_replicated"] == 0


@pytest.fixture(scope="session")
def secured_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredCluster]:
    data_dir = tmp_path_factory.mktemp("cluster")
    plan = topology.Plan(
        data_dir=data_dir,
        primary_ports=free_node_ports(3),
        mirror_ports=free_node_ports(1),
        mm2_metrics_port=free_port(),
    )
    topology.ensure_secrets(plan)
    cluster = topology.primary(plan)
    try:
        cluster.start()
        yield SecuredCluster(plan, cluster)
    finally:
        cluster.stop()


@pytest.fixture
def healthy_cluster(secured_cluster: SecuredCluster) -> SecuredCluster:
    """The session cluster, with all three nodes back (a failed test may have left one down)."""
    down = [node for node in (1, 2, 3) if secured_cluster.pid(node) is None]
    if down:
        secured_cluster.restart(*down)
    return secured_cluster
