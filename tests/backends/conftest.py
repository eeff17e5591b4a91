"""The distributed profile's storage and search servers, one of each per test session.

HDFS (NameNode + DataNode) and OpenSearch run from Maven Central jars, S3 is moto's server;
all on 127.0.0.1 on free ports, started on first use and stopped by PID at the end. A server
that cannot run here (no Java, Maven cannot resolve, an extra not installed) skips its tests
with the reason instead of failing every one of them.
"""

from __future__ import annotations

import importlib.util
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port

from vitrina.cluster.hdfs import HdfsCluster, HdfsPorts
from vitrina.cluster.opensearch import OpenSearchNode
from vitrina.cluster.process import ClusterError
from vitrina.cluster.s3 import S3Server
from vitrina.errors import VitrinaError

LAKE_TYPES = ("file", "webhdfs", "s3")
S3_KEYS = {"access_key": "vitrina-test", "secret_key": "vitrina-test-secret"}


def _need_java() -> None:
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("needs Java 17 and Maven (the servers' jars come from Maven Central)")


def _start(component: Any) -> None:
    try:
        component.start()
    except VitrinaError as exc:
        component.stop()
        if isinstance(exc, ClusterError):
            raise  # it resolved but did not run: a real failure
        pytest.skip(f"{component.name} cannot be set up here: {exc}")


@pytest.fixture(scope="session")
def hdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HdfsCluster]:
    _need_java()
    cluster = HdfsCluster(
        tmp_path_factory.mktemp("hdfs"), ports=HdfsPorts(*(free_port() for _ in range(5)))
    )
    _start(cluster)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if importlib.util.find_spec("s3fs") is None or importlib.util.find_spec("moto") is None:
        pytest.skip("needs the s3 extra: pip install 'vitrina[s3]'")
    server = S3Server(tmp_path_factory.mktemp("s3"), port=free_port())
    _start(server)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def opensearch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSearchNode]:
    _need_java()
    if importlib.util.find_spec("opensearchpy") is None:
        pytest.skip("needs the opensearch extra: pip install 'vitrina[opensearch]'")
    node = OpenSearchNode(
        tmp_path_factory.mktemp("opensearch"), http_port=free_port(), transport_port=free_port()
    )
    _start(node)
    yield node
    node.stop()


def lake_overrides(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """`lake.backend` settings of a fresh, empty lake of one kind (unique root per test)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    if kind == "file":
        return {"type": "file", "url": (tmp_path / "lake").as_uri()}
    if kind == "webhdfs":
        cluster: HdfsCluster = request.getfixturevalue("hdfs")
        return {
            "type": "webhdfs",
            "url": f"{cluster.webhdfs_url}/vitrina/{name}/lake",
            "user": cluster.user,
        }
    server: S3Server = request.getfixturevalue("s3")
    return {
        "type": "s3",
        "url": f"s3://{server.buckets[0]}/{name}/lake",
        "endpoint_url": server.endpoint_url,
        **S3_KEYS,
    }


def lake_env(backend: dict[str, Any]) -> dict[str, str]:
    """The same lake for a `vitrina` subprocess (VITRINA__LAKE__BACKEND__… variables)."""
    return {f"LAKE__BACKEND__{key.upper()}": str(value) for key, value in backend.items()}


@pytest.fixture(params=LAKE_TYPES)
def lake_backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return lake_overrides(request.param, request, tmp_path)
