"""The xdist groups of scripts/test.sh (tests/conftest.py: suite_scope)."""

from __future__ import annotations

from tests.conftest import suite_scope


def test_shared_servers_keep_their_tests_on_one_worker_and_files_stay_whole() -> None:
    cluster = {
        suite_scope("tests/distributed/test_cluster.py::test_admin_round_trip_over_sasl_ssl"),
        suite_scope("tests/distributed/test_mirrormaker.py::test_every_topic_arrives[x]"),
    }
    assert len(cluster) == 1
    backends = suite_scope("tests/backends/test_lake_remote.py::test_a[s3]")
    assert backends == suite_scope("tests/backends/test_search_backends.py::test_b")
    assert backends not in cluster
    first = suite_scope("tests/integration/test_filter.py::test_one")
    assert first == suite_scope("tests/integration/test_filter.py::test_two[a-b]")
    assert first != suite_scope("tests/integration/test_bans.py::test_one")
