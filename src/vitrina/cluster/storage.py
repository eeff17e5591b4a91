"""Settings that point the platform at the HDFS and OpenSearch of `vitrina cluster up`.

`cluster up` writes a profile for services on the native cluster; when the HDFS and
OpenSearch components answer, the profile also puts the lake on WebHDFS (Spark through the
NameNode's RPC port) and search on OpenSearch. A component that is not running leaves its
part embedded, so `cluster up --only kafka` still gives a working profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vitrina.cluster import hdfs as hdfs_component
from vitrina.cluster import opensearch as opensearch_component

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

LAKE_PATH = "/vitrina/lake"


def profile_overrides(plan: Plan) -> dict[str, Any]:
    """`lake` / `search` profile sections for the components of `plan` that answer, on the
    ports `plan` gave them (a moved --base-port moves them too)."""
    out: dict[str, Any] = {}
    hdfs = hdfs_component.component(plan)
    if hdfs.status().answering:
        out["lake"] = {
            "backend": {
                "type": "webhdfs",
                "url": hdfs.webhdfs_url + LAKE_PATH,
                "user": hdfs.user,
                "rpc_url": hdfs.hdfs_url,
            }
        }
    node = opensearch_component.component(plan)
    if node.status().answering:
        out["search"] = {"backend": {"type": "opensearch", "url": node.url}}
    return out
