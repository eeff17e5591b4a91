"""Analytics on the HDFS lake: DuckDB (through the fsspec WebHDFS filesystem, no DuckDB
extension downloaded) and Spark local[2] (its own Hadoop client over the NameNode's RPC port,
`hdfs://host:port/…`: pyspark's shaded Hadoop client cannot speak WebHDFS)
produce the same outputs, as they do on a local folder (test_analytics_engines.py).
The two engines' times are printed for the closing note, not asserted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.backends.conftest import S3_KEYS
from tests.integration.test_analytics_engines import SPARK_CONF, _same

from vitrina.analytics.definitions import OUTPUTS, Params
from vitrina.analytics.job import compute
from vitrina.analytics.synthetic import write_generated_lake
from vitrina.cluster.hdfs import HdfsCluster
from vitrina.cluster.s3 import S3Server
from vitrina.lake.writer import LakeWriter
from vitrina.settings import load_settings

pytestmark = [pytest.mark.slow]


@pytest.mark.spark
def test_duckdb_and_spark_agree_on_the_hdfs_lake(hdfs: HdfsCluster, tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pip install 'vitrina[spark]' for the Spark engine")
    settings = load_settings(
        data_dir=tmp_path,
        analytics={"spark_master": "local[2]"},
        lake={
            "backend": {
                "type": "webhdfs",
                "user": hdfs.user,
                "url": f"{hdfs.webhdfs_url}/vitrina/analytics-{tmp_path.name}/lake",
                "rpc_url": hdfs.hdfs_url,
            }
        },
    )
    info = write_generated_lake(
        LakeWriter.from_settings(settings), products=150, customer_count=30, messages=2500
    )
    params = Params(as_of=info["end"].timestamp())
    started = time.monotonic()
    duck = compute(settings, params, engine_name="duckdb")
    duck_s = time.monotonic() - started
    started = time.monotonic()
    spark = compute(
        settings,
        params,
        engine_name="spark",
        engine_options={"conf": SPARK_CONF, "stop_on_close": True},
    )
    spark_s = time.monotonic() - started
    print(
        f"\nHDFS lake, 2500 messages: DuckDB {duck_s:.2f} s, Spark local[2] {spark_s:.2f} s "
        f"(including its JVM start)"
    )
    assert set(duck) == set(spark) == set(OUTPUTS)
    for name in OUTPUTS:
        left, right = duck[name].to_pylist(), spark[name].to_pylist()
        assert left, f"{name} is empty: the comparison would prove nothing"
        assert len(left) == len(right), name
        assert duck[name].column_names == spark[name].column_names, name
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            diffs = {k: (a[k], b[k]) for k in a if not _same(a[k], b[k])}
            assert not diffs, f"{name} row {i}: {diffs}"


def test_duckdb_on_the_s3_lake_matches_the_local_lake(s3: S3Server, tmp_path: Path) -> None:
    """DuckDB reads s3:// through the registered s3fs filesystem: no httpfs extension is
    downloaded at run time, and the outputs equal those of the same lake on a local disk."""
    remote = load_settings(
        data_dir=tmp_path / "s3",
        lake={
            "backend": {
                "type": "s3",
                "url": f"s3://{s3.buckets[0]}/analytics-{tmp_path.name}/lake",
                "endpoint_url": s3.endpoint_url,
                **S3_KEYS,
            }
        },
    )
    local = load_settings(data_dir=tmp_path / "local")
    outputs = []
    for settings in (local, remote):
        info = write_generated_lake(
            LakeWriter.from_settings(settings), products=100, customer_count=20, messages=1000
        )
        outputs.append(
            compute(settings, Params(as_of=info["end"].timestamp()), engine_name="duckdb")
        )
    for name in OUTPUTS:
        assert outputs[0][name].num_rows > 0, name
        assert outputs[0][name].to_pylist() == outputs[1][name].to_pylist(), name
