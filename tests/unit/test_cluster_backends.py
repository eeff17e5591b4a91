"""`vitrina cluster up` finds HDFS, OpenSearch and S3 in its topology, on ports of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vitrina.cluster import topology
from vitrina.cluster.hdfs import HdfsCluster
from vitrina.cluster.opensearch import MODULES, OpenSearchNode, _module_of
from vitrina.cluster.s3 import S3Server


def test_backends_join_the_topology_on_distinct_ports(tmp_path: Path) -> None:
    plan = topology.Plan(data_dir=tmp_path)
    found = topology.components(plan, only=["hdfs", "opensearch", "s3"])
    by_type = {type(c): c for c in found}
    hdfs, node, s3 = by_type[HdfsCluster], by_type[OpenSearchNode], by_type[S3Server]
    assert all(c.root == plan.root for c in (hdfs, node, s3))  # type: ignore[attr-defined]
    ports = [*vars(hdfs.ports).values(), node.http_port, node.transport_port, s3.port]
    kafka = {getattr(p, f) for p in (*plan.primary_ports, *plan.mirror_ports) for f in vars(p)} | {
        plan.mm2_metrics_port
    }
    assert len(ports) == len(set(ports)) and not set(ports) & kafka


def test_hdfs_config_serves_webhdfs_on_loopback(tmp_path: Path) -> None:
    props = HdfsCluster(tmp_path).site_properties()["hdfs-site.xml"]
    assert props["dfs.webhdfs.enabled"] == "true"
    assert props["dfs.namenode.http-address"].startswith("127.0.0.1:")
    assert props["dfs.datanode.hostname"] == "127.0.0.1"  # WebHDFS redirects go there


def test_opensearch_modules_take_their_jars_out_of_lib() -> None:
    assert _module_of("netty-codec-http-4.1.135.Final.jar") == "transport-netty4"
    assert _module_of("analysis-common-2.19.6.jar") == "analysis-common"
    assert _module_of("lucene-core-9.12.3.jar") is None  # the server's lib/
    assert set(MODULES) == {"transport-netty4", "analysis-common"}


def test_profile_keeps_lake_and_search_embedded_when_cluster_up_never_set_them_up(
    tmp_path: Path,
) -> None:
    from vitrina.cluster.storage import profile_overrides

    assert profile_overrides(topology.Plan(data_dir=tmp_path)) == {}


def test_profile_keeps_lake_and_search_sections_when_their_servers_are_down_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Operator review: `cluster up --only kafka` (restarting a broker) with HDFS and
    OpenSearch down wrote a profile without `lake` and `search`, silently; the platform then
    wrote the lake to local disk and searched an empty embedded index."""
    import yaml

    from vitrina.cli.cluster import write_profile

    plan = topology.Plan.at(tmp_path, 41092)  # nothing listens there
    # What `cluster up` leaves once it has set them up: a formatted NameNode, a laid-out node.
    version = plan.root / "hdfs" / "name" / "current" / "VERSION"
    version.parent.mkdir(parents=True)
    version.write_text("namespaceID=1\n")
    config = plan.root / "opensearch" / "config" / "opensearch.yml"
    config.parent.mkdir(parents=True)
    config.write_text("cluster.name: vitrina\n")

    profile = yaml.safe_load(Path(write_profile(plan)).read_text())
    out = capsys.readouterr().out
    assert profile["lake"]["backend"]["type"] == "webhdfs"
    assert profile["lake"]["backend"]["url"].startswith("webhdfs://127.0.0.1:")
    assert profile["search"]["backend"] == {
        "type": "opensearch",
        "url": f"http://127.0.0.1:{plan.opensearch_http_port}",
    }
    assert "warning: hdfs does not answer" in out
    # the ops view and `up --monitoring` ask the cluster's Prometheus
    # the platform on the cluster serves where the cluster's Prometheus scrapes it, and the
    # ops view and `up --monitoring` ask that Prometheus
    assert profile["ports"] == {
        **plan.service_ports,
        "prometheus": plan.prometheus_port,
        "alertmanager": plan.alertmanager_port,
    }
    assert profile["ports"]["client_api"] == 41400  # moved with the base port (41092)
    assert "warning: opensearch does not answer" in out


def _ports_by_component(plan: topology.Plan) -> dict[str, set[int]]:
    """Every port each component of `plan` listens on, read from the components themselves."""
    found: dict[str, Any] = {c.name: c for c in topology.components(plan)}

    def kafka(cluster: Any) -> set[int]:
        return {p for n in cluster.ports for p in (n.client, n.internal, n.controller, n.jmx) if p}

    return {
        "kafka": kafka(found["kafka"]),
        "kafka-mirror": kafka(found["kafka-mirror"]),
        "mirrormaker": {found["mirrormaker"].metrics_port},
        "monitoring": {found["monitoring"].prometheus_port, found["monitoring"].alertmanager_port},
        "hdfs": set(vars(found["hdfs"].ports).values()),
        "opensearch": {found["opensearch"].http_port, found["opensearch"].transport_port},
        "s3": {found["s3"].port},
    }


def test_every_port_follows_the_base_port_so_two_topologies_share_no_port(tmp_path: Path) -> None:
    """Operator review of 9d56bff: `cluster up --base-port` moved Kafka, MirrorMaker 2 and the
    monitoring but not HDFS, OpenSearch and S3, so a second topology collided on those."""
    default = _ports_by_component(topology.Plan.at(tmp_path))
    moved = _ports_by_component(topology.Plan.at(tmp_path, 31092))
    taken = set().union(*default.values())
    for name, ports in moved.items():
        assert ports.isdisjoint(taken), (name, sorted(ports & taken))
    every = [port for ports in moved.values() for port in ports]
    assert len(every) == len(set(every)), sorted(every)


def test_the_default_base_port_keeps_the_backends_documented_ports(tmp_path: Path) -> None:
    ports = _ports_by_component(topology.Plan.at(tmp_path))
    assert ports["hdfs"] == {29020, 29870, 29866, 29864, 29867}
    assert ports["opensearch"] == {29200, 29300}
    assert ports["s3"] == {29500}


def test_a_base_port_that_would_push_a_port_out_of_range_is_refused(tmp_path: Path) -> None:
    from vitrina.cluster.process import ClusterError

    for base in (1000, 65000):
        with pytest.raises(ClusterError, match="--base-port"):
            topology.Plan.at(tmp_path, base)
