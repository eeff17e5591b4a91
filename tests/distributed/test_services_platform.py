"""The platform on the secured cluster (issue 11, deliverable 3): `vitrina demo` and
`vitrina up` with the `cluster` profile — every service as its own principal with its own
password, transactions on, RF 3 — end to end: shop load → filter → indexer → lake sink →
client API search, bans, analytics."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.conftest import wait_for
from tests.distributed.conftest import SecuredCluster
from tests.distributed.services_support import (
    VITRINA,
    new_suffix,
    platform_env,
    platform_settings,
    prepare,
    vitrina,
)
from tests.support import private_ports_env

from vitrina.search.embedded import EmbeddedSearch
from vitrina.settings import Settings

pytestmark = [pytest.mark.distributed, pytest.mark.slow]


def cluster_profile_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The `cluster` profile, pointed at the test cluster's ports and a private data dir."""
    # Lake files every second (default 5 s): the demo waits for orders in the lake.
    env = platform_env(
        settings, PROFILE="cluster", ANALYTICS__INTERVAL_S="20", LAKE__FLUSH_SECONDS="1", **extra
    )
    env.update(private_ports_env())
    env["COLUMNS"] = "160"
    return env


@pytest.fixture
def platform(healthy_cluster: SecuredCluster, tmp_path: Path) -> Settings:
    settings = platform_settings(healthy_cluster, tmp_path / "data", new_suffix())
    prepare(healthy_cluster, settings)
    return settings


def test_demo_passes_on_the_cluster_profile(platform: Settings) -> None:
    result = subprocess.run(
        [*VITRINA, "demo", "--duration", "20"],  # no idle padding after the checks
        env=cluster_profile_env(platform),
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "demo: every check passed" in out
    assert "banned product disappears from search" in out
    assert "authentication failed" not in out and "not allowed" not in out


def test_up_serves_search_and_index_rebuild_works_on_the_cluster_profile(
    platform: Settings, tmp_path: Path
) -> None:
    env = cluster_profile_env(platform)
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        up = subprocess.Popen(
            [*VITRINA, "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{env['VITRINA__PORTS__CLIENT_API']}"

    def found() -> bool:
        try:
            response = httpx.get(f"{base}/api/v1/search", params={"q": "часы"}, timeout=5)
        except httpx.HTTPError:
            return False
        body = response.json() if response.status_code == 200 else {}
        return bool(body.get("items") or body.get("hits"))

    try:
        wait_for(found, 240, 1.0, "search results from the platform on the cluster")
    except AssertionError:
        raise AssertionError(log.read_text(errors="replace")[-4000:]) from None
    finally:
        up.send_signal(signal.SIGINT)  # Ctrl-C: everything stops in order
        try:
            up.wait(90)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait(10)
    text = log.read_text(errors="replace")
    assert "authentication failed" not in text and "not allowed" not in text
    assert up.returncode is not None

    # `vitrina index rebuild` on the secured cluster: the indexer's principal and ACLs (READ
    # and DESCRIBE on its group and filtered-products) cover what it calls; the index it
    # leaves holds exactly what the platform had indexed from the same compacted topic.
    before = EmbeddedSearch(platform.search_path, readonly=True)
    indexed = before.product_ids()
    # each stored copy is the bytes of the record the indexer read from Apache Kafka
    stored = {pid: before.get(pid) for pid in indexed}
    before.close()
    assert all(str(product["product_id"]) == pid for pid, product in stored.items())
    result, _ = vitrina(["index", "rebuild", "--json"], env, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    after = EmbeddedSearch(platform.search_path, readonly=True)
    try:
        assert after.product_ids() == indexed
        assert {pid: after.get(pid) for pid in indexed} == stored
    finally:
        after.close()
    assert report["documents"] == len(indexed) > 0, report
    assert "authentication failed" not in result.stderr and "not allowed" not in result.stderr
