"""`vitrina cluster up --base-port N` moves OpenSearch too, and the profile it writes follows.

Operator review of 9d56bff: HDFS, OpenSearch and S3 kept their 29xxx ports under any base
port, and the written profile asked those fixed ports whatever the base. Here the real node
is started as `cluster up` starts it (the topology's own component) on a moved base port.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest
from tests.backends.conftest import _need_java, _start
from tests.conftest import free_port

from vitrina.cluster import opensearch, topology
from vitrina.cluster.storage import profile_overrides

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _plan_with_free_opensearch_ports(data_dir: Path) -> topology.Plan:
    """A plan whose base port puts OpenSearch's HTTP and transport ports on free ports."""
    offset = opensearch.HTTP_PORT - topology.PRIMARY_BASE_PORT
    for _ in range(50):
        plan = topology.Plan.at(data_dir, free_port() - offset)
        if _bindable(plan.opensearch_transport_port):
            return plan
    raise AssertionError("no base port with both OpenSearch ports free")


def test_opensearch_of_a_moved_topology_answers_on_its_port_and_the_profile_points_there(
    tmp_path: Path,
) -> None:
    _need_java()
    if importlib.util.find_spec("opensearchpy") is None:
        pytest.skip("needs the opensearch extra: pip install 'vitrina[opensearch]'")
    plan = _plan_with_free_opensearch_ports(tmp_path)
    (node,) = topology.components(plan, only=["opensearch"])
    assert isinstance(node, opensearch.OpenSearchNode)
    assert node.http_port != opensearch.HTTP_PORT
    _start(node)
    try:
        status = node.status()
        assert status.answering and status.address == f"http://127.0.0.1:{node.http_port}"
        search = profile_overrides(plan)["search"]["backend"]
        assert search == {"type": "opensearch", "url": node.url}
    finally:
        node.stop()
