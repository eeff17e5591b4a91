"""Two engines, one definition: DuckDB and Spark give the same outputs on the same lake.

One SparkSession for the module (the JVM takes seconds to start) and a tiny lake.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from vitrina.analytics.definitions import OUTPUTS, Params
from vitrina.analytics.job import compute
from vitrina.analytics.synthetic import (
    add_incarnation,
    add_products,
    copy_records,
    write_generated_lake,
)
from vitrina.lake.writer import LakeWriter
from vitrina.settings import load_settings

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark", reason="pip install 'vitrina[spark]' for the Spark engine")

# 1 shuffle partition: the lake is tiny; more partitions only add task overhead.
SPARK_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false"}
# Float sums run in a different order on each engine; 1e-6 is the precision scores are
# rounded to, so two values may differ by one unit in that last place.
TOLERANCE = 1.5e-6


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=TOLERANCE)
    return bool(a == b)


def test_duckdb_and_spark_produce_identical_outputs(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, analytics={"spark_master": "local[2]"})
    writer = LakeWriter.from_settings(settings)
    info = write_generated_lake(writer, products=150, customer_count=30, messages=2500)
    # Both engines read each file's incarnation from its name and each record once: a
    # second incarnation of the orders (the same offsets again), every event twice.
    add_incarnation(writer, "orders", "b2", "order_id")
    copy_records(writer, "client_events")
    # A category whose stock sums past 64 bits: both engines cap it at the largest BIGINT.
    most = 2**63 - 1
    huge = {**info["catalog"][0], "stock": {"available": most, "reserved": most}}
    add_products(writer, [{**huge, "product_id": f"huge-{n}"} for n in range(2)], info["end"])
    params = Params(as_of=info["end"].timestamp())
    duck = compute(settings, params, engine_name="duckdb")
    spark = compute(
        settings,
        params,
        engine_name="spark",
        engine_options={"conf": SPARK_CONF, "stop_on_close": True},
    )
    assert set(duck) == set(spark) == set(OUTPUTS)
    for name in OUTPUTS:
        left, right = duck[name].to_pylist(), spark[name].to_pylist()
        assert left, f"{name} is empty: the comparison would prove nothing"
        assert len(left) == len(right), name
        assert duck[name].column_names == spark[name].column_names, name
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert a.keys() == b.keys()
            diffs = {k: (a[k], b[k]) for k in a if not _same(a[k], b[k])}
            assert not diffs, f"{name} row {i}: {diffs}"


def test_spark_keeps_its_warehouse_out_of_the_working_directory() -> None:
    """Seen after `make test`: an empty `spark-warehouse/` in the clone's root. Spark creates
    its warehouse directory at the first session, in the working directory unless told
    otherwise, although the engine only ever makes temp views."""
    from vitrina.analytics.spark_engine import SparkEngine

    engine = SparkEngine("local[1]", conf=SPARK_CONF, stop_on_close=True)
    try:
        warehouse = Path(urlparse(engine.spark.conf.get("spark.sql.warehouse.dir")).path)
    finally:
        engine.close()
    assert warehouse.is_relative_to(tempfile.gettempdir()), warehouse
    assert not warehouse.is_relative_to(Path.cwd()), warehouse
