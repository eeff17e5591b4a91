"""The native cluster's generated configuration (no JVM started here)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.support import run_vitrina

from vitrina.cluster import topology
from vitrina.cluster.kafka import KafkaCluster, NodePorts, ports_from_base
from vitrina.cluster.mirrormaker import MirrorMaker


def _all_ports(plan: topology.Plan) -> list[int]:
    nodes = [*plan.primary_ports, *plan.mirror_ports]
    ports = [p for n in nodes for p in (n.client, n.internal, n.controller, n.jmx) if p]
    return [*ports, plan.mm2_metrics_port, plan.prometheus_port, plan.alertmanager_port]


def test_every_port_of_the_topology_is_distinct() -> None:
    """Regression: Alertmanager was given 29093, node 1's internal listener."""
    for base in (29092, 31092):
        ports = _all_ports(topology.Plan.at(Path("/tmp/x"), base))
        assert len(ports) == len(set(ports)), sorted(ports)
        assert min(ports) == base


def test_cluster_profile_matches_the_default_plan() -> None:
    import yaml

    profile = yaml.safe_load(
        (Path(topology.__file__).parents[1] / "profiles" / "cluster.yaml").read_text()
    )
    assert (
        profile["kafka"]["bootstrap_servers"]
        == topology.primary(topology.Plan.at(Path("/tmp/x"))).bootstrap
    )


def test_secured_node_properties(tmp_path: Path) -> None:
    cluster = KafkaCluster("kafka", tmp_path, ports_from_base(40000, 3), secrets=tmp_path / "s")
    props = cluster.server_properties(2)
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:40002,2@127.0.0.1:40012,3@127.0.0.1:40022"
    )
    assert props["listener.security.protocol.map"] == (
        "INTERNAL:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL"
    )
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:broker;User:admin"
    assert props["min.insync.replicas"] == "2" and props["default.replication.factor"] == "3"
    assert props["unclean.leader.election.enable"] == "false"
    assert props["ssl.keystore.location"].endswith("kafka-2.keystore.pem")
    assert props["log.dirs"] == str(tmp_path / "kafka" / "node-2" / "data")


def test_single_plaintext_node(tmp_path: Path) -> None:
    cluster = KafkaCluster("broker", tmp_path, [NodePorts(19092, 1, 2)])
    props = cluster.server_properties(1)
    assert "authorizer.class.name" not in props
    assert props["min.insync.replicas"] == "1" and props["offsets.topic.replication.factor"] == "1"
    assert cluster.protocol == "PLAINTEXT"


def test_mirrormaker_properties_escape_regexes_and_keep_passwords_out(tmp_path: Path) -> None:
    a = KafkaCluster("kafka", tmp_path, ports_from_base(40000, 3), secrets=tmp_path / "s")
    b = KafkaCluster(
        "kafka-mirror",
        tmp_path,
        ports_from_base(40100, 1),
        secrets=tmp_path / "s",
        host_prefix="kafka-mirror",
    )
    mm2 = MirrorMaker(a, b, tmp_path, topics=r"orders\..*")
    props = mm2.properties()
    assert props["replication.policy.class"].endswith("IdentityReplicationPolicy")
    assert props["sync.group.offsets.enabled"] == "true"
    assert props["replication.factor"] == "1"
    # Heartbeats only for the flow that runs: the disabled one's made an RF-1 topic on A.
    assert props["mirror->primary.emit.heartbeats.enabled"] == "false"
    text = mm2.write_config().read_text()
    assert r"primary->mirror.topics=orders\\..*" in text
    assert "${dir:" in text and 'password="${dir:' in text


def test_cluster_status_when_nothing_runs(tmp_path: Path) -> None:
    env = {**os.environ, "VITRINA__DATA_DIR": str(tmp_path)}
    result = run_vitrina("cluster", "status", "--base-port", "41092", env=env, timeout=120)
    assert result.returncode == 1
    assert "kafka" in result.stdout and "down" in result.stdout
    assert "Traceback" not in result.stderr


def test_down_purge_removes_every_components_data_and_names_it(tmp_path: Path) -> None:
    """Operator review: `down --purge` left hdfs/ and opensearch/ behind, so after `cluster
    up` again Kafka was empty but the index and the lake held the old cluster's data."""
    root = tmp_path / "cluster"
    data = ["kafka", "kafka-mirror", "mirrormaker", "monitoring", "hdfs", "opensearch"]
    for name in data:
        (root / name / "data").mkdir(parents=True)
        (root / name / "data" / "file").write_text("x")
    (root / "logs").mkdir()
    (tmp_path / "secrets" / "kafka").mkdir(parents=True)
    env = {**os.environ, "VITRINA__DATA_DIR": str(tmp_path)}
    result = run_vitrina("cluster", "down", "--purge", "--base-port", "41092", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["logs"]
    assert (tmp_path / "secrets" / "kafka").is_dir()
    removed = result.stdout.split("data removed under", 1)[1]
    assert all(name in removed for name in data), result.stdout


def _cluster_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VITRINA__DATA_DIR": str(data_dir), "COLUMNS": "300"}
    return run_vitrina("cluster", *args, env=env, timeout=120)


def test_status_and_up_without_base_port_use_the_one_the_cluster_was_created_with(
    tmp_path: Path,
) -> None:
    """Operator review: `cluster status` without --base-port asked the default ports and
    called a cluster made with --base-port 33092 down; `cluster up` with another base port
    refused without saying which one to give."""
    import json
    from dataclasses import asdict

    home = tmp_path / "cluster" / "kafka"
    home.mkdir(parents=True)
    ports = [asdict(p) for p in ports_from_base(41092, 3)]
    (home / "cluster.json").write_text(json.dumps({"cluster_id": "x" * 22, "ports": ports}))

    status = _cluster_cli(tmp_path, "status")
    assert "127.0.0.1:41092" in status.stdout and "29092" not in status.stdout, status.stdout
    refused = _cluster_cli(tmp_path, "up", "--only", "kafka", "--base-port", "42092")
    assert refused.returncode != 0
    assert "--base-port 41092" in refused.stdout + refused.stderr


def test_a_cluster_id_that_starts_with_a_dash_still_formats(tmp_path: Path) -> None:
    """CI failure on 5212e79: one cluster id in 64 starts with "-", and `kafka-storage format
    -t -Xyz…` read it as an option ("argument --cluster-id/-t: expected one argument"), so the
    embedded broker failed to start in a fresh data dir. Uses the real storage tool (the jars
    `vitrina cluster install` fetched)."""
    cluster = KafkaCluster("broker", tmp_path, [NodePorts(19092, 19093, 19094)], strict_ports=False)
    cluster._cluster_id = "-" + "A" * 21
    cluster._format(1)
    meta = (cluster.node_dir(1) / "data" / "meta.properties").read_text()
    assert f"cluster.id={cluster._cluster_id}" in meta


def test_new_cluster_ids_never_start_with_a_dash() -> None:
    from vitrina.cluster.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)


def test_cluster_up_only_takes_commas_and_refuses_an_unknown_component(tmp_path: Path) -> None:
    # `vitrina cluster up --only kafka,kafka-mirror,mirrormaker` started nothing and printed
    # "cluster up": the one item "kafka,kafka-mirror,mirrormaker" matched no component.
    from typer.testing import CliRunner

    from vitrina.cli.main import app
    from vitrina.cluster import topology
    from vitrina.cluster.process import ClusterError

    plan = topology.Plan.at(tmp_path, 29092)
    names = [c.name for c in topology.components(plan, ["kafka,kafka-mirror", "mirrormaker"])]
    assert names == ["kafka", "kafka-mirror", "mirrormaker"]
    with pytest.raises(ClusterError, match="no cluster component named kafak"):
        topology.components(plan, ["kafak"])
    result = CliRunner().invoke(
        app, ["cluster", "up", "--only", "kafak"], env={"VITRINA__DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code != 0
    assert "no cluster component named kafak" in result.output
    assert not (tmp_path / "secrets").exists()  # refused before anything was done


def test_the_active_controller_is_found_behind_slow_jmx_exporters(tmp_path: Path) -> None:
    # On the loaded cluster a JMX exporter scrape took 3-6 s; asked one after another with
    # 2 s each, `vitrina cluster status` said "controller None" while node 1 was it.
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    def exporter(active: bool) -> ThreadingHTTPServer:
        class Slow(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(2.5)
                body = f"kafka_controller_kafkacontroller_activecontrollercount {float(active)}\n"
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    servers = [exporter(active=node == 3) for node in (1, 2, 3)]
    try:
        ports = [NodePorts(1, 2, 3, s.server_address[1]) for s in servers]
        cluster = KafkaCluster("kafka", tmp_path, ports)
        started = time.monotonic()
        assert cluster.active_controller() == 3
        assert time.monotonic() - started < 6.0  # asked at once, not one after another
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def test_mirror_lag_counts_what_mm2_has_not_copied_not_end_offset_differences() -> None:
    # Seen on the cluster after MM2 kills: B held 250k more shop-products records than A
    # (re-copies) while MM2 was still 41k behind, and A's filtered-products ended 659k
    # offsets past B's (commit markers, never copied) with nothing left to copy; the end
    # offset difference said 0 for the first and 659k for the second.
    from vitrina.cluster.mirrormaker import topic_lag

    ends = {"shop-products": {0: 1000, 1: 500}, "filtered-products": {0: 900}}
    copied = {("shop-products", 0): 899, ("shop-products", 1): 499, ("filtered-products", 0): 897}
    assert topic_lag(ends, copied) == {"shop-products": 100, "filtered-products": 2}
    markers = {("filtered-products", 0)}
    assert topic_lag(ends, copied, markers) == {"shop-products": 100, "filtered-products": 0}
    assert topic_lag({"orders": {0: 7}}, {}) == {"orders": 7}  # nothing copied yet


def test_cluster_ups_last_line_keeps_the_command_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Operator review: the line wrapped at the terminal width inside the command it names."""
    from vitrina.cli import cluster
    from vitrina.cli.common import console

    monkeypatch.setattr(console, "width", 40)
    profile = "/a/rather/long/data/dir/cluster/profile.yaml"
    cluster.print_ready(profile)
    assert f"vitrina --profile {profile} up" in capsys.readouterr().out
