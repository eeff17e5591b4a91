"""Settings that point the platform at the HDFS and OpenSearch of `vitrina cluster up`.

`cluster up` writes a profile for services on the native cluster; when the topology has an
HDFS and an OpenSearch (`cluster up` set them up under its data dir), the profile also puts
the lake on WebHDFS (Spark through the NameNode's RPC port) and search on OpenSearch. A
component never set up leaves its part embedded, so a first `cluster up --only kafka` still
gives a working profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vitrina.cluster import hdfs as hdfs_component
from vitrina.cluster import opensearch as opensearch_component

if TYPE_CHECKING:
    from vitrina.cluster.topology import Plan

LAKE_PATH = "/vitrina/lake"


def _has_hdfs(plan: Plan) -> bool:
    """`cluster up` formatted a NameNode here (its metadata is the lake's)."""
    return (hdfs_component.component(plan).home / "name" / "current" / "VERSION").is_file()


def _has_opensearch(plan: Plan) -> bool:
    """`cluster up` laid out an OpenSearch node here (its data is the search index)."""
    return (opensearch_component.component(plan).home / "config" / "opensearch.yml").is_file()


def profile_overrides(plan: Plan) -> dict[str, Any]:
    """`lake` / `search` profile sections for the components `plan`'s topology has, on the
    ports `plan` gave them (a moved --base-port moves them too).

    Whether they answer right now does not matter: `cluster up --only kafka` (restarting a
    broker) while HDFS was down wrote a profile without the lake, and the platform then
    wrote the lake to local disk and searched an empty embedded index, silently."""
    out: dict[str, Any] = {}
    if _has_hdfs(plan):
        hdfs = hdfs_component.component(plan)
        out["lake"] = {
            "backend": {
                "type": "webhdfs",
                "url": hdfs.webhdfs_url + LAKE_PATH,
                "user": hdfs.user,
                "rpc_url": hdfs.hdfs_url,
            }
        }
    if _has_opensearch(plan):
        out["search"] = {
            "backend": {"type": "opensearch", "url": opensearch_component.component(plan).url}
        }
    return out


def down_in_profile(plan: Plan) -> list[str]:
    """The components the profile points at (`profile_overrides`) that do not answer now:
    `cluster up` warns, naming them, as services using the profile will fail until they do."""
    down = []
    if _has_hdfs(plan) and not hdfs_component.component(plan).status().answering:
        down.append("hdfs")
    if _has_opensearch(plan) and not opensearch_component.component(plan).status().answering:
        down.append("opensearch")
    return down
